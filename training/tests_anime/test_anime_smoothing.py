import os
import re

import numpy as np

from brushcam_anime import smoothing as S

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_constants_are_the_extensions():
    src = open(os.path.join(REPO, "src/filters/anime/avatar-smoother.ts")).read()
    ts = {k: float(re.search(rf"export const AVATAR_{k} = ([\d.]+)", src).group(1)) for k in ("STRENGTH", "SIGMA", "CELL")}
    assert ts == {"STRENGTH": S.STRENGTH, "SIGMA": S.SIGMA, "CELL": S.CELL}


def test_still_face_flicker_is_damped_and_a_changed_region_follows():
    n = 64
    face = np.broadcast_to((0.3 + np.add.outer(np.arange(n), np.arange(n)) / 400)[..., None], (n, n, 3)).astype(np.float32)
    a, b = np.full((n, n, 3), 0.4, np.float32), np.full((n, n, 3), 0.6, np.float32)
    s = S.AvatarSmoother()
    assert np.array_equal(s(face, a), a)
    prev = a
    for k in range(1, 12):
        out = s(face, b if k % 2 else a)
        change = np.abs(out - prev).mean()
        prev = out
    assert change < 0.25 * 0.2     # raw flicker 0.2 a translation
    s.reset()
    s(face, a)
    moved = face.copy()
    moved[n // 2:] += 0.3     # the lower half changes (a mouth opening), the upper half does not
    out = s(moved, b)
    assert np.abs(out[n // 2 + 12:] - b[n // 2 + 12:]).max() < 0.01
    assert abs(out[: n // 2 - 12].mean() - (0.6 - 0.7 * 0.2)) < 0.01

import os
import re

import numpy as np

from brushcam_anime import smoothing as S

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_constants_are_the_extensions():
    src = open(os.path.join(REPO, "src/engine/avatar/avatar-smoother.ts")).read()
    ts = {k: float(re.search(rf"export const AVATAR_{k} = ([\d.]+)", src).group(1)) for k in ("FLOOR", "SIGMA", "CELL")}
    assert ts == {"FLOOR": S.FLOOR, "SIGMA": S.SIGMA, "CELL": S.CELL}


def test_still_face_holds_and_a_changed_region_follows():
    n = 64
    face = np.broadcast_to((0.3 + np.add.outer(np.arange(n), np.arange(n)) / 400)[..., None], (n, n, 3)).astype(np.float32)
    a, b = np.full((n, n, 3), 0.4, np.float32), np.full((n, n, 3), 0.6, np.float32)
    rng = np.random.default_rng(0)
    s = S.AvatarSmoother()
    assert np.array_equal(s(face, a), a)
    for k in range(1, 12):   # raw flicker 0.2 a translation, camera noise under the floor
        out = s(face + rng.uniform(-0.008, 0.008, face.shape).astype(np.float32), b if k % 2 else a)
        assert np.abs(out - a).max() < 1e-6
    s.reset()
    s(face, a)
    moved = face.copy()
    moved[n // 2:] += 0.3     # the lower half changes (a mouth opening), the upper half does not
    out = s(moved, b)
    assert np.abs(out[n // 2 + 12:] - b[n // 2 + 12:]).max() < 0.01
    assert np.abs(out[: n // 2 - 12] - a[: n // 2 - 12]).max() < 1e-6


def test_slow_change_adds_up():
    n = 64
    face = np.full((n, n, 3), 0.4, np.float32)
    a, b = np.full((n, n, 3), 0.2, np.float32), np.full((n, n, 3), 0.8, np.float32)
    s = S.AvatarSmoother()
    s(face, a)
    outs = [s(face + 0.008 * k, b) for k in range(1, 30)]
    assert np.abs(outs[0] - a).max() < 1e-6           # one step alone is held
    assert np.abs(outs[-1] - b).mean() < 0.1          # the sum of them is followed

import os
import re

import cv2
import numpy as np

from brushcam_anime import facelock as FL

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORTRAIT = os.path.join(REPO, "../shared/data/faces/london/neutral_front/001_03.jpg")
CROP = (320.0, 190.0, 220.0, 0.0)


def test_constants_are_the_extensions():
    src = open(os.path.join(REPO, "src/engine/avatar/face-lock.ts")).read()
    ts = {k: float(re.search(rf"export const LOCK_{k} = ([\d.]+)", src).group(1))
          for k in ("SIDE", "ITERS", "RELOCK", "TURN", "STILL", "PAD", "PATCH", "INNER")}
    assert ts == {"SIDE": FL.LOCK, "ITERS": FL.ITERS, "RELOCK": FL.RELOCK, "TURN": FL.TURN, "STILL": FL.STILL,
                  "PAD": FL.PAD, "PATCH": FL.PATCH, "INNER": FL.INNER}


def frame(dx, dy, s=1.0, turn=0.0):
    """A 640x360 frame with the portrait moved by (dx, dy), scaled by s and turned by `turn` radians
    (the crop's roll convention) about the crop centre (bilinear)."""
    img = cv2.resize(cv2.cvtColor(cv2.imread(PORTRAIT), cv2.COLOR_BGR2RGB), (360, 360), interpolation=cv2.INTER_AREA)
    c = np.array(CROP[:2])
    a = s * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    m = np.hstack([a, (c + (dx, dy) + a @ (np.array([140.0, 0.0]) - c))[:, None]])
    return cv2.warpAffine(img, m, (640, 360), flags=cv2.INTER_LINEAR, borderValue=(119, 119, 119))


def test_follows_the_face_not_the_tracker():
    base = frame(0, 0)
    for dx, dy, s in [(0.6, -0.4, 1.0), (-2.5, 1.75, 1.0), (0.3, 0.2, 1.02)]:
        lock = FL.FaceLock()
        lock.set_reference(base, CROP)
        b = lock.follow(frame(dx, dy, s), CROP)     # the tracker has not moved
        assert abs(b[0] - CROP[0] - dx) < 0.15 and abs(b[1] - CROP[1] - dy) < 0.15, b
        assert abs(b[2] / CROP[2] - s) < 0.002
        assert abs(b[3] - CROP[3]) * CROP[2] / 2 < 0.15, b


def test_follows_the_turn_not_the_trackers_roll():
    """A face turned by a few degrees while the tracker's roll stays: the box turns with the face
    (within 0.15 px at the crop's rim); the tracker's roll swinging over a still face does not turn
    it; a roll farther than TURN from the tracker's gives up."""
    base = frame(0, 0)
    for deg in (1.5, -3.0):
        lock = FL.FaceLock()
        lock.set_reference(base, CROP)
        turn = np.radians(deg)
        b = lock.follow(frame(0.4, -0.3, 1.0, turn), CROP)
        assert abs(b[3] - turn) * CROP[2] / 2 < 0.15, (deg, b)
        assert abs(b[0] - CROP[0] - 0.4) < 0.15 and abs(b[1] - CROP[1] + 0.3) < 0.15, b
    lock = FL.FaceLock()
    lock.set_reference(base, CROP)
    rng = np.random.default_rng(2)
    for _ in range(20):
        b = lock.follow(base, CROP[:3] + (rng.uniform(-0.07, 0.07),))
        assert abs(b[3]) * CROP[2] / 2 < 0.1, b
    far = CROP[:3] + (1.5 * FL.TURN,)
    assert lock.follow(base, far) == far and not lock.locked


def test_still_face_and_jittering_tracker_and_giving_up():
    base = frame(0, 0)
    lock = FL.FaceLock()
    lock.set_reference(base, CROP)
    rng = np.random.default_rng(1)
    t = CROP
    for _ in range(20):   # the tracker's crop wanders in steps under 0.5 px and 0.2% (under STILL)
        t = (t[0] + rng.uniform(-0.5, 0.5), t[1] + rng.uniform(-0.5, 0.5), t[2] * (1 + rng.uniform(-0.002, 0.002)), 0.0)
        b = lock.follow(base, t)
        assert np.hypot(b[0] - CROP[0], b[1] - CROP[1]) < 0.1 and abs(b[2] - CROP[2]) < 0.1
    lock.set_reference(base, CROP)
    lock.follow(base, CROP)
    far = (CROP[0] + 2 * FL.STILL * CROP[2], CROP[1], CROP[2], 0.0)   # a moving head: no lock
    assert lock.follow(base, far) == far and not lock.locked

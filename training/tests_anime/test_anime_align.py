import math
import os

import numpy as np
import pytest

from brushcam_anime.align import (CENTRE_BELOW_EYES, SIDE_PER_EYE_DISTANCE, aligned_crop, crop_from_eyes,
                                  read_pupils, ts_constants)
from brushcam_train.loss_net import DATA

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_same_constants_as_the_runtime():
    assert ts_constants(REPO) == (SIDE_PER_EYE_DISTANCE, CENTRE_BELOW_EYES)


def test_crop_from_eyes_level_and_tilted():
    cx, cy, side, roll = crop_from_eyes((160, 100), (100, 100))
    assert (cx, roll) == (130, 0)
    assert cy == pytest.approx(100 + CENTRE_BELOW_EYES * 60)
    assert side == pytest.approx(SIDE_PER_EYE_DISTANCE * 60)
    r = math.radians(20)
    cx, cy, side, roll = crop_from_eyes((300 - 30 * math.cos(r), 200 - 30 * math.sin(r)), (300 + 30 * math.cos(r), 200 + 30 * math.sin(r)))
    assert math.degrees(roll) == pytest.approx(20)
    assert cx < 300 and cy > 200  # "below" follows the tilt


def test_aligned_crop_samples_like_the_runtime():
    # A dot at the crop centre lands in the middle of the crop; a rotated crop turns the image.
    img = np.zeros((200, 300, 3), np.uint8)
    img[:, 150:, 2] = 255           # right half blue
    img[:, :150, 0] = 255           # left half red
    img[56:64, 196:204, 1] = 255    # green dot at (200, 60)
    c = aligned_crop(img, (200, 60, 32, 0.0), 64)
    assert c[32, 32, 1] > 200 and c[2, 32, 1] < 50
    t = aligned_crop(img, (150, 100, 40, math.pi / 2), 40)
    assert t[2, 20, 2] > 200 and t[37, 20, 0] > 200  # as test/unit/compositor.test.ts's extractCrop


def test_london_pupils_land_where_the_alignment_puts_the_eyes():
    tem = os.path.join(DATA, "faces/london/neutral_front/001_03.tem")
    eyes = read_pupils(tem, 512)
    crop = crop_from_eyes(*eyes)
    # In the 128^2 crop the eyes sit at x = 64 +- 64/3.2, y = 64 - 128*0.2/3.2.
    size = 128
    ex = size / 2 / SIDE_PER_EYE_DISTANCE
    ey = size / 2 - size * CENTRE_BELOW_EYES / SIDE_PER_EYE_DISTANCE
    for (x, y), tx in zip(sorted(eyes), (size / 2 - ex, size / 2 + ex)):
        # image -> crop coordinates
        dx, dy = x - crop[0], y - crop[1]
        c, s = math.cos(-crop[3]), math.sin(-crop[3])
        u = (c * dx - s * dy) * size / crop[2] + size / 2
        v = (s * dx + c * dy) * size / crop[2] + size / 2
        assert u == pytest.approx(tx, abs=1e-6) and v == pytest.approx(ey, abs=1e-6)

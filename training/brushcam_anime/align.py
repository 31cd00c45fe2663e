"""Face crop alignment, the same definition as the extension's run time
(src/engine/avatar/alignment.ts): a square centred CENTRE_BELOW_EYES eye distances below the eyes'
midpoint (along the face's own vertical), side SIDE_PER_EYE_DISTANCE eye distances, turned by the
eyes' roll. At run time the eyes are BlazeFace's eye keypoints; here the London set's pupils."""
import math
import os
import re

import cv2
import numpy as np

SIDE_PER_EYE_DISTANCE = 3.2
CENTRE_BELOW_EYES = 0.2
# London set .tem files: 189 points in the 1350x1350 originals; points 0 and 1 are the pupils.
TEM_SIZE = 1350


def crop_from_eyes(a, b):
    """(cx, cy, size, roll) for two eye points (x, y) in either order."""
    l, r = (a, b) if a[0] <= b[0] else (b, a)
    dx, dy = r[0] - l[0], r[1] - l[1]
    d = math.hypot(dx, dy)
    roll = math.atan2(dy, dx)
    down = (-math.sin(roll), math.cos(roll))
    return ((l[0] + r[0]) / 2 + down[0] * CENTRE_BELOW_EYES * d,
            (l[1] + r[1]) / 2 + down[1] * CENTRE_BELOW_EYES * d,
            SIDE_PER_EYE_DISTANCE * d, roll)


def crop_matrix(crop, size):
    """2x3 affine matrix mapping crop pixels -> image pixels (for cv2 WARP_INVERSE_MAP)."""
    cx, cy, side, roll = crop
    s = side / size
    c, sn = math.cos(roll) * s, math.sin(roll) * s
    # image = centre + R(roll) * s * (p + 0.5 - size/2) - 0.5   (pixel centres, as canvas drawImage)
    h = size / 2 - 0.5
    return np.array([[c, -sn, cx - 0.5 - c * h + sn * h], [sn, c, cy - 0.5 - sn * h - c * h]], np.float64)


def aligned_crop(rgb, crop, size):
    """The size x size aligned crop of an HxWx3 uint8 image (outside the image: edge pixels)."""
    k = crop[2] / size
    if k > 1.5:  # shrink first (area filter), as the browser's smoothed drawImage does not alias
        f = 1.0 / k * 1.25
        rgb = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        crop = (crop[0] * f + 0.5 * f - 0.5, crop[1] * f + 0.5 * f - 0.5, crop[2] * f, crop[3])
    return cv2.warpAffine(rgb, crop_matrix(crop, size), (size, size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def read_pupils(tem_path, image_size):
    """The two pupils of a London .tem file, in the pixels of its (image_size^2) jpg."""
    with open(tem_path) as f:
        lines = f.read().strip().splitlines()
    pts = [tuple(float(v) for v in re.split(r"\s+", lines[1 + i].strip())[:2]) for i in (0, 1)]
    k = image_size / TEM_SIZE
    return [(x * k, y * k) for x, y in pts]


def ts_constants(repo):
    """The constants as written in the TypeScript alignment (for the consistency test)."""
    src = open(os.path.join(repo, "src/engine/avatar/alignment.ts")).read()
    side = float(re.search(r"CROP_SIDE_PER_EYE_DISTANCE = ([\d.]+)", src).group(1))
    below = float(re.search(r"CROP_CENTRE_BELOW_EYES = ([\d.]+)", src).group(1))
    return side, below

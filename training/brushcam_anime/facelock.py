"""Sub-pixel face lock: the reference of src/engine/avatar/face-lock.ts (same algorithm and
constants; a test reads them from there).

Between two translations the shown avatar is pasted where the face is. The detector's eye
keypoints jitter by about a pixel, and the crop tracker's One Euro filter turns that into a slow
sub-pixel wander of the crop that the face does not make (a held avatar then slides over a still
face), while it lags the face's own small moves. The lock instead registers the face: the luma of
the frame under the current box, LOCK x LOCK pixels, is aligned to the luma of the crop the shown
avatar was translated from (Lucas-Kanade, Gauss-Newton on shift, scale and turn, gradients of the mean
of both images, inside the face ellipse), so the avatar moves exactly as far as the face did.

  box  = (cx, cy, side, roll) in frame pixels, as the crop tracker's; per frame one patch PAD x the
         box at PATCH px is read and the steps sample it (as the extension reads one canvas)
  each frame: box <- register(frame, box, reference)      (ITERS Gauss-Newton steps)
  a moving head (the tracker's crop moved more than STILL x side since the last frame), or a
  lost lock (box more than RELOCK x side from the tracker's crop, or its side off by more than
  RELOCK, or its roll more than TURN from the tracker's, or a step that did not converge):
  box <- the tracker's crop
  each translation: reference <- the crop at box (the one translated)

The tracker's crop still decides where the face is; the lock only refines it below the detector's
noise. The turn is registered too: the tracker's roll comes from two eye keypoints and swings by
degrees on a still head (src_s18: -1.7 to -6.2 to +0.5 degrees within a second, One Euro smoothed),
which at the crop's rim moves a held avatar by about a pixel a frame. TURN sits past that swing.
Both patches (the reference's and each frame's) are smoothed by a 3x3 binomial kernel before they
are sampled: the extension's canvas reads shrink the face about 5x without a prefilter, and the
aliasing biases the turn (a portrait turned 1.5 degrees: found 0.135 px off at the crop's rim
without it, 0.058 px with it)."""
import math

import numpy as np

from .align import aligned_crop

LOCK = 48          # registration crop side (pixels)
ITERS = 4
RELOCK = 0.08      # fraction of the side: farther than this from the tracker's crop, the lock gives up
TURN = 0.15       # radians: turned farther than this from the tracker's roll, the lock gives up
STILL = 0.03      # the tracker's crop moved more than this fraction of its side since the last frame: no lock
PAD, PATCH = 1.25, 60   # the patch read per frame: the box enlarged by PAD, PATCH px a side
INNER = 0.85       # registration weight: the face ellipse (the compositor's) up to this radius
MASK_RX, MASK_RY = 0.42, 0.5
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def weights(n):
    u = (np.arange(n) + 0.5) / n - 0.5
    r = np.sqrt((u[None, :] / MASK_RX) ** 2 + (u[:, None] / MASK_RY) ** 2)
    return (r < INNER).astype(np.float64)


def luma_crop(rgb, box, n):
    return (aligned_crop(rgb, box, n).astype(np.float32) / 255) @ LUMA


def binomial(img):
    """img smoothed by the 3x3 binomial kernel (edges clamped)."""
    p = np.pad(img, 1, mode="edge")
    t = 0.25 * p[:, :-2] + 0.5 * p[:, 1:-1] + 0.25 * p[:, 2:]
    return 0.25 * t[:-2] + 0.5 * t[1:-1] + 0.25 * t[2:]


def patch_around(rgb, box):
    """The PATCH x PATCH patch of PAD x the side around `box` (along its roll): luma, smoothed."""
    return binomial(luma_crop(rgb, (box[0], box[1], box[2] * PAD, box[3]), PATCH).astype(np.float64))


def sample(img, xs, ys):
    """Bilinear sample of an m x m image at pixel-index coordinates (edges clamped)."""
    m = img.shape[0]
    x = np.clip(xs, 0, m - 1); y = np.clip(ys, 0, m - 1)
    x0 = np.minimum(np.floor(x).astype(int), m - 2); y0 = np.minimum(np.floor(y).astype(int), m - 2)
    tx, ty = x - x0, y - y0
    top = img[y0, x0] + tx * (img[y0, x0 + 1] - img[y0, x0])
    bottom = img[y0 + 1, x0] + tx * (img[y0 + 1, x0 + 1] - img[y0 + 1, x0])
    return top + ty * (bottom - top)


def sample_box(patch, patch_side, ox, oy, side, rot=0.0):
    """The LOCK x LOCK crop of side `side` centred (ox, oy) from the patch's centre (frame pixels
    along the patch's axes) and turned by `rot` from them, bilinear from the PATCH x PATCH patch of
    side `patch_side`."""
    n, m = LOCK, patch.shape[0]
    per = patch_side / m
    s = side / n / per
    gx = np.arange(n)[None, :] + 0.5 - n / 2
    gy = np.arange(n)[:, None] + 0.5 - n / 2
    c, sn = math.cos(rot) * s, math.sin(rot) * s
    qx = m / 2 - 0.5 + ox / per + c * gx - sn * gy
    qy = m / 2 - 0.5 + oy / per + sn * gx + c * gy
    return sample(patch, qx, qy)


def step(cur, ref, w):
    """(dx, dy, k, r): cur(c + (1 + k) R(r) (p - c) + d) ~ ref(p) to first order, least squares, crop
    pixels and radians; None if singular."""
    n = cur.shape[0]
    g = 0.5 * (cur.astype(np.float64) + ref)
    gx = np.zeros_like(g); gy = np.zeros_like(g)
    gx[1:-1, 1:-1] = 0.5 * (g[1:-1, 2:] - g[1:-1, :-2])
    gy[1:-1, 1:-1] = 0.5 * (g[2:, 1:-1] - g[:-2, 1:-1])
    ww = np.zeros_like(w); ww[1:-1, 1:-1] = w[1:-1, 1:-1]
    c = (n - 1) / 2
    x = np.arange(n)[None, :] - c
    y = np.arange(n)[:, None] - c
    J = np.stack([gx, gy, gx * x + gy * y, gy * x - gx * y], -1)
    e = ref - cur
    H = np.einsum("ijk,ijl,ij->kl", J, J, ww) + 1e-6 * np.eye(4)
    b = np.einsum("ijk,ij,ij->k", J, e, ww)
    if not abs(np.linalg.det(H)) > 1e-18:
        return None
    return np.linalg.solve(H, b)


class FaceLock:
    def __init__(self):
        self.w = weights(LOCK)
        self.reset()

    def reset(self):
        self.box = self.ref = self.last = None

    @property
    def locked(self):
        return self.ref is not None

    def set_reference(self, rgb, box):
        """The crop the shown avatar was translated from, sampled through the same patch as every
        frame's (so both pass the same filters)."""
        self.box = tuple(box)
        self.ref = sample_box(patch_around(rgb, box), box[2] * PAD, 0.0, 0.0, box[2])

    def follow(self, rgb, tracked):
        """The box (cx, cy, side, roll) to paste at on this frame, from the tracker's crop."""
        last, self.last = self.last, tuple(tracked)
        if last is not None and (math.hypot(tracked[0] - last[0], tracked[1] - last[1]) > STILL * tracked[2]
                                 or abs(tracked[2] / last[2] - 1) > STILL):
            self.box = self.ref = None
        if self.ref is None:
            return tuple(tracked)
        n = LOCK
        cx0, cy0, side, roll = self.box
        patch_side = side * PAD
        patch = patch_around(rgb, self.box)
        ox = oy = rot = 0.0
        ok = True
        for _ in range(ITERS):
            cur = sample_box(patch, patch_side, ox, oy, side, rot)
            d = step(cur, self.ref, self.w)
            if d is None or not np.all(np.isfinite(d)) or abs(d[2]) > 0.5 or abs(d[3]) > 0.5:
                ok = False
                break
            u = side / n
            ox += u * (math.cos(rot) * d[0] - math.sin(rot) * d[1])
            oy += u * (math.sin(rot) * d[0] + math.cos(rot) * d[1])
            side *= 1 + d[2]
            rot += d[3]
        c, sn = math.cos(roll), math.sin(roll)
        box = (cx0 + c * ox - sn * oy, cy0 + sn * ox + c * oy, side, roll + rot)
        turn = math.remainder(box[3] - tracked[3], 2 * math.pi)
        if not ok or math.hypot(box[0] - tracked[0], box[1] - tracked[1]) > RELOCK * tracked[2] \
                or abs(box[2] / tracked[2] - 1) > RELOCK or abs(turn) > TURN:
            self.box = self.ref = None
            return tuple(tracked)
        self.box = box
        return box

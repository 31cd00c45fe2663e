"""Temporal smoothing of the translated avatar in crop coordinates: the reference of
src/engine/avatar/avatar-smoother.ts (same algorithm and constants; a test reads them from there).

The tracker keeps the crop on the face, so between two translations the face sits at the same
crop pixels. What still changes is partly the face (mouth, eyes, a head turn) and partly the
translator's own flicker: a GAN answers small input changes with large output changes. Where the
input crop did not change beyond the camera's noise, the avatar holds (the drawing does not
re-roll on a still head); where it did, the new one wins:

  cost  = |luma(x_t) - ref_t-1|, averaged over CELL x CELL cells, then a 3x3 mean over cells
  w     = exp(-(max(0, cost - FLOOR) / SIGMA)^2), per cell, bilinear between cell centres
  out_t = y_t + w * (out_t-1 - y_t)
  ref_t = luma(x_t) + w * (ref_t-1 - luma(x_t))   (the input the shown avatar stands for)

FLOOR 0.012: on the still people clips the median cell-neighbourhood change between two crops
five frames apart is 0.006-0.013 (camera noise and compression), a blink or a mouth opening
0.1 and more; under the floor the shown avatar is kept exactly. The reference is blended like the
avatar, so a slow change (light, a slow turn) adds up until it passes the floor. SIGMA 0.04
(about 10 grey levels past the floor): a change of 0.05 keeps 0.4 of the old avatar, 0.1 keeps
almost none, so expressions go through at once. CELL 8 at 128 px: 16 x 16 cells, an eye or the
mouth spans two or three. (v3 and before blended with a fixed 0.7 weight of the old avatar: a
still head's drawing still moved 30% towards every new translation.)"""
import numpy as np

FLOOR = 0.012
SIGMA = 0.04
CELL = 8
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class AvatarSmoother:
    def __init__(self, floor=FLOOR, sigma=SIGMA):
        if not 0 <= floor < 1:
            raise ValueError(f"avatar smoothing floor must be in [0, 1), got {floor}")
        self.floor, self.sigma = floor, sigma
        self.prev = None

    def reset(self):
        self.prev = None

    def confidence(self, luma, prev):
        n = luma.shape[0]
        m = max(1, n // CELL)
        cell = n / m
        idx = np.minimum((np.arange(n) / cell).astype(int), m - 1)
        d = np.abs(luma - prev)
        cost = np.zeros((m, m)); count = np.zeros((m, m))
        np.add.at(cost, (idx[:, None], idx[None, :]), d)
        np.add.at(count, (idx[:, None], idx[None, :]), 1)
        cost /= count
        p = np.pad(cost, 1)
        k = np.pad(np.ones((m, m)), 1)
        s = sum(p[1 + dy:1 + dy + m, 1 + dx:1 + dx + m] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        c = sum(k[1 + dy:1 + dy + m, 1 + dx:1 + dx + m] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        w = np.exp(-(np.maximum(0, s / c - self.floor) / self.sigma) ** 2)
        f = np.clip((np.arange(n) + 0.5) / cell - 0.5, 0, m - 1)
        i0 = np.floor(f).astype(int)
        i1 = np.minimum(i0 + 1, m - 1)
        t = f - i0
        top = w[i0][:, i0] * (1 - t)[None, :] + w[i0][:, i1] * t[None, :]
        bottom = w[i1][:, i0] * (1 - t)[None, :] + w[i1][:, i1] * t[None, :]
        return top * (1 - t)[:, None] + bottom * t[:, None]

    def __call__(self, source, avatar):
        """source, avatar: n x n x 3 float arrays in [0, 1] (input crop, translator output)."""
        luma = source @ LUMA
        if self.prev is None or self.prev[0].shape != luma.shape:
            out = avatar.copy()
        else:
            a = self.confidence(luma, self.prev[0])
            out = avatar + a[..., None] * (self.prev[1] - avatar)
            luma = luma + a * (self.prev[0] - luma)
        self.prev = (luma, out)
        return out

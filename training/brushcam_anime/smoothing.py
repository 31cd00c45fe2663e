"""Temporal smoothing of the translated avatar in crop coordinates: the reference of
src/filters/anime/avatar-smoother.ts (same algorithm and constants; a test reads them from there).

The tracker keeps the crop on the face, so between two translations the face sits at the same
crop pixels. What still changes is partly the face (mouth, eyes, a head turn) and partly the
translator's own flicker: a GAN answers small input changes with large output changes. Where the
input crop did not change, the new avatar is blended with the previous one; where it did, the new
one wins:

  cost  = |luma(x_t) - luma(x_t-1)|, averaged over CELL x CELL cells, then a 3x3 mean over cells
  conf  = STRENGTH * exp(-(cost / SIGMA)^2), per cell, bilinear between cell centres
  out_t = y_t + conf * (out_t-1 - y_t)

STRENGTH 0.7: a still face's avatar settles over about three translations (0.7^3 = 0.34 of the
first one left). SIGMA 0.04 (about 10 grey levels over a cell neighbourhood): camera noise on a
still face costs well under that, a mouth opening or a blink well over it, so expressions go
through at once. CELL 8 at 128 px: 16 x 16 cells, an eye or the mouth spans two or three."""
import numpy as np

STRENGTH = 0.7
SIGMA = 0.04
CELL = 8
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class AvatarSmoother:
    def __init__(self, strength=STRENGTH, sigma=SIGMA):
        if not 0 <= strength < 1:
            raise ValueError(f"avatar smoothing strength must be in [0, 1), got {strength}")
        self.strength, self.sigma = strength, sigma
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
        w = self.strength * np.exp(-((s / c) / self.sigma) ** 2)
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
            a = self.confidence(luma, self.prev[0])[..., None]
            out = avatar + a * (self.prev[1] - avatar)
        self.prev = (luma, out)
        return out

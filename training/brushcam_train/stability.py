"""The runtime "stability" option: blend the new stylised frame with the previous output, warped
by a cheap motion estimate, where that estimate is trustworthy.

This is the reference for src/engine/ml/stabilizer.ts (a parity test checks the two on the same frames)
and what training/eval_temporal.py measures. Per frame, at the network's size h x w:

1. luma (0.2126 R + 0.7152 G + 0.0722 B) of the input, averaged over k x k blocks (k = round of the
   long side / 160, at least 1; the ragged edge is dropped): the motion image, about 160 px long.
2. Block matching against the previous motion image: for each displacement d in [-2, 2]^2 (zero
   first, then row by row), the cost is |g_t(p) - g_{t-1}(p + d)| (reflect padding), averaged over
   3 x 3 (reflect padding); each small pixel takes the cheapest d (the first on ties).
3. Sub-pixel refinement: along each axis, a parabola through the costs of the best displacement
   and its two neighbours (when both exist in the search window and the parabola opens upwards)
   moves the minimum by up to half a small pixel.
4. Confidence per small pixel: strength * exp(-(cost / SIGMA)^2). Occlusions, new content, light
   changes and motion beyond the search range all cost more, so they take the new frame.
5. Full resolution: pixel (i, j) reads small pixel (min(i // k, hs - 1), min(j // k, ws - 1)); the
   previous output is sampled bilinearly at (i + Dy k, j + Dx k), clamped to the frame.
6. Neighbourhood clamp (as in temporal anti-aliasing): the warped previous output is clamped, per
   channel, to the min..max of the new output's 3 x 3 neighbourhood (replicate padding). Motion
   the estimate misses (sub-block, non-rigid) would otherwise drag stale colours along: measured,
   without it the option made a sharp, already-stable style worse (udnie baseline 13.1 -> 23.4),
   with it better (13.1 -> 10.0).
7. out = new + confidence * (clamped previous - new).

The previous *output* is kept (a recursive filter). A new size starts over. It is an option on
top of the trained consistency, never the only source of it. Measured at step 1700 on the five
LivePortrait clips (error with / without, per clip): whole-block motion with nearest sampling
gave udnie 0.74-1.02 (mean 0.89) and starry_night 0.50-0.81 (0.68) at strength 0.5; the sub-pixel
refinement and bilinear sampling bring that to 0.63-1.01 (0.82) and 0.41-0.66 (0.56). Strength 0.7
calms shimmering styles more but makes steady ones worse on fast head motion (udnie up to 1.34),
hence the default 0.5.
"""
import torch
import torch.nn.functional as F

RADIUS = 2
MOTION_SIDE = 160
SIGMA = 0.05
DEFAULT_STRENGTH = 0.5
LUMA = (0.2126, 0.7152, 0.0722)


def displacements(r=RADIUS):
    """(dy, dx) candidates: (0, 0) first, then the others row by row."""
    rest = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if (dy, dx) != (0, 0)]
    return [(0, 0)] + rest


def block(h, w):
    """Block size of the motion image; rounds halves up, as JavaScript's Math.round does."""
    return max(1, int(max(h, w) / MOTION_SIDE + 0.5))


def motion_image(x):
    """x: [1,3,H,W] in [0,1] -> [1,1,H//k,W//k]."""
    k = block(x.shape[2], x.shape[3])
    luma = sum(c * x[:, i:i + 1] for i, c in enumerate(LUMA))
    return F.avg_pool2d(luma, k, k) if k > 1 else luma


def _neighbours():
    """Per displacement: the indices of (dy, dx-1), (dy, dx+1), (dy-1, dx), (dy+1, dx) and whether
    each exists in the window (a missing one points at the displacement itself)."""
    disp = displacements()
    where = {d: i for i, d in enumerate(disp)}
    idx, ok = [], []
    for i, (dy, dx) in enumerate(disp):
        row, valid = [], []
        for n in ((dy, dx - 1), (dy, dx + 1), (dy - 1, dx), (dy + 1, dx)):
            row.append(where.get(n, i))
            valid.append(1.0 if n in where else 0.0)
        idx.append(row)
        ok.append(valid)
    return torch.tensor(idx), torch.tensor(ok)


NEIGHBOURS, NEIGHBOUR_OK = _neighbours()


def costs(g, g_prev, r=RADIUS):
    """Cost of every displacement per small pixel: [D, hs, ws] (the 3 x 3 mean taken on all at once)."""
    hs, ws = g.shape[2], g.shape[3]
    padded = F.pad(g_prev, [r] * 4, mode="reflect")
    diffs = torch.cat([(g - padded[:, :, r + dy:r + dy + hs, r + dx:r + dx + ws]).abs() for dy, dx in displacements(r)], 1)
    return F.avg_pool2d(F.pad(diffs, [1] * 4, mode="reflect"), 3, 1)[0]


def refine(c, idx, cost):
    """Sub-pixel offsets (oy, ox) in small pixels, each in [-0.5, 0.5]."""
    n = NEIGHBOURS[idx]                      # [hs, ws, 4]
    ok = NEIGHBOUR_OK[idx]
    cn = c.gather(0, n.permute(2, 0, 1))     # [4, hs, ws]

    def offset(m, p, vm, vp):
        den = m - 2 * cost + p
        good = (den > 1e-6) & (vm * vp > 0.5)
        return torch.where(good, (m - p) / (2 * torch.where(good, den, torch.ones_like(den))), torch.zeros_like(cost)).clamp(-0.5, 0.5)

    ox = offset(cn[0], cn[1], ok[..., 0], ok[..., 1])
    oy = offset(cn[2], cn[3], ok[..., 2], ok[..., 3])
    return oy, ox


def bilinear(img, yy, xx):
    """img [1,C,h,w] sampled at float rows yy and columns xx ([h, w] each), clamped to the frame."""
    h, w = img.shape[2], img.shape[3]
    yy = yy.clamp(0, h - 1)
    xx = xx.clamp(0, w - 1)
    y0, x0 = yy.floor(), xx.floor()
    fy, fx = yy - y0, xx - x0
    y0, x0 = y0.long(), x0.long()
    y1, x1 = (y0 + 1).clamp(max=h - 1), (x0 + 1).clamp(max=w - 1)
    p = img[0]
    top = p[:, y0, x0] * (1 - fx) + p[:, y0, x1] * fx
    bottom = p[:, y1, x0] * (1 - fx) + p[:, y1, x1] * fx
    return (top * (1 - fy) + bottom * fy)[None]


class Stabilizer:
    def __init__(self, strength=DEFAULT_STRENGTH, sigma=SIGMA):
        self.strength, self.sigma = strength, sigma
        self.prev = None                 # (motion image, output)

    def reset(self):
        self.prev = None

    def __call__(self, x, y):
        """x: network input [1,3,h,w], y: network output [1,3,h,w], both in [0,1]."""
        g = motion_image(x)
        hs, ws = g.shape[2], g.shape[3]
        if self.prev is None or self.prev[1].shape != y.shape or min(hs, ws) <= RADIUS:
            self.prev = (g, y) if min(hs, ws) > RADIUS else None
            return y
        g_prev, y_prev = self.prev
        c = costs(g, g_prev)
        cost, idx = c.min(0)                 # first minimum on ties
        oy, ox = refine(c, idx, cost)
        d = torch.tensor(displacements(), dtype=torch.float32)
        conf = self.strength * torch.exp(-(cost / self.sigma) ** 2)
        h, w = y.shape[2], y.shape[3]
        k = block(h, w)
        si = (torch.arange(h) // k).clamp(max=hs - 1)
        sj = (torch.arange(w) // k).clamp(max=ws - 1)
        dy = ((d[idx, 0] + oy) * k)[si][:, sj]
        dx = ((d[idx, 1] + ox) * k)[si][:, sj]
        rows = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w)
        cols = torch.arange(w, dtype=torch.float32)[None, :].expand(h, w)
        warped = bilinear(y_prev, rows + dy, cols + dx)
        lo = -F.max_pool2d(F.pad(-y, [1] * 4, mode="replicate"), 3, 1)
        hi = F.max_pool2d(F.pad(y, [1] * 4, mode="replicate"), 3, 1)
        warped = torch.minimum(torch.maximum(warped, lo), hi)
        a = conf[si][:, sj][None, None]
        out = y + a * (warped - y)
        self.prev = (g, out)
        return out


def parity_case():
    """Two frames for the TypeScript parity test, 12 x 240 (block 2): a pattern that moves by
    (1, 3) px between frames (half a block off the grid), with a patch that changes (an occlusion). Values are multiples of
    1/255 so both sides read exactly the same inputs."""
    h, w = 12, 240
    yy, xx = torch.meshgrid(torch.arange(float(h)), torch.arange(float(w)), indexing="ij")

    def frame(oy, ox, patch):
        c = [0.5 + 0.45 * torch.sin(0.5 * (yy + oy) + 0.8 * i) * torch.cos(0.23 * (xx + ox) - 0.6 * i) for i in range(3)]
        x = torch.stack(c)[None]
        if patch:
            x[:, :, 3:9, 100:130] = 0.9
        return torch.round(x * 255) / 255

    x0, x1 = frame(0, 0, False), frame(-1, -3, True)
    y0 = torch.round((1 - x0.roll(1, 1)) * 255) / 255      # stand-ins for network outputs
    y1 = torch.round((1 - x1.roll(1, 1)) * 255) / 255
    return x0, y0, x1, y1


def write_parity(path):
    import base64
    import json
    import numpy as np
    x0, y0, x1, y1 = parity_case()
    st = Stabilizer()
    st(x0, y0)
    out = st(x1, y1)
    u8 = lambda t: base64.b64encode((t[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy().tobytes()).decode()  # noqa: E731
    doc = {"note": "written by python3 -m brushcam_train.stability --write-parity; NHWC, h x w x 3",
           "h": x0.shape[2], "w": x0.shape[3], "strength": st.strength, "sigma": st.sigma,
           "motion_side": MOTION_SIDE, "radius": RADIUS,
           "x0": u8(x0), "y0": u8(y0), "x1": u8(x1), "y1": u8(y1),
           "out": base64.b64encode(out[0].permute(1, 2, 0).contiguous().numpy().astype(np.float32).tobytes()).decode()}
    with open(path, "w") as f:
        json.dump(doc, f, indent=0)
        f.write("\n")
    return doc


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-parity", required=True, help="path of the TypeScript parity fixture")
    write_parity(ap.parse_args().write_parity)

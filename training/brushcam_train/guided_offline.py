"""Guided upsampling offline: which form and window the page should draw a small painting with.

  /usr/bin/python3 -m brushcam_train.guided_offline --clip ../build/fixtures/d0-640x360-20s.y4m \\
      --model ../models/style/udnie --side 256 [--tier tiny] [--every 5] [--lag 2]

For camera frames of a y4m clip, the style network (or its --tier) painted at the internal size for
--side, then brought to the frame's size in each candidate way, scored like the live frames
(brushcam_train.fidelity: luma SSIM and SqueezeNet feature distance) against the full network run
at the frame's size:
  bilinear            the painting upscaled (what the page did before guided refresh);
  fit r<R> e<EPS>     the fast guided filter (He & Sun 2015) as src/page/filters/guided.ts draws it:
                      A*I + B, a and b fitted on the small camera luminance in (2R+1)^2 windows,
                      I the frame's luminance with its two finest octaves taken out (guideLuma);
  strokes r<R> e<EPS> the same with b = p - a*Is at each small pixel (STROKES_FIT): the painting
                      upscaled plus A times the detail the small camera picture lacks;
and each again with the painting of the frame --lag frames earlier (guided refresh draws a frame
with the newest painting, which may be a few frames old), plus full@320 and tier@320 for reference.
--tier-dir compares another build of the tier (a folder with model.json) beside the shipped one:

  /usr/bin/python3 -m brushcam_train.guided_offline --clip /tmp/d9.y4m --model ../models/style/udnie \
      --side 320 --tier tiny --lag 2 --every 40 --fits 1:1e-3
"""
import argparse
import os

import numpy as np
import torch
import torch.nn.functional as F

from .export import read_model, run_ops
from .fidelity import feature_distance, internal_size, read_y4m_frame, run_at, ssim, to_tensor

FITS = ((1, 1e-3), (2, 1e-3), (2, 1e-2), (2, 1e-4))


def luma(x):
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def box(x, r):
    """Window means clipped to the picture (tfjs avgPool 'same', boxMeanInPlace)."""
    return F.avg_pool2d(x, 2 * r + 1, 1, r, count_include_pad=False)


def painted_small(meta, weights, rgb, side):
    """The camera frame at the internal size and the network's painting of it, both [1,3,h,w] in [0,1]."""
    h, w = rgb.shape[:2]
    iw, ih = internal_size(w, h, side, int(meta["arch"].get("input_multiple", 4)))
    x = F.interpolate(to_tensor(rgb), size=(ih, iw), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        return x, run_ops(meta["ops"], weights, x).clamp(0, 1)


GUIDE_PASSES = 3   # src/page/filters/guided.ts


def guide_luma(rgb):
    """The page's guide: the frame's luminance after three 3x3 box passes (guideLuma)."""
    L = luma(to_tensor(rgb))
    for _ in range(GUIDE_PASSES):
        L = box(L, 1)
    return L


def guided(p, small_luma, full_luma, r, eps, form):
    mi, mp = box(small_luma, r), box(p, r)
    a = (box(small_luma * p, r) - mi * mp) / (box(small_luma * small_luma, r) - mi * mi + eps)
    b = mp - a * mi
    a, b = box(a, r), box(b, r)
    if form == "strokes":
        b = p - a * small_luma
    up = lambda t: F.interpolate(t, size=full_luma.shape[2:], mode="bilinear", align_corners=False)  # noqa: E731
    return (up(a) * full_luma + up(b)).clamp(0, 1)


def evaluate(clip, model, side, tier=None, every=5, lag=2, say=print, fits=FITS, tier_dir=None):
    meta, weights = read_model(model)
    tmeta, tweights = read_model(f"{model}/{tier}") if tier else (meta, weights)
    paintings = {"": (tmeta, tweights)}
    if tier_dir:
        paintings["other "] = read_model(tier_dir)
    with open(clip, "rb") as f:
        header = f.readline()
    w = int(header.split(b" W")[1].split()[0])
    h = int(header.split(b" H")[1].split()[0])
    count = (os.path.getsize(clip) - len(header)) // (w * h * 3 // 2 + 6)
    rows = {}
    for k in range(lag + 2, count, every):
        rgb, before = read_y4m_frame(clip, k), read_y4m_frame(clip, k - lag)
        ref = run_at(meta, weights, rgb, max(rgb.shape[:2]))
        full_luma = guide_luma(rgb)
        cand = {"full@320": run_at(meta, weights, rgb, 320)}
        for who, (m, w_) in paintings.items():
            cand[f"{who}bilinear"] = run_at(m, w_, rgb, side)
            if tier:
                cand[f"{who}tier@320"] = run_at(m, w_, rgb, 320)
            now = painted_small(m, w_, rgb, side)
            old = painted_small(m, w_, before, side)
            for r, eps in fits:
                for form in ("fit", "strokes"):
                    for name, (x, p) in (("", now), (f" lag{lag}", old)):
                        cand[f"{who}{form} r{r} e{eps:g}{name}"] = guided(p, luma(x), full_luma, r, eps, form)
        for name, v in cand.items():
            rows.setdefault(name, []).append((ssim(v, ref), feature_distance(v, ref)))
    out = {n: {"ssim": float(np.mean([a for a, _ in v])), "feat": float(np.mean([b for _, b in v])), "frames": len(v)} for n, v in rows.items()}
    for n, v in out.items():
        say(f"{n:<22} ssim {v['ssim']:.3f}  feat {v['feat']:.3f}  ({v['frames']} frames)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--side", type=int, default=256)
    ap.add_argument("--tier")
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--lag", type=int, default=2)
    ap.add_argument("--fits", default=",".join(f"{r}:{e:g}" for r, e in FITS), help="r:eps,... windows to try")
    ap.add_argument("--tier-dir", help="another build of the tier to compare (a folder with model.json)")
    a = ap.parse_args(argv)
    fits = tuple((int(f.split(":")[0]), float(f.split(":")[1])) for f in a.fits.split(","))
    evaluate(a.clip, a.model, a.side, a.tier, a.every, a.lag, fits=fits, tier_dir=a.tier_dir)


if __name__ == "__main__":
    main()

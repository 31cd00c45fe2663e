"""Live fidelity: how close the frames a call receives are to the same network's full-size output.

  /usr/bin/python3 -m brushcam_train.fidelity --frames demo-out/udnie/ --model ../models/style/udnie
      [--max-frames 40] [--baselines 96,320] [--json out.json]

--frames is a folder written by `npm run demo -- --all-frames` or the bench (frames.json + one PNG
per output frame, named by the camera frame it was made from; frames.json names the y4m clip the
camera played). For each paired frame the reference is the network (the full model of --model)
run by the op-list interpreter (brushcam_train.export.run_ops) on that camera frame at the output
size (rounded to the network's input multiple, scaled back bilinearly). Two measures against it:
  ssim   SSIM of luminance (Gaussian window 11, sigma 1.5; Wang et al. 2004), higher is closer;
  feat   SqueezeNet 1.1 feature distance: mean over relu1, fire3, fire5, fire7 of
         |f(live) - f(ref)|^2 / |f(ref)|^2 (relative squared error), lower is closer.
Baselines on the same frames, offline: the full model (and its tier, when the style ships one)
run at each --baselines long side and upscaled bilinearly: the numbers the live frames must beat.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .export import read_model, run_ops

LAYERS = (1, 4, 7, 10)


def read_y4m_frame(path, k):
    """Frame k of a 4:2:0 y4m file as RGB uint8 (BT.601 video range, as the camera delivers it)."""
    with open(path, "rb") as f:
        header = f.readline()
        w = int(header.split(b" W")[1].split()[0])
        h = int(header.split(b" H")[1].split()[0])
        size = w * h * 3 // 2
        f.seek(len(header) + k * (6 + size) + 6)
        yuv = np.frombuffer(f.read(size), np.uint8).reshape(h * 3 // 2, w)
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)


def internal_size(w, h, max_side, multiple):
    """src/shared/sizes.ts internalSize."""
    s = min(1.0, max_side / max(w, h))
    return max(multiple, round(w * s / multiple) * multiple), max(multiple, round(h * s / multiple) * multiple)


def to_tensor(rgb):
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float()[None] / 255


def run_at(meta, weights, rgb, max_side):
    """The network at the runtime's internal size for max_side, scaled to the frame's size (bilinear)."""
    h, w = rgb.shape[:2]
    m = int(meta["arch"].get("input_multiple", 4))
    iw, ih = internal_size(w, h, max_side, m)
    x = F.interpolate(to_tensor(rgb), size=(ih, iw), mode="bilinear", align_corners=False, antialias=True) if (iw, ih) != (w, h) else to_tensor(rgb)
    with torch.no_grad():
        y = run_ops(meta["ops"], weights, x).clamp(0, 1)
    if (iw, ih) != (w, h):
        y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
    return y


def luma(x):
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def ssim(a, b):
    """Mean SSIM of the luminance of two [1,3,H,W] images in [0, 1]."""
    a, b = luma(a), luma(b)
    g = torch.exp(-((torch.arange(11.0) - 5) ** 2) / (2 * 1.5 ** 2))
    g = (g / g.sum())
    k = (g[:, None] * g[None, :])[None, None]
    mu = lambda x: F.conv2d(x, k)
    ma, mb = mu(a), mu(b)
    va, vb, cov = mu(a * a) - ma ** 2, mu(b * b) - mb ** 2, mu(a * b) - ma * mb
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
    return float(s.mean())


_NET = None


def feature_distance(a, b):
    global _NET
    if _NET is None:
        from .loss_net import SqueezeNetFeatures
        _NET = SqueezeNetFeatures().eval()
    with torch.no_grad():
        fa = _NET(a, LAYERS)
        fb = _NET(b, LAYERS)
    fa = fa if isinstance(fa, (list, tuple)) else [fa[l] for l in LAYERS]
    fb = fb if isinstance(fb, (list, tuple)) else [fb[l] for l in LAYERS]
    return float(np.mean([float(((x - y) ** 2).sum() / (y ** 2).sum().clamp_min(1e-8)) for x, y in zip(fa, fb)]))


def evaluate(frames_dir, model_dir, max_frames=40, baselines=(96, 320), say=print):
    with open(os.path.join(frames_dir, "frames.json")) as f:
        info = json.load(f)
    clip = info["clip"]
    listed = sorted(info["frames"], key=lambda r: r["order"])
    if not listed:
        raise ValueError(f"{frames_dir}/frames.json lists no paired frames")
    pick = listed if len(listed) <= max_frames else [listed[round(i * (len(listed) - 1) / (max_frames - 1))] for i in range(max_frames)]
    meta, weights = read_model(model_dir)
    tiers = [(t, *read_model(os.path.join(model_dir, t))) for t in sorted(os.listdir(model_dir))
             if os.path.exists(os.path.join(model_dir, t, "model.json"))]
    rows = {"live": []}
    for r in pick:
        rgb = read_y4m_frame(clip, r["index"])
        live = cv2.imread(os.path.join(frames_dir, r["file"]))[:, :, ::-1]
        if live.shape != rgb.shape:
            raise ValueError(f"{r['file']} is {live.shape[1]}x{live.shape[0]}, the camera frame {rgb.shape[1]}x{rgb.shape[0]}")
        h, w = rgb.shape[:2]
        ref = run_at(meta, weights, rgb, max(w, h))
        cand = {"live": to_tensor(live)}
        for side in baselines:
            cand[f"full@{side}"] = run_at(meta, weights, rgb, side)
            for name, tm, tw in tiers:
                cand[f"{name}@{side}"] = run_at(tm, tw, rgb, side)
        # What must never come back: the camera's own picture.
        cand["camera"] = to_tensor(rgb)
        for k, v in cand.items():
            rows.setdefault(k, []).append((ssim(v, ref), feature_distance(v, ref)))
    out = {k: {"ssim": float(np.mean([a for a, _ in v])), "feat": float(np.mean([b for _, b in v])), "frames": len(v)} for k, v in rows.items()}
    out["_meta"] = {"frames_dir": frames_dir, "model": model_dir, "clip": clip, "backend": info.get("backend"), "paired": len(listed), "used": len(pick)}
    for k, v in out.items():
        if not k.startswith("_"):
            say(f"{k:<14} ssim {v['ssim']:.3f}  feat {v['feat']:.3f}  ({v['frames']} frames)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--max-frames", type=int, default=40)
    ap.add_argument("--baselines", default="96,320")
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = evaluate(a.frames, a.model, a.max_frames, tuple(int(s) for s in a.baselines.split(",") if s))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())

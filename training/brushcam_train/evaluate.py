"""Evaluation: held-out perceptual losses, temporal error on an evaluation clip, contact sheets.

Temporal error (the usual ReCoNet/Ruder metric): for consecutive frames of
video/people/d0.mp4 (LivePortrait example: evaluation only, never trained on), DIS backward flow
and a forward-backward occlusion check on the INPUT frames; error = mean over non-occluded pixels
of |O_t - warp(O_{t-1})| on the 0-255 scale. The input video's own value is the floor.
"""
import os
from functools import lru_cache

import cv2
import numpy as np
import torch
from PIL import Image

from .data import list_images, load_rgb, to_tensor
from .loss_net import DATA
from .losses import PerceptualLoss
from .motion import warp, dis_flow, fb_mask

EVAL_CLIP = "video/people/d0.mp4"
FACE = "faces/london/canada/010f.jpg"          # held out (first 8 of faces/london)
SCENE = "photos/cq100/adirondack_chairs.jpg"   # held out (first 8 of photos/cq100)


def stylize(model, rgb):
    """HxWx3 uint8 -> HxWx3 uint8 (H, W cropped to multiples of 4)."""
    h, w = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    with torch.no_grad():
        y = model(to_tensor(np.ascontiguousarray(rgb[:h, :w]))[None])[0]
    return (y.permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)


def resize_h(rgb, h):
    w = round(rgb.shape[1] * h / rgb.shape[0] / 4) * 4
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if h < rgb.shape[0] else cv2.INTER_LINEAR)


@lru_cache(maxsize=1)
def clip_frames(n=24, size=320):
    cap = cv2.VideoCapture(os.path.join(DATA, EVAL_CLIP))
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    flows = []
    for a, b in zip(frames[:-1], frames[1:]):
        ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        f21, f12 = dis_flow(gb, ga), dis_flow(ga, gb)
        flows.append((torch.from_numpy(f21.transpose(2, 0, 1).copy())[None], torch.from_numpy(fb_mask(f21, f12))[None, None]))
    return frames, flows


def warped_error(seq, flows):
    errs = []
    for (prev, cur), (flow, mask) in zip(zip(seq[:-1], seq[1:]), flows):
        a = to_tensor(prev)[None] * 255
        b = to_tensor(cur)[None] * 255
        e = (b - warp(a, flow)).abs().mean(1, keepdim=True)
        errs.append(float((e * mask).sum() / mask.sum()))
    return float(np.mean(errs))


def temporal_metrics(model):
    frames, flows = clip_frames()
    model.eval()
    outs = [stylize(model, f) for f in frames]
    return {"temporal_input": warped_error(frames, flows), "temporal_output": warped_error(outs, flows),
            "frames": len(frames), "size": f"{frames[0].shape[1]}x{frames[0].shape[0]}"}


def heldout_images(holdout=8, size=256):
    """The held-out stills (first `holdout` of photos/cq100 and faces/london), centre-cropped to
    size x size, as [1,3,size,size] tensors."""
    out = []
    for f in list_images("photos/cq100")[:holdout] + list_images("faces/london")[:holdout]:
        img = load_rgb(f)
        s = min(img.shape[:2])
        img = cv2.resize(img[(img.shape[0] - s) // 2:][:s, (img.shape[1] - s) // 2:][:, :s], (size, size), interpolation=cv2.INTER_AREA)
        out.append(to_tensor(img)[None])
    return out


def heldout_losses(model, style_image, style_size=512, holdout=8, size=256):
    files = list_images("photos/cq100")[:holdout] + list_images("faces/london")[:holdout]
    crit = PerceptualLoss([to_tensor(load_rgb(os.path.join(DATA, style_image), max_side=style_size))])
    c_sum = s_sum = 0.0
    model.eval()
    with torch.no_grad():
        for f in files:
            img = load_rgb(f)
            s = min(img.shape[:2])
            img = cv2.resize(img[(img.shape[0] - s) // 2:][:s, (img.shape[1] - s) // 2:][:, :s], (size, size), interpolation=cv2.INTER_AREA)
            x = to_tensor(img)[None]
            c, st = crit(model(x), x, torch.zeros(1, dtype=torch.long))
            c_sum += float(c); s_sum += float(st)
    return {"content": c_sum / len(files), "style": s_sum / len(files)}


def metrics(model, cfg, s):
    entry = cfg["styles"][s]
    return {**heldout_losses(model, entry["image"], cfg["data"]["style_size"]), **temporal_metrics(model)}


def contact_sheet(model, style_image, path, tile_h=240, run_h=360):
    """Two rows: [painting | face in | face out] and [webcam-like clip frame out | scene in | scene out].
    Inputs are run at 360 px high (the scale of a 640x360 camera frame) and shown at tile_h."""
    face = resize_h(load_rgb(os.path.join(DATA, FACE)), run_h)
    scene = resize_h(load_rgb(os.path.join(DATA, SCENE)), run_h)
    clip = resize_h(clip_frames()[0][0], run_h)
    paint = load_rgb(os.path.join(DATA, style_image))
    row1 = [paint, face, stylize(model, face)]
    row2 = [stylize(model, clip), scene, stylize(model, scene)]
    rows = [np.concatenate([resize_h(t, tile_h) for t in r], 1) for r in (row1, row2)]
    w = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, w - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    sheet = np.concatenate(rows, 0)
    Image.fromarray(sheet).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)

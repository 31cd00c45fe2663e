"""Gallery thumbnails for the popup: every painting style and avatar of models/manifest.json run
on one sample portrait by the exported network itself (model.json + weights.bin through the
reference interpreter brushcam_train.export.run_ops, the op list the extension runs), written next
to the model as thumb.jpg (128x128). Regenerate after exporting a model:

  npm run thumbnails        (= /usr/bin/python3 training/thumbnails.py)

The sample portrait is faces/london/lisa/lisa1.jpg of ../shared/data (CC0): a styles' thumbnail is
its head and shoulders, an avatar's the aligned face crop the extension gives the avatar network
(brushcam_anime.align, the same definition as src/engine/avatar/alignment.ts).
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from brushcam_anime.align import aligned_crop, crop_from_eyes  # noqa: E402
from brushcam_train.export import read_model, run_ops  # noqa: E402

REPO = os.path.dirname(HERE)
MODELS = os.path.join(REPO, "models")
DATA = os.path.join(REPO, "..", "shared", "data")
SAMPLE = "faces/london/lisa/lisa1.jpg"
# lisa1.tem's points are in the 600x800 original of the 384x512 jpg; points 0 and 1 are the pupils.
TEM_WIDTH = 600
SIZE = 128
# Styles paint the portrait at this size (a multiple of 16, as every style network accepts),
# then it is shrunk to SIZE: strokes at the scale they have on a small call picture.
STYLE_RUN = 192
THUMB = "thumb.jpg"
JPEG_QUALITY = 90


def sample_portrait(data=DATA):
    """(RGB uint8 image, its two pupils (x, y)) of the sample portrait."""
    path = os.path.join(data, SAMPLE)
    bgr = cv2.imread(path)
    if bgr is None:
        raise FileNotFoundError(f"the sample portrait {path} is missing (../shared/data)")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    with open(os.path.splitext(path)[0] + ".tem") as f:
        lines = f.read().strip().splitlines()
    k = rgb.shape[1] / TEM_WIDTH
    eyes = [tuple(float(v) * k for v in lines[1 + i].split()[:2]) for i in (0, 1)]
    return rgb, eyes


def model_input(kind, rgb, eyes):
    """The picture a model of `kind` ('style' | 'avatar') is given, RGB uint8."""
    if kind == "avatar":
        return aligned_crop(rgb, crop_from_eyes(*eyes), SIZE)
    # Head and shoulders: a square as wide as the picture, the eyes 40% down.
    h, w = rgb.shape[:2]
    side = min(w, h)
    eye_y = (eyes[0][1] + eyes[1][1]) / 2
    top = int(round(min(max(eye_y - 0.4 * side, 0), h - side)))
    square = rgb[top:top + side, (w - side) // 2:(w - side) // 2 + side]
    return cv2.resize(square, (STYLE_RUN, STYLE_RUN), interpolation=cv2.INTER_AREA)


def run_model(folder, picture):
    """The network of models/<folder> on an RGB uint8 picture, RGB uint8 out (SIZE x SIZE)."""
    meta, weights = read_model(os.path.join(MODELS, folder))
    x = torch.from_numpy(picture.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        y = run_ops(meta["ops"], weights, x).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    out = (y * 255.0 + 0.5).astype(np.uint8)
    if out.shape[0] != SIZE:
        out = cv2.resize(out, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return out


def gallery_entries(manifest=None):
    """The manifest entries the popup shows as thumbnails: trained styles and avatars."""
    if manifest is None:
        with open(os.path.join(MODELS, "manifest.json")) as f:
            manifest = json.load(f)
    return [m for m in manifest["models"] if m["kind"] in ("style", "avatar") and m.get("folder") and not m.get("builtin")]


def thumbnail(entry, data=DATA):
    rgb, eyes = sample_portrait(data)
    return run_model(entry["folder"], model_input(entry["kind"], rgb, eyes))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="model ids (default: every gallery entry)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    entries = gallery_entries()
    if args.only:
        unknown = set(args.only) - {e["id"] for e in entries}
        if unknown:
            ap.error(f"not a style or avatar of models/manifest.json: {', '.join(sorted(unknown))}")
        entries = [e for e in entries if e["id"] in args.only]
    for e in entries:
        out = os.path.join(MODELS, e["folder"], THUMB)
        img = thumbnail(e)
        cv2.imwrite(out, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        print(f"{os.path.relpath(out, REPO)}: {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()

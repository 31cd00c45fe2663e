"""Side-by-side sheet: the same frames stylised by an artist model (learned from a collection) and
by a single-painting model of the same artist, both read back from their exported files
(models/style/<id>/model.json + weights, run by the op-list interpreter the parity tests check).

  cd training && /usr/bin/python3 -m brushcam_artist.compare --artist van_gogh --single starry_night
  ... --artist monet --single giverny_footbridge --single-models /work/runs/style/exports
      (a single-painting model exported outside the shipped ones: configs/giverny_footbridge.toml)

Rows: [input | artist model | single-painting model] for a held-out face, a frame of the
evaluation clip (video/people/d0.mp4) and a held-out scene, run at 360 px high (a 640x360 camera
frame's scale), padded to each model's input multiple. Writes
models/style/<artist>/compare-<single>.png.
"""
import argparse
import os

import numpy as np
import torch
from PIL import Image

from brushcam_train import evaluate
from brushcam_train.data import load_rgb, to_tensor
from brushcam_train.export import read_model, run_ops

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def exported(folder):
    meta, weights = read_model(folder)
    m = int(meta.get("arch", {}).get("input_multiple", 4))

    def run(rgb):
        h, w = rgb.shape[:2]
        H, W = -(-h // m) * m, -(-w // m) * m
        x = torch.nn.functional.pad(to_tensor(np.ascontiguousarray(rgb))[None], [0, W - w, 0, H - h], mode="replicate")
        with torch.no_grad():
            y = run_ops(meta["ops"], weights, x)[0, :, :h, :w]
        return (y.permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    return meta, run


def sheet(artist, single, models_dir, out=None, run_h=360, tile_h=240, single_models=None):
    a_meta, a_run = exported(os.path.join(models_dir, artist))
    s_meta, s_run = exported(os.path.join(single_models or models_dir, single))
    frames = [evaluate.resize_h(load_rgb(os.path.join(evaluate.DATA, evaluate.FACE)), run_h),
              evaluate.resize_h(evaluate.clip_frames()[0][0], run_h),
              evaluate.resize_h(load_rgb(os.path.join(evaluate.DATA, evaluate.SCENE)), run_h)]
    rows = [np.concatenate([evaluate.resize_h(t, tile_h) for t in (f, a_run(f), s_run(f))], 1) for f in frames]
    w = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, w - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    out = out or os.path.join(models_dir, artist, f"compare-{single}.png")
    Image.fromarray(np.concatenate(rows, 0)).quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    return out, a_meta.get("title", artist), s_meta.get("title", single)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artist", required=True, help="id of the artist model under models/style/")
    ap.add_argument("--single", required=True, help="id of a single-painting model of the same artist")
    ap.add_argument("--models", default=os.path.join(REPO, "models", "style"))
    ap.add_argument("--single-models", default=None, help="folder of the single-painting model (default: --models)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    for base, d in ((a.models, a.artist), (a.single_models or a.models, a.single)):
        if not os.path.exists(os.path.join(base, d, "model.json")):
            raise SystemExit(f"no exported model at {os.path.join(base, d)}")
    out, at, st = sheet(a.artist, a.single, a.models, a.out, single_models=a.single_models)
    print(f"wrote {out}: rows face / clip frame / scene; columns input | {at} | {st}")


if __name__ == "__main__":
    main()

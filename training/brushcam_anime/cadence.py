"""What the caller sees of the avatar at each translator cadence: the full translator on every
k-th frame (the smoother's drawing held in between), against a cheaper tier on every frame.

  node bench/anime-tracks.mjs      # the crop tracks, from the repo root after `npm run build`
  cd training && /usr/bin/python3 -m brushcam_anime.cadence [--model ../models/anime/anime] \
      [--tier ../models/anime/anime/tiny] [--clips d0 d3 d9 d12 src_s18] [--frames 150] [--json out.json]

On each people clip (video/people, never trained on), along the extension's smoothed crop track,
the reference for frame t is the full translator's drawing of frame t's aligned crop: what an
avatar that followed the face on every frame with the best network would show. Each cadence
runs the shipped avatar smoother (brushcam_anime/smoothing.py) on the frames it translates and
shows its last output on the others, as the extension does (src/engine/avatar/avatar-painter.ts).
Per cadence, over the frames with a tracked face:

  ssim / feat:  luma SSIM and SqueezeNet feature distance (brushcam_train.fidelity, the style
                rows' measures) of the shown avatar against the reference, in the 128-px crop;
  mouth / eyes: Spearman rank correlation across frames between the input crop's mouth-open
                (eyes-open) proxy and the shown avatar's (brushcam_anime.features): a drawing
                one frame late loses it where the face moves.

The numbers say which the governor should prefer when the full translator cannot run on every
frame: its drawing, late, or the tier's, on time.
"""
import argparse
import json
import os

import numpy as np
import torch

from brushcam_train.fidelity import feature_distance, ssim

from .features import clip_crops, proxies, spearman
from .smoothing import AvatarSmoother

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIPS = ["d0", "d3", "d9", "d12", "src_s18"]


def shown(drawings, crops, stride):
    """The avatar on screen per frame: the smoother's output on every `stride`-th frame, held between."""
    sm, out, last = AvatarSmoother(), [], None
    for t, (y, x) in enumerate(zip(drawings, crops)):
        if last is None or t % stride == 0:
            last = sm(x, y)
        out.append(last)
    return out


def score(seq, ref, crops):
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]
    s = [ssim(t(a), t(r)) for a, r in zip(seq, ref)]
    f = [feature_distance(t(a), t(r)) for a, r in zip(seq, ref)]
    pin = [proxies(x) for x in crops]
    pout = [proxies(a) for a in seq]
    return {"ssim": float(np.mean(s)), "feat": float(np.mean(f)),
            "mouth": spearman([p["mouth"] for p in pin], [p["mouth"] for p in pout]),
            "eyes": spearman([p["eyes"] for p in pin], [p["eyes"] for p in pout])}


def load(folder):
    import sys
    sys.path.insert(0, os.path.join(REPO, "training"))
    from eval_anime import ExportedDirection
    return ExportedDirection(folder)


@torch.no_grad()
def draw(G, crops, batch=16):
    from .nets import ANIME, HUMAN
    out = []
    for i in range(0, len(crops), batch):
        x = torch.from_numpy(np.stack(crops[i:i + batch])).permute(0, 3, 1, 2).contiguous()
        out.extend(y.permute(1, 2, 0).numpy() for y in G(x, HUMAN, ANIME))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "models/anime/anime"))
    ap.add_argument("--tier", default=os.path.join(REPO, "models/anime/anime/tiny"))
    ap.add_argument("--tracks", default=os.path.join(REPO, "build/anime-tracks/tracks.json"))
    ap.add_argument("--clips", nargs="+", default=CLIPS)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--strides", default="1,2,3")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if not os.path.exists(a.tracks):
        raise SystemExit(f"{a.tracks} not found: run `node bench/anime-tracks.mjs` from the repo root first")
    tracks = json.load(open(a.tracks))
    full, tier = load(a.model), load(a.tier)
    size = int(full.arch["size"])
    strides = [int(s) for s in a.strides.split(",")]
    rows = {}
    for name in a.clips:
        crops = list(clip_crops(tracks, name, size, a.frames))
        ref = draw(full, crops)
        small = draw(tier, crops)
        row = {"frames": len(crops)}
        for k in strides:
            row[f"full/{k}"] = score(shown(ref, crops, k), ref, crops)
            row[f"tier/{k}"] = score(shown(small, crops, k), ref, crops)
        rows[name] = row
        print(name, json.dumps({k: ({m: round(v, 3) if v is not None else None for m, v in r.items()} if isinstance(r, dict) else r)
                                for k, r in row.items()}), flush=True)
    keys = [k for k in next(iter(rows.values())) if k != "frames"]
    mean = {k: {m: round(float(np.mean([r[k][m] for r in rows.values() if r[k][m] is not None])), 3)
                for m in ("ssim", "feat", "mouth", "eyes")} for k in keys}
    print("| cadence | SSIM | feature distance | mouth | eyes |\n|---|---|---|---|---|")
    for k, v in mean.items():
        print(f"| {k} | {v['ssim']} | {v['feat']} | {v['mouth']} | {v['eyes']} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"clips": rows, "mean": mean, "model": a.model, "tier": a.tier}, f, indent=1)


if __name__ == "__main__":
    main()

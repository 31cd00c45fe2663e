"""Is the face's expression carried over to the avatar? Proxies measured on the people clips
(video/people, never trained on), along the crop tracks the extension computes
(node bench/anime-tracks.mjs), in the aligned crop where the alignment puts the eyes and the
mouth at fixed places (align.py: eyes 0.2 eye distances above the centre, 1/3.2 of the side apart):

  mouth openness: the share of dark pixels (luma under 0.6 of the cheeks' median) in the mouth box;
  eye openness:   the same in the two eye boxes;
  smile width:    the spread of dark pixels across the mouth box (their horizontal standard deviation).

Each proxy is computed on the input crop and on the avatar for the same frame. Carried over =
Spearman's rank correlation across the frames of a clip (1: the avatar opens its mouth exactly when
the face does; 0: no relation), and the agreement of the two median splits (0.5 is chance).

  cd training && /usr/bin/python3 -m brushcam_anime.features (--ckpt C | --model ../models/anime/anime) [--clips d0 d3 ...]"""
import argparse
import json
import os

import cv2
import numpy as np
import torch

from brushcam_train.loss_net import DATA

from .align import CENTRE_BELOW_EYES, SIDE_PER_EYE_DISTANCE, aligned_crop
from .nets import ANIME, HUMAN

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def boxes(n):
    """(mouth, eyes, cheeks) boxes as (x0, y0, x1, y1) in an n x n aligned crop."""
    d = n / SIDE_PER_EYE_DISTANCE
    ey = n / 2 - CENTRE_BELOW_EYES * d
    mouth_y = ey + 1.15 * d
    mouth = (n / 2 - 0.45 * d, mouth_y - 0.25 * d, n / 2 + 0.45 * d, mouth_y + 0.25 * d)
    eyes = [(n / 2 + s * 0.5 * d - 0.3 * d, ey - 0.15 * d, n / 2 + s * 0.5 * d + 0.3 * d, ey + 0.15 * d) for s in (-1, 1)]
    cheeks = [(n / 2 + s * 0.55 * d - 0.2 * d, ey + 0.45 * d, n / 2 + s * 0.55 * d + 0.2 * d, ey + 0.8 * d) for s in (-1, 1)]
    r = lambda b: tuple(int(round(v)) for v in b)
    return r(mouth), [r(b) for b in eyes], [r(b) for b in cheeks]


def proxies(img):
    """img: n x n x 3 float in [0, 1] -> {mouth, eyes, smile}."""
    n = img.shape[0]
    y = img @ np.array([0.299, 0.587, 0.114], np.float32)
    mouth, eyes, cheeks = boxes(n)
    ref = np.median(np.concatenate([y[b[1]:b[3], b[0]:b[2]].ravel() for b in cheeks]))
    dark = y < 0.6 * ref
    part = lambda b: dark[b[1]:b[3], b[0]:b[2]]
    m = part(mouth)
    xs = np.nonzero(m)[1]
    return {"mouth": float(m.mean()), "eyes": float(np.mean([part(b).mean() for b in eyes])),
            "smile": float(xs.std() / m.shape[1]) if len(xs) > 3 else 0.0}


def spearman(a, b):
    """Rank correlation (ties share their mean rank); None when either series never changes."""
    from scipy.stats import rankdata
    if np.std(a) == 0 or np.std(b) == 0:
        return None
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def carried(inp, out):
    a, b = np.array(inp), np.array(out)
    agree = float(np.mean((a > np.median(a)) == (b > np.median(b))))
    rho = spearman(a, b)
    return {"spearman": None if rho is None else round(rho, 3), "median_split_agreement": round(agree, 3)}


@torch.no_grad()
def measure(G, size, tracks, clips, frames):
    out = {}
    for name in clips:
        tr = tracks["clips"][name]
        cap = cv2.VideoCapture(os.path.join(DATA, "video/people", name + ".mp4"))
        rows = {"in": [], "out": []}
        for i in range(min(frames, len(tr["smooth"]))):
            ok, bgr = cap.read()
            if not ok:
                break
            c = tr["smooth"][i]
            if c is None:
                continue
            src = aligned_crop(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (c["cx"], c["cy"], c["size"], c["roll"]), size).astype(np.float32) / 255
            y = G(torch.from_numpy(src).permute(2, 0, 1)[None], HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
            rows["in"].append(proxies(src))
            rows["out"].append(proxies(np.ascontiguousarray(y)))
        out[name] = {k: carried([r[k] for r in rows["in"]], [r[k] for r in rows["out"]]) for k in ("mouth", "eyes", "smile")}
        out[name]["frames"] = len(rows["in"])
        print(name, json.dumps(out[name]), flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--ckpt")
    who.add_argument("--model")
    ap.add_argument("--tracks", default=os.path.join(REPO, "build/anime-tracks/tracks.json"))
    ap.add_argument("--clips", nargs="+", default=["d0", "d3", "d9", "d12", "src_s18"])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.model:
        import sys
        sys.path.insert(0, os.path.join(REPO, "training"))
        from eval_anime import ExportedDirection
        G, size = ExportedDirection(a.model), None
        size = G.arch["size"]
    else:
        from .nets import load_generator
        ck = torch.load(a.ckpt, map_location="cpu")
        G, size = load_generator(ck), ck["arch"]["size"]
    res = measure(G, size, json.load(open(a.tracks)), a.clips, a.frames)
    mean = {k: {m: round(float(np.mean([r[k][m] for r in res.values() if r[k][m] is not None])), 3)
                for m in ("spearman", "median_split_agreement")} for k in ("mouth", "eyes", "smile")}
    print("mean", json.dumps(mean))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"clips": res, "mean": mean, "who": a.ckpt or a.model}, f, indent=1)


if __name__ == "__main__":
    main()

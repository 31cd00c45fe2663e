"""Is the face's expression carried over to the avatar? Proxies measured on the people clips
(video/people, never trained on), along the crop tracks the extension computes
(node bench/anime-tracks.mjs), in the aligned crop where the alignment puts the eyes and the
mouth at fixed places (align.py: eyes 0.2 eye distances above the centre, 1/3.2 of the side apart):

  mouth openness: the share of dark pixels (luma under 0.6 of the cheeks' median) in the mouth box;
  eye openness:   the same in the two eye boxes;
  smile width:    the spread of dark pixels across the mouth box (their horizontal standard deviation).

Identity proxies (`--faces`: across the people of the validation split, since a person keeps them
for a whole clip), in the same aligned crop:

  glasses:     the strongest horizontal edge in each column of the nose bridge between the eyes
               (|d luma / dy|, mean over the columns), over the cheeks' mean gradient: a frame's
               bridge is a hard horizontal line, skin is not (checked by eye: of the validation
               selfies with the 10 highest values 8 wear glasses, of the 10 lowest none; on the
               people clips d9, the one with glasses, scores highest);
  beard:       the share of dark pixels (as mouth) in the chin box below the mouth;
  hair luma:   mean luma of the hair boxes (above the forehead and beside the temples);
  hair warmth: mean red minus blue there (brown/blond/red hair against black or grey).

These are unvalidated proxies (no labels here): `--faces` also prints the input glasses proxy on
the people clips, where d9 wears glasses and the others do not, as a check of the glasses proxy.

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


def identity_boxes(n):
    """(bridge, chin, hair boxes) as (x0, y0, x1, y1) in an n x n aligned crop."""
    d = n / SIDE_PER_EYE_DISTANCE
    ey = n / 2 - CENTRE_BELOW_EYES * d
    mouth_y = ey + 1.15 * d
    bridge = (n / 2 - 0.12 * d, ey - 0.3 * d, n / 2 + 0.12 * d, ey + 0.1 * d)
    chin = (n / 2 - 0.45 * d, mouth_y + 0.35 * d, n / 2 + 0.45 * d, mouth_y + 0.75 * d)
    hair = [(n / 2 - 0.7 * d, 0, n / 2 + 0.7 * d, ey - 1.1 * d)] + \
           [(n / 2 + s * 1.35 * d - 0.15 * d, ey - 0.9 * d, n / 2 + s * 1.35 * d + 0.15 * d, ey + 0.2 * d) for s in (-1, 1)]
    r = lambda b: tuple(max(0, int(round(v))) for v in b)
    return r(bridge), r(chin), [r(b) for b in hair]


def identity_proxies(img):
    """img: n x n x 3 float in [0, 1] -> {glasses, beard, hair_luma, hair_warmth}."""
    n = img.shape[0]
    y = img @ np.array([0.299, 0.587, 0.114], np.float32)
    gx = cv2.Sobel(y, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(y, cv2.CV_32F, 0, 1, ksize=3) / 8
    g = np.hypot(gx, gy)
    _, _, cheeks = boxes(n)
    bridge, chin, hair = identity_boxes(n)
    part = lambda a, b: a[b[1]:b[3], b[0]:b[2]]
    ref = np.median(np.concatenate([part(y, b).ravel() for b in cheeks]))
    cheek_g = np.mean([part(g, b).mean() for b in cheeks])
    hair_px = np.concatenate([part(img, b).reshape(-1, 3) for b in hair])
    return {"glasses": float(np.abs(part(gy, bridge)).max(0).mean() / (cheek_g + 0.01)),
            "beard": float((part(y, chin) < 0.6 * ref).mean()),
            "hair_luma": float(hair_px.mean(0) @ np.array([0.299, 0.587, 0.114])),
            "hair_warmth": float(hair_px[:, 0].mean() - hair_px[:, 2].mean())}


IDENTITY = ("glasses", "beard", "hair_luma", "hair_warmth")
TOP = 0.15   # about the share of the validation selfies that wear glasses (by eye)


@torch.no_grad()
def measure_faces(G, faces):
    """Identity proxies, input vs avatar, across the faces (uint8 n x n x 3 aligned crops)."""
    rows = {"in": [], "out": []}
    for im in faces:
        x = im.astype(np.float32) / 255
        y = G(torch.from_numpy(x).permute(2, 0, 1)[None], HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
        rows["in"].append(identity_proxies(x))
        rows["out"].append(identity_proxies(np.ascontiguousarray(y)))
    res = {k: carried([r[k] for r in rows["in"]], [r[k] for r in rows["out"]]) for k in IDENTITY}
    # glasses are rare: of the faces in the inputs' top TOP share, how many are in the avatars' top share
    a, b = (np.array([r["glasses"] for r in rows[k]]) for k in ("in", "out"))
    top = max(1, int(round(TOP * len(a))))
    res["glasses"]["top_share_recall"] = round(len(set(np.argsort(-a)[:top]) & set(np.argsort(-b)[:top])) / top, 3)
    res["faces"] = len(faces)
    return res


def clip_crops(tracks, name, size, frames):
    """The aligned face crops (float RGB in [0, 1]) of a people clip's first `frames` frames, along
    its smoothed track; frames without a tracked face are skipped."""
    tr = tracks["clips"][name]
    cap = cv2.VideoCapture(os.path.join(DATA, "video/people", name + ".mp4"))
    for i in range(min(frames, len(tr["smooth"]))):
        ok, bgr = cap.read()
        if not ok:
            break
        c = tr["smooth"][i]
        if c is not None:
            yield aligned_crop(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (c["cx"], c["cy"], c["size"], c["roll"]), size).astype(np.float32) / 255


def model_arguments(description):
    """A parser with the model to measure: --ckpt (a training checkpoint) or --model (an export)."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--ckpt")
    who.add_argument("--model")
    return ap


def glasses_check(tracks, clips, size, frames=48):
    """The input glasses proxy per people clip (mean over frames): d9 wears glasses."""
    out = {}
    for name in clips:
        v = [identity_proxies(src)["glasses"] for src in clip_crops(tracks, name, size, frames)]
        out[name] = round(float(np.mean(v)), 3) if v else None
    return out


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
        rows = {"in": [], "out": []}
        for src in clip_crops(tracks, name, size, frames):
            y = G(torch.from_numpy(src).permute(2, 0, 1)[None], HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
            rows["in"].append(proxies(src))
            rows["out"].append(proxies(np.ascontiguousarray(y)))
        out[name] = {k: carried([r[k] for r in rows["in"]], [r[k] for r in rows["out"]]) for k in ("mouth", "eyes", "smile")}
        out[name]["frames"] = len(rows["in"])
        print(name, json.dumps(out[name]), flush=True)
    return out


def main(argv=None):
    ap = model_arguments(__doc__)
    ap.add_argument("--tracks", default=os.path.join(REPO, "build/anime-tracks/tracks.json"))
    ap.add_argument("--clips", nargs="+", default=["d0", "d3", "d9", "d12", "src_s18"])
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--json")
    ap.add_argument("--faces", action="store_true",
                    help="identity proxies across the validation split's people (the config: the checkpoint's, or --config)")
    ap.add_argument("--config", default=os.path.join(REPO, "training/configs_anime/anime_v4.toml"))
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
    if a.faces:
        import tomllib
        from .data import FaceSets
        cfg = ck["config"] if a.ckpt else tomllib.load(open(a.config, "rb"))
        sets = FaceSets.for_config(cfg["data"], size)
        res = measure_faces(G, [im for _, im in sets.human_held])
        res["glasses_input_per_clip"] = glasses_check(json.load(open(a.tracks)), a.clips, size)
        res["who"] = a.ckpt or a.model
        print(json.dumps(res))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
        return
    res = measure(G, size, json.load(open(a.tracks)), a.clips, a.frames)
    mean = {k: {m: round(float(np.mean([r[k][m] for r in res.values() if r[k][m] is not None])), 3)
                for m in ("spearman", "median_split_agreement")} for k in ("mouth", "eyes", "smile")}
    print("mean", json.dumps(mean))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"clips": res, "mean": mean, "who": a.ckpt or a.model}, f, indent=1)


if __name__ == "__main__":
    main()

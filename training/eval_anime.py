"""The anime avatar's numbers: translation quality on the held-out split, and stability on the
people clips along the crop tracks the extension itself computes.

  node bench/anime-tracks.mjs            # from the repo root, after `npm run build`
  cd training && /usr/bin/python3 eval_anime.py (--ckpt /work/runs/anime/anime_v2/ckpt.pt | --model ../models/anime/anime) \
      [--tracks ../build/anime-tracks/tracks.json] [--frames 48] [--height 360] [--json out.json] [--card]

Quality (brushcam_anime.evaluate.metrics): KID on SqueezeNet features between translated held-out
humans and held-out anime faces, against the untranslated humans (target ratio <= 0.5); cycle and
reconstruction L1.

Stability, per clip (video/people: d0 d3 d9 d12 src_s18, never trained on), for the crop track
with the tracker's One Euro smoothing ("smoothed") and without it ("raw"):
  - crop jitter: the crop centre's deviation from its own centred moving average over 0.5 s,
    RMS over both axes in pixels of the clip, on the frames where the head is still (that average
    moves less than 0.5% of the crop side per frame); the size's deviation in % of the size;
  - temporal error inside the face box, for the avatar along the smoothed track with and without
    the avatar smoother (brushcam_anime/smoothing.py, as the extension runs it) and along the raw
    track: every frame's aligned crop (training/brushcam_anime/align.py,
    the run time's alignment) translated human -> anime and pasted back with a feathered ellipse
    (face swap); then ReCoNet's warped error as eval_temporal.py computes it (squared difference
    between output t+1 and output t warped by the input's DIS flow, non-occluded pixels, 0-255
    scale), over the pixels of the ellipse of the smoothed crop at t+1. "input" is the clip's own
    error in the same pixels;
  - the same error for the avatar as the extension shows it ("product"): the face lock's box on
    every frame (brushcam_anime/facelock.py), a translation there every STRIDE-th frame held by the
    avatar smoother, the held avatar pasted at the box in between (flicker_diag.py's product_lock).
--card writes the table into models/anime/<id>/MODEL.md (between marker comments).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import torch

from brushcam_anime.align import aligned_crop, crop_matrix
from brushcam_anime.data import FaceSets
from brushcam_anime.evaluate import metrics
from brushcam_anime.facelock import FaceLock
from brushcam_anime.nets import ANIME, HUMAN, load_generator
from brushcam_anime.smoothing import AvatarSmoother
from brushcam_train.loss_net import DATA
from brushcam_train.motion import dis_flow, fb_mask, warp

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIPS = ["d0", "d3", "d9", "d12", "src_s18"]
# src/engine/avatar/compositor.ts: the feathered ellipse of the face swap
MASK_INNER, MASK_RX, MASK_RY = 0.72, 0.42, 0.5
STILL = 0.005          # trend speed below this fraction of the crop side per frame: the head is still
WINDOW_S = 0.5
STRIDE = 2            # the extension's translator cadence at 640x360 on this machine (every 2nd frame)
FLOOR_OVERRIDE = None   # --floor: the avatar smoother's noise floor, for a sweep (default: the shipped one)


def centred_mean(x, k):
    """Centred moving average of a 1-D series (edges: the window shrinks)."""
    c = np.cumsum(np.concatenate([[0.0], x]))
    n = len(x)
    lo = np.clip(np.arange(n) - k // 2, 0, n)
    hi = np.clip(np.arange(n) + k // 2 + 1, 0, n)
    return (c[hi] - c[lo]) / (hi - lo)


def jitter(track, fps):
    """{"centre_px", "size_pct", "still_frames"} of one track (the longest run of crops only)."""
    runs, cur = [], []
    for c in track:
        if c is None or c["state"] != "tracking":
            if cur:
                runs.append(cur)
            cur = []
        else:
            cur.append(c)
    if cur:
        runs.append(cur)
    k = max(3, int(round(WINDOW_S * fps)) | 1)
    dev, sdev, n = [], [], 0
    for run in runs:
        if len(run) < k:
            continue
        cx, cy, s = (np.array([c[key] for c in run], np.float64) for key in ("cx", "cy", "size"))
        tx, ty, ts = centred_mean(cx, k), centred_mean(cy, k), centred_mean(s, k)
        speed = np.hypot(np.gradient(tx), np.gradient(ty))
        still = speed < STILL * ts
        still[: k // 2] = still[len(run) - k // 2:] = False   # edges: no full window
        dev.append(((cx - tx) ** 2 + (cy - ty) ** 2)[still] / 2)
        sdev.append(((s - ts) / ts)[still] ** 2)
        n += int(still.sum())
    if n == 0:
        return {"centre_px": None, "size_pct": None, "still_frames": 0}
    return {"centre_px": round(float(np.sqrt(np.concatenate(dev).mean())), 3),
            "size_pct": round(float(np.sqrt(np.concatenate(sdev).mean()) * 100), 3), "still_frames": n}


def ellipse_alpha(size):
    """The compositor's feathered ellipse on a size x size crop, float32 [size, size] (its colour
    matching at the rim is left out)."""
    u = (np.arange(size) + 0.5) / size - 0.5
    r = np.sqrt((u[None, :] / MASK_RX) ** 2 + (u[:, None] / MASK_RY) ** 2)   # 1 on the ellipse
    t = np.clip((r - MASK_INNER) / (1 - MASK_INNER), 0, 1)
    return (1 - t * t * (3 - 2 * t)).astype(np.float32)


def paste(frame, avatar, crop, k, alpha):
    """frame (HxWx3 float32 0-1, the working size) with the avatar (n x n x 3) pasted at `crop`
    (clip pixels; k = working / clip scale)."""
    n = avatar.shape[0]
    cx, cy, side, roll = crop
    m = crop_matrix((cx * k + 0.5 * k - 0.5, cy * k + 0.5 * k - 0.5, side * k, roll), n)
    h, w = frame.shape[:2]
    a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
    av = cv2.warpAffine(avatar, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return frame * (1 - a) + av * a, a[..., 0]


def pair_flows(work, t):
    """DIS flows between frames t and t + 1 of the input: (t+1 -> t, t -> t+1)."""
    ga = cv2.cvtColor((work[t] * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor((work[t + 1] * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    return dis_flow(gb, ga), dis_flow(ga, gb)


def pair_errors(seqs, t, f21, f12, region):
    """Per (name, frames) sequence: the mean squared error (0-255 scale) between its frame t + 1 and
    its frame t warped by the input's flow, over `region` where the flow is consistent both ways."""
    mask = torch.from_numpy(fb_mask(f21, f12) * region)[None, None]
    flow = torch.from_numpy(f21.transpose(2, 0, 1).copy())[None]
    out = {}
    for key, seq in seqs:
        prev = torch.from_numpy(seq[t]).permute(2, 0, 1)[None]
        cur = torch.from_numpy(seq[t + 1]).permute(2, 0, 1)[None]
        e = ((cur - warp(prev, flow)) * 255).pow(2).mean(1, keepdim=True)
        out[key] = float((e * mask).sum() / mask.sum())
    return out


def product_frames(G, full, work, crops, k, alpha, size, stride=None, smoother=None):
    """The avatar as the extension shows it: the face lock's box on every frame (from the tracker's
    crop, `crops[i]` or None without a face), a translation there every `stride`-th frame (default
    STRIDE) held by the avatar smoother, the held avatar pasted at the box in between. `full`: the
    clip's frames, `work`: the same at the working size (k = working / clip)."""
    stride = stride or STRIDE
    lock, held, cur, out = FaceLock(), smoother or AvatarSmoother(), None, []
    for i, (f, w, c) in enumerate(zip(full, work, crops)):
        if c is None:
            lock.reset(); held.reset(); cur = None
            out.append(w)
            continue
        box = lock.follow(f, c)
        if cur is None or i % stride == 0:
            src = aligned_crop(f, box, size).astype(np.float32) / 255
            with torch.no_grad():
                y = G(torch.from_numpy(src).permute(2, 0, 1)[None], HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
            cur = held(src, np.ascontiguousarray(y, dtype=np.float32))
            lock.set_reference(f, box)
        out.append(paste(w, cur, box, k, alpha)[0])
    return out


def stability(G, size, tracks, clips, frames, height):
    """Per clip: jitter of both tracks, and the masked temporal error of input / smoothed / raw."""
    alpha = ellipse_alpha(size)
    table = {}
    for name in clips:
        tr = tracks["clips"].get(name)
        if tr is None:
            raise SystemExit(f"{name}: not in the tracks file (run node bench/anime-tracks.mjs)")
        row = {"fps": tr["fps"], "frames_with_face": sum(1 for f in tr["faces"] if f),
               "tracked_frames": len(tr["faces"]),
               "jitter_smoothed": jitter(tr["smooth"], tr["fps"]), "jitter_raw": jitter(tr["raw"], tr["fps"])}
        cap = cv2.VideoCapture(os.path.join(DATA, "video/people", name + ".mp4"))
        full = []
        while len(full) < min(frames, len(tr["smooth"])):
            ok, bgr = cap.read()
            if not ok:
                break
            full.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        k = height / full[0].shape[0]
        wk = round(full[0].shape[1] * k)
        work = [cv2.resize(f, (wk, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255 for f in full]
        outs = {"smoothed": [], "raw": [], "blended": []}
        regions = []
        floor = {"floor": FLOOR_OVERRIDE} if FLOOR_OVERRIDE is not None else {}
        blend = AvatarSmoother(**floor)
        for i, f in enumerate(full):
            for key, series in (("smoothed", tr["smooth"]), ("raw", tr["raw"]), ("blended", tr["smooth"])):
                c = series[i]
                if c is None:
                    outs[key].append(work[i])
                    if key == "smoothed":
                        regions.append(np.zeros(work[i].shape[:2], np.float32))
                    if key == "blended":
                        blend.reset()
                    continue
                crop = (c["cx"], c["cy"], c["size"], c["roll"])
                src = aligned_crop(f, crop, size).astype(np.float32) / 255
                x = torch.from_numpy(src).permute(2, 0, 1)[None]
                with torch.no_grad():
                    y = G(x, HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
                if key == "blended":
                    y = blend(src, y)
                out, a = paste(work[i], np.ascontiguousarray(y, dtype=np.float32), crop, k, alpha)
                outs[key].append(out)
                if key == "smoothed":
                    regions.append((a > 0.5).astype(np.float32))
        boxes = [(c["cx"], c["cy"], c["size"], c["roll"]) if c else None for c in tr["smooth"][:len(full)]]
        outs["product"] = product_frames(G, full, work, boxes, k, alpha, size, smoother=AvatarSmoother(**floor))
        errs = {"input": [], "smoothed": [], "raw": [], "blended": [], "product": []}
        for t in range(len(work) - 1):
            region = regions[t + 1]
            if region.sum() == 0:
                continue
            for key, e in pair_errors((("input", work), *outs.items()), t, *pair_flows(work, t), region).items():
                errs[key].append(e)
        row["temporal"] = {key: round(float(np.mean(v)), 2) if v else None for key, v in errs.items()}
        row["temporal_pairs"] = len(errs["input"])
        table[name] = row
        print(name, json.dumps(row), flush=True)
    return table


def summary_table(doc):
    lines = ["| clip | frames with a face | crop jitter, smoothed: centre px / size % (still frames) | raw | "
             "temporal error in the face box: input | avatar as the extension shows it (face lock, every 2nd frame, smoother) | "
             "/ input | every frame, smoothed crop + avatar smoother | smoothed crop | raw crop |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda j: f"{j['centre_px']} / {j['size_pct']} ({j['still_frames']})" if j["centre_px"] is not None else "- (0)"
    for name, r in doc["stability"].items():
        t = r["temporal"]
        lines.append(f"| {name} | {r['frames_with_face']}/{r['tracked_frames']} | {fmt(r['jitter_smoothed'])} | "
                     f"{fmt(r['jitter_raw'])} | {t['input']} | {t.get('product')} | "
                     f"{round(t['product'] / t['input'], 2) if t.get('product') and t['input'] else None}x | "
                     f"{t['blended']} | {t['smoothed']} | {t['raw']} |")
    mean = lambda f: round(float(np.mean([v for v in map(f, doc["stability"].values()) if v is not None])), 3)
    lines.append(f"| mean | | {mean(lambda r: r['jitter_smoothed']['centre_px'])} / {mean(lambda r: r['jitter_smoothed']['size_pct'])} | "
                 f"{mean(lambda r: r['jitter_raw']['centre_px'])} / {mean(lambda r: r['jitter_raw']['size_pct'])} | "
                 f"{mean(lambda r: r['temporal']['input'])} | {mean(lambda r: r['temporal'].get('product'))} | | "
                 f"{mean(lambda r: r['temporal']['blended'])} | "
                 f"{mean(lambda r: r['temporal']['smoothed'])} | {mean(lambda r: r['temporal']['raw'])} |")
    return "\n".join(lines)


BEGIN, END = "<!-- eval_anime:begin -->", "<!-- eval_anime:end -->"


def write_card(card, doc, cmd):
    text = open(card).read() if os.path.exists(card) else ""
    block = (f"{BEGIN}\n## Stability on the people clips (`training/eval_anime.py`)\n\n"
             f"Checkpoint step {doc['step']}; {doc['frames']} frames per clip at {doc['height']} px for the temporal error, "
             f"the first {doc['tracked_frames']} for the tracks (BlazeFace on every frame). Repeat: `{cmd}`.\n\n"
             + summary_table(doc) + f"\n{END}")
    if BEGIN in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(card, "w") as f:
        f.write(text)


class ExportedDirection(torch.nn.Module):
    """An exported models/anime/<id>/ folder (the op list the extension runs) with the generator's
    call signature, for the stability numbers of a shipped model whose checkpoint is not at hand."""

    def __init__(self, folder):
        super().__init__()
        from brushcam_artist.check import OpListModel
        self.net = OpListModel(folder)
        self.arch = self.net.meta["arch"]

    def forward(self, x, src, dst):
        assert (src, dst) == (HUMAN, ANIME), "an exported avatar model is the human -> anime direction only"
        return self.net(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--ckpt", help="a training checkpoint")
    who.add_argument("--model", help="an exported avatar folder (stability only: implies --no-quality)")
    ap.add_argument("--tracks", default=os.path.join(REPO, "build/anime-tracks/tracks.json"))
    ap.add_argument("--clips", nargs="+", default=CLIPS)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-quality", action="store_true", help="skip the held-out KID / cycle metrics")
    ap.add_argument("--json", default=None)
    ap.add_argument("--card", action="store_true", help="write the stability table into models/anime/<id>/MODEL.md")
    ap.add_argument("--id", default="anime")
    ap.add_argument("--floor", type=float, help="the avatar smoother's noise floor (default: the shipped one)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    global FLOOR_OVERRIDE
    FLOOR_OVERRIDE = a.floor
    if not os.path.exists(a.tracks):
        raise SystemExit(f"{a.tracks}: no crop tracks; run `node bench/anime-tracks.mjs` from the repo root first")
    if a.model:
        G = ExportedDirection(a.model)
        ck = {"step": G.net.meta.get("trained_steps", G.net.meta["id"]), "arch": {"size": G.arch["size"]}}
        a.no_quality = True
    else:
        ck = torch.load(a.ckpt, map_location="cpu")
        G = load_generator(ck)
    tracks = json.load(open(a.tracks))
    t0 = time.time()
    doc = {"ckpt": a.ckpt or a.model, "step": ck["step"], "frames": a.frames, "height": a.height,
           "tracked_frames": tracks["frames"]}
    if not a.no_quality:
        sets = FaceSets.for_config(ck["config"]["data"], ck["arch"]["size"])
        doc["quality"] = metrics(G, sets)
        print("quality", json.dumps(doc["quality"]), flush=True)
    doc["stability"] = stability(G, ck["arch"]["size"], tracks, a.clips, a.frames, a.height)
    doc["seconds"] = round(time.time() - t0, 1)
    print(summary_table(doc))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    if a.card:
        cmd = "node bench/anime-tracks.mjs && cd training && /usr/bin/python3 eval_anime.py --ckpt <ckpt> --card"
        write_card(os.path.join(REPO, "models/anime", a.id, "MODEL.md"), doc, cmd)


if __name__ == "__main__":
    sys.exit(main())

"""Where the avatar's flicker comes from: the face-box temporal error of eval_anime.py (ReCoNet's
warped error, output t+1 against output t warped by the input's DIS flow, inside the face ellipse,
0-255 squared) for avatars built to isolate one source each, on one stretch of one people clip.

  cd training && /usr/bin/python3 flicker_diag.py --clip d9 [--start 0] [--frames 48] [--stride 5]
      [--model ../models/anime/anime]        (after `node bench/anime-tracks.mjs --frames 600`)

Rows (the crop track is the extension's smoothed CropTracker on BlazeFace, build/anime-tracks):
  input                 the clip itself
  frozen_input          the clip's first frame shown for ever: what the measure charges a still picture
  frozen_avatar         the first avatar pasted at the median crop for ever: same, for the drawing
  per_frame_track       a translation every frame along the track, no smoothing (raw re-roll)
  per_frame_fixed_crop  the same at the median crop (re-roll without crop motion)
  per_frame_smoother    a translation every frame + the avatar smoother (eval_anime's shipped column)
  per_frame_smoother_fixed_crop
  tracker_geometry      the first avatar pasted along the track (the crop's own motion)
  flow_glued_avatar     the first avatar moved by the median input flow in the face (an oracle)
  product_tracker       as the extension ran before the face lock: a translation every --stride
                        frames through the smoother, the avatar held and pasted along the track between
  product_lock          as it runs now: the same, pasted and translated at the face lock's box
                        (brushcam_anime.facelock, src/engine/avatar/face-lock.ts)
  lock_geometry         the first avatar pasted at the face lock's box
Also printed: each row's edge contrast in the face box (mean luma gradient) and the error divided
by contrast squared (x100): a sharper picture pays more for the same flow noise."""
import argparse
import json
import os

import cv2
import numpy as np
import torch

import eval_anime as ea
from brushcam_anime.align import aligned_crop
from brushcam_anime.facelock import FaceLock
from brushcam_anime.nets import ANIME, HUMAN
from brushcam_anime.smoothing import AvatarSmoother
from brushcam_train.loss_net import DATA


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip", default="d9")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--model", default=os.path.join(ea.REPO, "models/anime/anime"))
    ap.add_argument("--tracks", default=os.path.join(ea.REPO, "build/anime-tracks/tracks.json"))
    ap.add_argument("--stride", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    G = ea.ExportedDirection(a.model)
    size = G.arch["size"]
    tr = json.load(open(a.tracks))["clips"][a.clip]
    cap = cv2.VideoCapture(os.path.join(DATA, "video/people", a.clip + ".mp4"))
    full = []
    i = 0
    while len(full) < a.frames:
        ok, bgr = cap.read()
        if not ok:
            break
        if i >= a.start:
            full.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        i += 1
    sm = tr["smooth"][a.start:a.start + len(full)]
    k = a.height / full[0].shape[0]
    wk = round(full[0].shape[1] * k)
    work = [cv2.resize(f, (wk, a.height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255 for f in full]
    alpha = ea.ellipse_alpha(size)
    crops = [(c["cx"], c["cy"], c["size"], c["roll"]) for c in sm]
    med = tuple(float(np.median([c[j] for c in crops])) for j in range(4))

    def tr_(f, crop):
        src = aligned_crop(f, crop, size).astype(np.float32) / 255
        with torch.no_grad():
            y = G(torch.from_numpy(src).permute(2, 0, 1)[None], HUMAN, ANIME)[0].permute(1, 2, 0).numpy()
        return src, np.ascontiguousarray(y, dtype=np.float32)

    ys = [tr_(f, c) for f, c in zip(full, crops)]
    ysfix = [tr_(f, med) for f in full]
    y0 = ys[0][1]
    outs = {}
    # 1. one avatar, pasted along the smoothed track: paste motion only (crop jitter)
    outs["tracker_geometry"] = [ea.paste(w, y0, c, k, alpha)[0] for w, c in zip(work, crops)]
    # 2. per-frame translation, fixed crop: translator re-roll only (for the input's own change)
    outs["per_frame_fixed_crop"] = [ea.paste(w, y, med, k, alpha)[0] for w, (s, y) in zip(work, ysfix)]
    # 3. per-frame translation along the track (eval "smoothed")
    outs["per_frame_track"] = [ea.paste(w, y, c, k, alpha)[0] for w, c, (s, y) in zip(work, crops, ys)]
    # 4. shipped: per-frame translation + smoother along the track (eval "blended")
    b = AvatarSmoother()
    outs["per_frame_smoother"] = [ea.paste(w, b(s, y), c, k, alpha)[0] for w, c, (s, y) in zip(work, crops, ys)]
    # 5. fixed crop + smoother
    b = AvatarSmoother()
    outs["per_frame_smoother_fixed_crop"] = [ea.paste(w, b(s, y), med, k, alpha)[0] for w, (s, y) in zip(work, ysfix)]
    # 6. product cadence: translate every `stride` frames (+ smoother), hold between, along the track
    b = AvatarSmoother()
    seq, cur = [], None
    for t, (w, c, (s, y)) in enumerate(zip(work, crops, ys)):
        if t % a.stride == 0:
            cur = b(s, y)
        seq.append(ea.paste(w, cur, c, k, alpha)[0])
    outs["product_tracker"] = seq
    # 7. one avatar, one crop: only the background under the feathered rim changes
    outs["frozen_avatar"] = [ea.paste(w, y0, med, k, alpha)[0] for w in work]

    # 8. the oracle: one avatar glued to the face by a similarity fitted to the input's flow
    glued, box = [], list(crops[0])
    flows = [ea.pair_flows(work, t) for t in range(len(work) - 1)]
    glued.append(ea.paste(work[0], y0, tuple(box), k, alpha)[0])
    for t in range(len(work) - 1):
        f21 = flows[t][0]
        reg = ea.paste(work[t + 1], y0, tuple(box), k, alpha)[1] > 0.5
        d = np.median(f21[reg], axis=0) / k   # frame t+1 -> t, in clip pixels
        box[0] -= d[0]; box[1] -= d[1]
        glued.append(ea.paste(work[t + 1], y0, tuple(box), k, alpha)[0])
    outs["flow_glued_avatar"] = glued
    # 10. product cadence with the face lock: pasted at the registered box, translated there
    outs["product_lock"] = ea.product_frames(G, full, work, crops, k, alpha, size, stride=a.stride)
    # 11. lock geometry only: the first avatar, pasted at the locked box
    lock = FaceLock()
    seq = []
    for t, (w, f, c) in enumerate(zip(work, full, crops)):
        box = lock.follow(f, c)
        if t % a.stride == 0:
            lock.set_reference(f, box)
        seq.append(ea.paste(w, y0, box, k, alpha)[0])
    outs["lock_geometry"] = seq
    # 9. the camera frozen at frame 0: what the measure charges a picture that does not move at all
    outs["frozen_input"] = [work[0]] * len(work)

    regions = [(ea.paste(w, y0, c, k, alpha)[1] > 0.5).astype(np.float32) for w, c in zip(work, crops)]
    errs = {key: [] for key in ["input", *outs]}
    for t in range(len(work) - 1):
        for key, e in ea.pair_errors((("input", work), *outs.items()), t, *flows[t], regions[t + 1]).items():
            errs[key].append(e)
    # edge contrast inside the face box: mean gradient magnitude (0-255) of frame 1 of each output
    def contrast(img, region):
        g = cv2.cvtColor((img * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8, cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8
        return float((np.hypot(gx, gy) * region).sum() / region.sum())
    con = {key: contrast(seq[len(seq) // 2], regions[len(seq) // 2]) for key, seq in (("input", work), *outs.items())}
    print("contrast", json.dumps({k: round(v, 2) for k, v in con.items()}))
    print("error/contrast^2 x100", json.dumps({k: round(100 * float(np.mean(errs[k])) / con[k] ** 2, 2) for k in con}))
    cj = np.array([[c[0], c[1], c[2]] for c in crops])
    res = {key: round(float(np.mean(v)), 2) for key, v in errs.items()}
    res["crop_step_px_rms"] = round(float(np.sqrt((np.diff(cj[:, :2], axis=0) ** 2).sum(1).mean())), 3)
    res["crop_size_step_rms"] = round(float(np.sqrt((np.diff(cj[:, 2]) ** 2).mean())), 3)
    print(a.clip, a.start, json.dumps(res))


if __name__ == "__main__":
    main()

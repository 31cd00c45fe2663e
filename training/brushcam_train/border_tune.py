"""Clean edges for an exported style network: a short fine-tune of the op list's own weights.

Why the edges are striped: every convolution pads with zeros, and the networks were trained on
small crops (128 px for the artist networks: their 1/16 latent is 8x8 cells, a quarter of them
on the border). A 3x3 stride-2 convolution with 1 px of padding on an even input reads the
zero padding on the top and left at every downsampling and never on the bottom and right, so the
network learnt a different look for the first 1-2 latent cells on the left/top (the 10-25 px
band of stripes on the left) and for the upsampling convolutions' padding on the right/bottom.

The same network, run on the picture reflect-padded by 48 px and cropped back, has clean edges
(`border_score` below 1 on every shipped style) and the same interior. That is the teacher: the
student (the same op list and weights, zero padding, so nothing changes at run time) learns to
give the teacher's output at its own borders, on crops of photos and faces of several sizes and
aspect ratios. No discriminator or style loss: the interior is held to the teacher by the same
L1 loss, so the style stays what it was.

  /usr/bin/python3 -m brushcam_train.border_tune --model ../models/style/monet \
      --run /work/runs/border/monet [--steps 600] [--write]

Checkpoints (weights + Adam state) every --ckpt-every steps in --run, resumed automatically; the
log goes to <run>/log.txt. --write replaces the model's weights.bin (same manifest) and
parity.json and records the tune in model.json ("border_tune").
"""
import argparse
import json
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .export import read_model, run_ops, parity_input, PARITY_H, PARITY_W

DATA = os.environ.get("BRUSHCAM_DATA", os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "..", "shared", "data"))
TEACHER_PAD = 48
# (h, w) crop sizes: multiples of 16 (the artist networks' input multiple), landscape, portrait, square.
SIZES = [(144, 256), (176, 320), (192, 192), (256, 160), (128, 224), (208, 368)]
BAND = 32  # px along each edge weighted more in the loss and scored by border_score


def border_score(y, band=BAND):
    """How much the border rows/columns differ from their neighbours, relative to the interior.

    y: [1, 3, H, W] in [0, 1]. For each line (row or column) its mean colour; d_k = |mean(k+1) -
    mean(k)| summed over RGB. Returns the largest d_k within `band` lines of each edge divided by
    the largest d_k of the interior lines (the interior's own variation): above 1 means an edge
    line stands out more than anything inside the picture does."""
    cols = y[0].mean(1)
    rows = y[0].mean(2)
    dc = (cols[:, 1:] - cols[:, :-1]).abs().sum(0)
    dr = (rows[:, 1:] - rows[:, :-1]).abs().sum(0)
    ref = max(float(dc[band:-band].max()), float(dr[band:-band].max()), 1e-6)
    return {"top": float(dr[:band].max()) / ref, "bottom": float(dr[-band:].max()) / ref,
            "left": float(dc[:band].max()) / ref, "right": float(dc[-band:].max()) / ref}


def teacher_output(ops, weights, x, pad=TEACHER_PAD):
    with torch.no_grad():
        return run_ops(ops, weights, F.pad(x, [pad] * 4, mode="reflect"))[..., pad:-pad, pad:-pad]


def training_images():
    """Photos and faces the style networks were trained on (never the LivePortrait clips)."""
    out = []
    for sub, skip in (("photos/cq100", 8), ("faces/london/neutral_front", 8), ("faces/london/smiling_front", 8), ("faces/selfies", 0), ("photos/landscapes", 0)):
        d = os.path.join(DATA, sub)
        if not os.path.isdir(d):
            continue
        files = sorted(f for f in os.listdir(d) if f.lower().endswith((".jpg", ".jpeg", ".png")))[skip:]
        out += [os.path.join(d, f) for f in files[:400]]
    if not out:
        raise FileNotFoundError(f"no training images under {DATA} (photos/cq100, faces/...)")
    return out


class Crops:
    def __init__(self, seed):
        self.files = training_images()
        self.rng = random.Random(seed)
        self.cache = {}

    def image(self, path):
        if path not in self.cache:
            img = cv2.imread(path)
            if img is None:
                raise FileNotFoundError(path)
            self.cache[path] = np.ascontiguousarray(img[:, :, ::-1])
        return self.cache[path]

    def batch(self, n):
        h, w = self.rng.choice(SIZES)
        xs = []
        for _ in range(n):
            img = self.image(self.rng.choice(self.files))
            ih, iw = img.shape[:2]
            s = max(h / ih, w / iw) * self.rng.uniform(1.0, 1.8)
            img = cv2.resize(img, (max(w, round(iw * s)), max(h, round(ih * s))), interpolation=cv2.INTER_AREA)
            y0 = self.rng.randint(0, img.shape[0] - h)
            x0 = self.rng.randint(0, img.shape[1] - w)
            c = img[y0:y0 + h, x0:x0 + w]
            if self.rng.random() < 0.5:
                c = c[:, ::-1]
            xs.append(torch.from_numpy(np.ascontiguousarray(c)).permute(2, 0, 1).float() / 255)
        return torch.stack(xs)


def edge_weight(h, w, band=BAND, boost=4.0):
    yy = torch.arange(h).float()
    xx = torch.arange(w).float()
    dy = torch.minimum(yy, h - 1 - yy)[:, None]
    dx = torch.minimum(xx, w - 1 - xx)[None, :]
    d = torch.minimum(dy, dx)
    return 1 + boost * (d < band).float()


def clip_frames(names=("d3", "d9", "d0", "d12"), h=368, w=640):
    """One frame of each held-out clip (evaluation only), as [1, 3, h, w]."""
    out = []
    for n in names:
        cap = cv2.VideoCapture(os.path.join(DATA, "video", "people", f"{n}.mp4"))
        cap.set(cv2.CAP_PROP_POS_FRAMES, 30)
        ok, f = cap.read()
        if ok:
            f = cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)[:, :, ::-1]
            out.append((n, torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).float()[None] / 255))
    return out


def evaluate(ops, weights, frames):
    rows = []
    with torch.no_grad():
        for n, x in frames:
            s = border_score(run_ops(ops, weights, x))
            rows.append((n, max(s.values()), s))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="models/style/<id> (or a tier folder)")
    ap.add_argument("--run", required=True, help="folder for checkpoints and log")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--ckpt-every", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="write the tuned weights into --model")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    os.makedirs(a.run, exist_ok=True)
    log = open(os.path.join(a.run, "log.txt"), "a", buffering=1)
    say = lambda s: (print(s), log.write(s + "\n"))
    meta, w0 = read_model(a.model)
    ops = meta["ops"]
    teacher = {k: torch.from_numpy(v.copy()) for k, v in w0.items()}
    student = {k: torch.nn.Parameter(v.clone()) for k, v in teacher.items()}
    opt = torch.optim.Adam(student.values(), lr=a.lr)
    ck_path = os.path.join(a.run, "ckpt.pt")
    step = 0
    if os.path.exists(ck_path):
        ck = torch.load(ck_path)
        with torch.no_grad():
            for k, v in ck["weights"].items():
                student[k].copy_(v)
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        say(f"resumed at step {step}")
    frames = clip_frames()
    if step == 0:
        for n, worst, s in evaluate(ops, teacher, frames):
            say(f"before {n}: worst {worst:.2f} " + " ".join(f"{k} {v:.2f}" for k, v in s.items()))
    crops = Crops(seed=step)
    t0 = time.time()
    while step < a.steps:
        x = crops.batch(a.batch)
        target = teacher_output(ops, teacher, x)
        y = run_ops(ops, student, x)
        wgt = edge_weight(*x.shape[-2:])
        loss = ((y - target).abs() * wgt).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 5 == 0:
            say(f"step {step} loss {loss.item():.5f} size {tuple(x.shape[-2:])} {(time.time() - t0) / 5:.2f} s/step")
            t0 = time.time()
        if step % a.ckpt_every == 0 or step == a.steps:
            torch.save({"weights": {k: v.detach() for k, v in student.items()}, "opt": opt.state_dict(), "step": step}, ck_path + ".tmp")
            os.replace(ck_path + ".tmp", ck_path)
    tuned = {k: v.detach() for k, v in student.items()}
    after = evaluate(ops, tuned, frames)
    with torch.no_grad():
        drift = float(np.mean([(run_ops(ops, tuned, x) - teacher_output(ops, teacher, x))[..., BAND:-BAND, BAND:-BAND].abs().mean() for _, x in frames]))
    for n, worst, s in after:
        say(f"after {n}: worst {worst:.2f} " + " ".join(f"{k} {v:.2f}" for k, v in s.items()))
    say(f"interior mean |tuned - padded teacher| {drift:.4f}")
    if a.write:
        write(a.model, meta, tuned, step, after)
        say(f"wrote {a.model}")


def write(folder, meta, weights, steps, after):
    """Replaces weights.bin (same manifest, same order) and parity.json; notes the tune in model.json."""
    names = [e["name"] for g in meta["weightsManifest"] for e in g["weights"]]
    if len(meta["weightsManifest"]) != 1:
        raise ValueError(f"{folder}: expected one weight file")
    blob = b"".join(weights[n].numpy().astype("<f4").tobytes() for n in names)
    if any(e["dtype"] != "float32" for e in meta["weightsManifest"][0]["weights"]):
        raise ValueError(f"{folder}: expected float32 weights")
    with open(os.path.join(folder, meta["weightsManifest"][0]["paths"][0]), "wb") as f:
        f.write(blob)
    meta["border_tune"] = {
        "what": "fine-tuned to give, with zero padding, the output of the original weights on the picture reflect-padded "
                f"by {TEACHER_PAD} px (brushcam_train.border_tune): clean edges",
        "steps": steps,
        "border_score_after": {n: round(w, 3) for n, w, _ in after},
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    x = parity_input()
    with torch.no_grad():
        y = run_ops(meta["ops"], weights, x)
    r6 = lambda t: [float(f"{v:.6f}") for v in t.flatten().tolist()]
    with open(os.path.join(folder, "parity.json")) as f:
        p = json.load(f)
    assert p["shape"] == [1, 3, PARITY_H, PARITY_W]
    p["y"] = r6(y)
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump(p, f, separators=(",", ":"))


if __name__ == "__main__":
    sys.exit(main())

"""Temporal error and style loss of the painting styles, shipped vs. a no-temporal-loss baseline.

  cd training && /usr/bin/python3 eval_temporal.py \
      [--ckpt /work/runs/style/paintings5/ckpt.pt] \
      [--baseline /work/runs/style/paintings5_notemporal/ckpt.pt] \
      [--clips d0 d3 d9 d12 src_s18] [--frames 24] [--height 256] [--strength 0.7] [--json out.json] [--cards]

Temporal error, as ReCoNet reports it: for consecutive frames t, t+1 of each clip, the squared
difference between output t+1 and output t warped by the INPUT's optical flow (DIS, OpenCV),
averaged over the pixels that a forward-backward check calls non-occluded, on the 0-255 scale;
averaged over pairs, then over clips. The clips are the LivePortrait examples in
video/people/ (never trained on). Rows per style:
  - input: the clip itself (what flow error alone costs),
  - shipped: the checkpoint (--ckpt), trained with the temporal losses,
  - baseline: the same architecture, data and steps without them (--baseline),
  - shipped + stability, baseline + stability: the runtime option (brushcam_train.stability,
    mirrored by src/engine/ml/stabilizer.ts) at --strength.
Style loss: the Gram style loss (SqueezeNet, as trained) of the outputs on the held-out stills
(first 8 of photos/cq100 and faces/london at 256 px), shipped / baseline.
Both checkpoints must be at the same step unless --any-step is given. --cards writes the table
into each style's models/style/<id>/MODEL.md (between marker comments) and the numbers to
models/style/temporal-eval.json.

Artist styles (brushcam_artist), the same measurement on the same clips:

  cd training && /usr/bin/python3 eval_temporal.py --artist /work/runs/artist/monet/ckpt.pt \
      --single /work/runs/style/giverny_footbridge/ckpt.pt [--cards]

Rows: input, the artist model, the artist model + stability, and a single-painting model of the
same artist (a painting-style checkpoint) for scale. The artist runs have no no-temporal twin, so
there is no ratio; the painting styles' rows give the scale (their baselines: 18-179).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import torch

from brushcam_train.data import to_tensor
from brushcam_train.evaluate import heldout_losses
from brushcam_train.loss_net import DATA
from brushcam_train.motion import dis_flow, fb_mask, warp
from brushcam_train.nets import build
from brushcam_train.stability import Stabilizer, DEFAULT_STRENGTH

CLIPS = ["d0", "d3", "d9", "d12", "src_s18"]


def load_clip(name, n, height):
    cap = cv2.VideoCapture(os.path.join(DATA, "video/people", name + ".mp4"))
    if not cap.isOpened():
        raise SystemExit(f"cannot open video/people/{name}.mp4 under {DATA}")
    frames = []
    while len(frames) < n:
        ok, bgr = cap.read()
        if not ok:
            break
        w = round(bgr.shape[1] * height / bgr.shape[0] / 4) * 4
        frames.append(cv2.cvtColor(cv2.resize(bgr, (w, height), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    if len(frames) < 2:
        raise SystemExit(f"video/people/{name}.mp4: fewer than 2 frames")
    pairs = []
    for a, b in zip(frames[:-1], frames[1:]):
        ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
        f21, f12 = dis_flow(gb, ga), dis_flow(ga, gb)
        pairs.append((torch.from_numpy(f21.transpose(2, 0, 1).copy())[None], torch.from_numpy(fb_mask(f21, f12))[None, None]))
    return [to_tensor(f)[None] for f in frames], pairs


def temporal_error(outs, pairs):
    """Mean over pairs of the masked mean squared difference (0-255 scale, mean over channels)."""
    errs = []
    for prev, cur, (flow, mask) in zip(outs[:-1], outs[1:], pairs):
        e = ((cur - warp(prev, flow)) * 255).pow(2).mean(1, keepdim=True)
        errs.append(float((e * mask).sum() / mask.sum()))
    return float(np.mean(errs))


def measure(clips, runners, strength):
    """Mean temporal error over the clips of the input itself and of each runner's outputs, plain
    and through the stability option: {"input", <name>, <name>_stable, ...}."""
    r = {"input": [], **{k: [] for name in runners for k in (name, name + "_stable")}}
    for frames, pairs in clips.values():
        r["input"].append(temporal_error(frames, pairs))
        for name, run in runners.items():
            with torch.no_grad():
                outs = [run(x) for x in frames]
            r[name].append(temporal_error(outs, pairs))
            st = Stabilizer(strength)
            r[name + "_stable"].append(temporal_error([st(x, y) for x, y in zip(frames, outs)], pairs))
    return {k: float(np.mean(v)) for k, v in r.items()}


def load_net(path):
    ck = torch.load(path, map_location="cpu")
    net = build(ck["arch"], ck["num_styles"])
    net.load_state_dict(ck["model"])
    return net.eval(), ck


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default="/work/runs/style/paintings5/ckpt.pt")
    ap.add_argument("--baseline", default="/work/runs/style/paintings5_notemporal/ckpt.pt")
    ap.add_argument("--clips", nargs="+", default=CLIPS)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--strength", type=float, default=DEFAULT_STRENGTH)
    ap.add_argument("--styles", nargs="*", default=None)
    ap.add_argument("--any-step", action="store_true", help="allow checkpoints at different steps")
    ap.add_argument("--no-style-loss", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--cards", action="store_true", help="write the results into models/style/<id>/MODEL.md")
    ap.add_argument("--artist", default=None, help="an artist checkpoint (brushcam_artist): measure it instead")
    ap.add_argument("--single", default=None, help="with --artist: a single-painting checkpoint of the same artist")
    ap.add_argument("--single-style", default=None, help="its style id, when that run has several (default: the first)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.artist:
        return artist_main(a)
    net, ck = load_net(a.ckpt)
    base, bk = load_net(a.baseline)
    if ck["step"] != bk["step"] and not a.any_step:
        raise SystemExit(f"shipped is at step {ck['step']}, baseline at {bk['step']}: compare at equal steps (or --any-step)")
    cfg = ck["config"]
    ids = [s["id"] for s in cfg["styles"]]
    if [s["id"] for s in bk["config"]["styles"]] != ids:
        raise SystemExit("the two checkpoints were trained on different style lists")
    t0 = time.time()
    clips = {c: load_clip(c, a.frames, a.height) for c in a.clips}
    rows = {}
    for s, sid in enumerate(ids):
        if a.styles and sid not in a.styles:
            continue
        style = torch.tensor([s])
        row = measure(clips, {"shipped": lambda x: net(x, style), "baseline": lambda x: base(x, style)}, a.strength)
        row["ratio"] = row["shipped"] / row["baseline"]
        if not a.no_style_loss:
            image, size = cfg["styles"][s]["image"], cfg["data"]["style_size"]
            row["style_shipped"] = heldout_losses(_Fixed(net, s), image, size)["style"]
            row["style_baseline"] = heldout_losses(_Fixed(base, s), image, size)["style"]
            row["style_ratio"] = row["style_shipped"] / row["style_baseline"]
        rows[sid] = row
        print(sid, json.dumps({k: round(v, 4) for k, v in row.items()}), flush=True)
    head = ["style", "input (floor)", "shipped", "no-temporal baseline", "ratio", "shipped + stability", "baseline + stability"]
    if not a.no_style_loss:
        head += ["style loss shipped", "baseline", "ratio"]
    setup = (f"steps: shipped {ck['step']} (run `{cfg['id']}`), baseline {bk['step']} (run `{bk['config']['id']}`); "
             f"clips {', '.join(a.clips)} (video/people, never trained on), {a.frames} frames each at {a.height} px high; "
             f"stability strength {a.strength}")
    print(f"\n{setup}; {time.time() - t0:.0f} s\n")
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for sid, r in rows.items():
        cells = [sid] + [f"{r[k]:.2f}" for k in ("input", "shipped", "baseline", "ratio", "shipped_stable", "baseline_stable")]
        if not a.no_style_loss:
            cells += [f"{r[k]:.3f}" for k in ("style_shipped", "style_baseline", "style_ratio")]
        table.append("| " + " | ".join(cells) + " |")
    print("\n".join(table))
    doc = {"ckpt": a.ckpt, "step": ck["step"], "baseline": a.baseline, "baseline_step": bk["step"],
           "clips": a.clips, "frames": a.frames, "height": a.height, "strength": a.strength,
           "metric": "masked MSE of O_t+1 - warp(O_t) by the input's DIS flow, 0-255 scale", "styles": rows}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    if a.cards:
        write_cards(doc, setup, table, " ".join(sys.argv[1:]))
    return rows


def artist_main(a):
    from brushcam_artist.export import Pad16, load as load_artist
    net, ck = load_artist(a.artist)
    wrapped = Pad16(net)
    single = load_net(a.single) if a.single else None
    if single:
        ids = [s["id"] for s in single[1]["config"]["styles"]]
        sid = a.single_style or ids[0]
        if sid not in ids:
            raise SystemExit(f"--single-style {sid}: {a.single} has {ids}")
        s_index = ids.index(sid)
    t0 = time.time()
    clips = {c: load_clip(c, a.frames, a.height) for c in a.clips}
    runners = {"artist": wrapped}
    if single:
        runners["single"] = lambda x: single[0](x, torch.tensor([s_index]))
    row = measure(clips, runners, a.strength)
    aid = ck["config"]["id"]
    setup = (f"artist model `{aid}` at step {ck['step']}"
             + (f"; single-painting model `{sid}` (run `{single[1]['config']['id']}`) at step {single[1]['step']}" if single else "")
             + f"; clips {', '.join(a.clips)} (video/people, never trained on), {a.frames} frames each at {a.height} px high; "
             f"stability strength {a.strength}")
    head = ["model", "input (floor)", "artist model", "artist + stability"] + (["single-painting model", "single + stability"] if single else [])
    cells = [aid] + [f"{row[k]:.2f}" for k in ("input", "artist", "artist_stable", "single", "single_stable") if k in row]
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), "| " + " | ".join(cells) + " |"]
    print(f"\n{setup}; {time.time() - t0:.0f} s\n")
    print("\n".join(table))
    doc = {"ckpt": a.artist, "step": ck["step"], "single": a.single, "single_step": single[1]["step"] if single else None,
           "clips": a.clips, "frames": a.frames, "height": a.height, "strength": a.strength,
           "metric": "masked MSE of O_t+1 - warp(O_t) by the input's DIS flow, 0-255 scale", "styles": {aid: row}}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    if a.cards:
        write_cards(doc, setup, table, " ".join(sys.argv[1:]), artist=True)
    return {aid: row}


BEGIN, END = "<!-- eval_temporal:begin -->", "<!-- eval_temporal:end -->"


def write_cards(doc, setup, table, args, artist=False):
    models = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "style")
    path = os.path.join(models, "temporal-eval.json")
    # One entry per style: a style exported from another checkpoint pair keeps its own record.
    merged = {}
    if os.path.exists(path):
        with open(path) as f:
            merged = json.load(f).get("styles", {})
    run = {k: v for k, v in doc.items() if k not in ("styles", "metric")}
    merged.update({sid: {**row, "run": run} for sid, row in doc["styles"].items()})
    with open(path, "w") as f:
        json.dump({"metric": doc["metric"], "styles": merged}, f, indent=1)
        f.write("\n")
    for sid in doc["styles"]:
        card = os.path.join(models, sid, "MODEL.md")
        if not os.path.exists(card):
            continue
        text = open(card).read()
        section = "\n".join([
            BEGIN,
            "## Temporal consistency" + ("" if artist else " and style kept") + " (training/eval_temporal.py)",
            "",
            "Temporal error as ReCoNet reports it: mean squared difference (0-255 scale) between output t+1 and",
            "output t warped by the input's optical flow (DIS), over non-occluded pixels (forward-backward check);",
            *(["lower is steadier. The same clips and command as the painting styles (whose shipped models score",
               "8.8-82 and their no-temporal baselines 18-179); the single-painting model of the same artist for scale.",
               "Stability = the popup's runtime option (src/engine/ml/stabilizer.ts, reference brushcam_train/stability.py)."]
              if artist else
              ["lower is steadier. Ratio = shipped / no-temporal-loss baseline (target <= 0.6). Style loss: Gram loss",
               "(SqueezeNet, as trained) of the outputs on held-out stills; ratio target <= 1.2. Stability = the",
               "popup's runtime option (src/engine/ml/stabilizer.ts, reference brushcam_train/stability.py)."]),
            "",
            setup + ".",
            "",
            *table,
            "",
            f"Command: `cd training && /usr/bin/python3 eval_temporal.py {args}`".replace(" --cards", "") + " (add --cards to rewrite this section).",
            END,
        ])
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
        else:
            marker = "## Visual assessment"
            text = text.replace(marker, section + "\n\n" + marker, 1) if marker in text else text.rstrip() + "\n\n" + section + "\n"
        with open(card, "w") as f:
            f.write(text)


class _Fixed(torch.nn.Module):
    """One style of a multi-style network, called like a single-style one."""

    def __init__(self, net, s):
        super().__init__()
        self.net, self.s = net, s

    def forward(self, x):
        return self.net(x, torch.full((x.shape[0],), self.s, dtype=torch.long))


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

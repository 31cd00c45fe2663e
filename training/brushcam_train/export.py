"""Export styles from a training checkpoint to models/style/<id>/.

  /usr/bin/python3 -m brushcam_train.export --ckpt /work/runs/style/paintings5/ckpt.pt [--style ID ...]
      [--models ../models/style] [--baseline /work/runs/style/paintings5_notemporal/ckpt.pt]

Per style it writes: model.json (tfjs-style weights manifest + arch + op list), weights.bin
(float32 little-endian, tensors concatenated in manifest order), parity.json (fixed input and the
PyTorch output), contact.png, MODEL.md.
"""
import argparse
import json
import os
import time
import tomllib

import numpy as np
import torch
import torch.nn.functional as F

from .nets import build, flops, op_graph, CondInstanceNorm, EPS
from . import evaluate

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARITY_H, PARITY_W = 32, 48

DATA_LINES = """| set | licence / use (from ../shared/data/README.md) |
|---|---|
| `photos/landscapes/` (2000 natural photos, 256x256) | licence not stated: research and training only |
| `photos/cq100/` (CQ100, 768x512; first 8 held out for evaluation) | each image CC0, PD, CC-BY or CC-BY-SA: attribute per `metadata.csv` |
| `faces/london/` (Face Research Lab London Set, DeBruine & Jones 2017; first 8 held out) | CC-BY 4.0, consented for research and altered use |
| `faces/selfies/` (selfie2anime trainA) | research only |
| `video/scenes/` (`tree.avi`, `motion.mov`: DIS-flow frame pairs) | tests and evaluation (OpenCV samples) |
| `video/people/movie-hello.mp4` (DIS-flow frame pairs) | CC-BY-SA 4.0 |
| `paintings/<style>.jpg` (style target) | public domain (photos of 2-D public-domain works) |
| `loss-networks/squeezenet1_1_imagenet_features.mat` (loss network, not shipped) | weights BSD-2 (DeepScale) via an MIT Keras port |
Evaluation only (not trained on): `video/people/d0.mp4` (LivePortrait example)."""


def style_state_dict(model, s):
    """state_dict of style s as a plain single-style network: CIN rows -> [C] vectors."""
    sd = model.state_dict()
    out = {}
    norm_keys = {f"{n}.{p}" for n, m in model.named_modules() if isinstance(m, CondInstanceNorm) for p in ("weight", "bias")}
    for k, v in sd.items():
        out[k] = (v[s] if k in norm_keys else v).detach().float().contiguous()
    return out


def single_style_model(arch, sd):
    """A num_styles=1 model loaded from an exported state dict (norm params [C])."""
    m = build(arch, 1)
    m.load_state_dict({k: (v[None] if v.dim() == 1 and k.split(".")[-2].startswith("norm") else v) for k, v in sd.items()})
    return m.eval()


def parity_input():
    """Deterministic 1x3xHxW input in [0,1], rounded to 6 decimals (stored in parity.json too)."""
    c, h, w = torch.meshgrid(torch.arange(3.0), torch.arange(float(PARITY_H)), torch.arange(float(PARITY_W)), indexing="ij")
    x = 0.5 + 0.45 * torch.sin(0.37 * h + 0.23 * w + 1.7 * c) * torch.cos(0.11 * h * (c + 1) - 0.05 * w)
    return torch.round(x * 1e6)[None] / 1e6


def run_ops(ops, weights, x):
    """Reference interpreter of model.json's op list (NCHW, torch functional ops only).
    `weights`: name -> array or tensor. It is what the TypeScript implementation mirrors."""
    # Tensors pass through as they are (so the op list can be trained: brushcam_train.border_tune).
    W = lambda n: weights[n] if isinstance(weights[n], torch.Tensor) else torch.as_tensor(np.asarray(weights[n], dtype=np.float32))
    saved = {}
    for op in ops:
        k = op["op"]
        if k in ("conv2d", "depthwise_conv2d"):
            w = W(op["weight"])
            b = W(op["bias"]) if op.get("bias") else None
            groups = w.shape[0] if k == "depthwise_conv2d" else 1
            x = F.conv2d(F.pad(x, [op["pad"]] * 4), w, b, stride=op["stride"], groups=groups)
        elif k == "instance_norm":
            mean = x.mean((2, 3), keepdim=True)
            var = ((x - mean) ** 2).mean((2, 3), keepdim=True)
            x = (x - mean) / torch.sqrt(var + op["eps"]) * W(op["weight"])[:, None, None] + W(op["bias"])[:, None, None]
        elif k == "relu":
            x = torch.relu(x)
        elif k == "sigmoid":
            x = torch.sigmoid(x)
        elif k == "upsample_nearest":
            x = x.repeat_interleave(op["scale"], 2).repeat_interleave(op["scale"], 3)
        elif k == "save":
            saved[op["name"]] = x
        elif k == "add":
            x = x + saved.pop(op["name"])
        elif k == "features":
            pass
        else:
            raise ValueError(f"unknown op {k}")
    return x


def read_model(folder):
    """Load model.json + shards back as {name: np.ndarray} (float32)."""
    with open(os.path.join(folder, "model.json")) as f:
        meta = json.load(f)
    weights = {}
    for group in meta["weightsManifest"]:
        buf = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        off = 0
        for e in group["weights"]:
            dt = np.dtype("<f4") if e["dtype"] == "float32" else np.dtype("<f2")
            n = int(np.prod(e["shape"])) if e["shape"] else 1
            weights[e["name"]] = np.frombuffer(buf, dt, n, off).astype(np.float32).reshape(e["shape"])
            off += n * dt.itemsize
        assert off == len(buf), (off, len(buf))
    return meta, weights


def write_weights(folder, sd):
    """Writes `sd` (name -> tensor) as folder/weights.bin (float32 little-endian, in order) and
    returns the weights-manifest entries, one per tensor, named by their state_dict keys."""
    entries, blobs = [], []
    for k, v in sd.items():
        entries.append({"name": k, "shape": list(v.shape), "dtype": "float32"})
        blobs.append(v.detach().cpu().numpy().astype("<f4").tobytes())
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(b"".join(blobs))
    return entries


def op_semantics(model):
    """What the op list means, written into model.json's arch (shared by every exported network)."""
    return {
        "padding": "zeros, k//2 pixels on every side of every conv (stride-2 convs too: NOT TF 'same')",
        "norm": f"instance norm per sample and channel over H,W; biased variance; eps {EPS}; affine (weight, bias)",
        "upsample": "nearest neighbour x2: out[i][j] = in[floor(i/2)][floor(j/2)]",
        "conv_bias": "a conv has a bias iff its op lists one (convs followed by a norm have none)",
        "gflop_640x360": round(flops(model, 360, 640) / 1e9, 3),
        "gflop_1280x720": round(flops(model, 720, 1280) / 1e9, 3),
    }


def graph_and_weights(ops, entries):
    """model.json's layout notes, op list and weights manifest."""
    return {
        "layout": "OIHW",
        "layout_note": "conv2d weight [out, in, kh, kw] (tfjs conv2d wants [kh, kw, in, out]: transpose 2,3,1,0); "
                       "depthwise weight [C, 1, kh, kw] (tfjs depthwiseConv2d wants [kh, kw, C, 1]: transpose 2,3,0,1)",
        "ops": ops,
        "weightsManifest": [{"paths": ["weights.bin"], "weights": entries}],
    }


def write_model(folder, style_id, arch, sd, extra):
    os.makedirs(folder, exist_ok=True)
    model = single_style_model(arch, sd)
    entries = write_weights(folder, sd)
    meta = {
        "format": "brushcam-paintnet",
        "version": 1,
        "id": style_id,
        "arch": {"name": "ReCoNetLite" if arch["separable"] else "ReCoNetRef", **arch,
                 "input": "RGB in [0,1], NCHW in PyTorch (NHWC in tfjs); H and W multiples of 4",
                 "output": "RGB in [0,1] (sigmoid), same H and W as the input",
                 **op_semantics(model)},
        **graph_and_weights(op_graph(model), entries),
        **extra,
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    write_parity(folder, model)
    return model


def write_parity(folder, model):
    """parity.json: a fixed input and the model's PyTorch output, for the tfjs parity tests.
    Returns (x, y)."""
    x = parity_input()
    with torch.no_grad():
        y = model(x)
    r6 = lambda t: [float(f"{v:.6f}") for v in t.flatten().tolist()]
    parity = {"note": "x: NCHW float32 [1,3,32,48], row-major (c, h, w); y = model(x) from PyTorch float32; "
                      "x[0,c,h,w] = round6(0.5 + 0.45*sin(0.37h + 0.23w + 1.7c)*cos(0.11h(c+1) - 0.05w)); "
                      "check max |y_tfjs - y| <= 1e-3",
              "shape": [1, 3, PARITY_H, PARITY_W], "tolerance": 1e-3, "x": r6(x), "y": r6(y)}
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump(parity, f, separators=(",", ":"))
    return x, y


def export(ckpt_path, models_dir, styles=None, baseline=None, do_eval=True):
    ck = torch.load(ckpt_path, map_location="cpu")
    cfg, arch = ck["config"], ck["arch"]
    cfg_file = os.path.join(REPO, "training", "configs", f"{cfg['id']}.toml")
    if os.path.exists(cfg_file):  # descriptive fields may be edited after the run started: the file wins
        with open(cfg_file, "rb") as f:
            if tomllib.load(f).get("history"):
                f.seek(0)
                cfg["history"] = tomllib.load(f)["history"]
    net = build(arch, ck["num_styles"])
    net.load_state_dict(ck["model"])
    base_net = None
    if baseline and os.path.exists(baseline):
        bk = torch.load(baseline, map_location="cpu")
        base_net = build(bk["arch"], bk["num_styles"]); base_net.load_state_dict(bk["model"]); base_net.eval()
        base_step = bk["step"]
    done = []
    for s, entry in enumerate(cfg["styles"]):
        if styles and entry["id"] not in styles:
            continue
        folder = os.path.join(models_dir, entry["id"])
        sd = style_state_dict(net, s)
        extra = {"title": entry.get("title", entry["id"]), "artist": entry.get("artist", ""),
                 "trained_steps": ck["step"], "run": cfg["id"]}
        model = write_model(folder, entry["id"], arch, sd, extra)
        metrics = {}
        if do_eval:
            t0 = time.time()
            metrics = evaluate.metrics(model, cfg, s)
            if base_net is not None:
                bm = single_style_model(bk["arch"], style_state_dict(base_net, s))
                metrics["baseline"] = {"step": base_step, **evaluate.temporal_metrics(bm)}
                same = os.path.join(os.path.dirname(ckpt_path), f"ckpt_{base_step}.pt")
                if os.path.exists(same):
                    sk = torch.load(same, map_location="cpu")
                    sn = build(sk["arch"], sk["num_styles"]); sn.load_state_dict(sk["model"])
                    metrics["temporal_output_at_baseline_step"] = evaluate.temporal_metrics(
                        single_style_model(sk["arch"], style_state_dict(sn, s)))["temporal_output"]
            evaluate.contact_sheet(model, entry["image"], os.path.join(folder, "contact.png"))
            metrics["eval_seconds"] = round(time.time() - t0, 1)
        write_card(folder, cfg, entry, ck, model, metrics)
        done.append(entry["id"])
        print(f"exported {entry['id']} -> {folder} {json.dumps(metrics)}", flush=True)
    return done


def write_card(folder, cfg, entry, ck, model, m):
    L, d, t = cfg["loss"], cfg["data"], cfg["train"]
    others = [s["id"] for s in cfg["styles"] if s["id"] != entry["id"]]
    lines = [
        f"# {entry.get('title', entry['id'])} ({entry.get('artist', '')}): Brushcam style model `{entry['id']}`",
        "",
        f"ReCoNet-family feed-forward stylizer (Gao et al. 2018), `ReCoNetLite` architecture "
        f"(widths {model.arch['widths']}, {model.arch['res_blocks']} depthwise-separable residual blocks, "
        f"{sum(p.numel() for p in model.parameters())} parameters). Files: `model.json` (weights manifest, op list), "
        f"`weights.bin` (float32), `parity.json` (PyTorch reference output), `contact.png`.",
        "",
        "## Cost",
        f"- {flops(model, 360, 640) / 1e9:.2f} GFLOP per 640x360 frame, {flops(model, 720, 1280) / 1e9:.2f} GFLOP per 1280x720 frame "
        "(2 x conv multiply-adds; norms/activations add < 0.1 GFLOP at 640x360).",
        "",
        "## Training",
        f"- Run `{cfg['id']}` (`training/configs/{cfg['id']}.toml`), {ck['step']} steps of batch {d['batch']} frame pairs "
        f"(both frames through the net: ReCoNet synergic training), crops {d['crop']}x{d['crop']}, Adam lr {t['lr']} "
        f"decaying to {t['lr_final']} over the last {round((1 - t['decay_from']) * 100)}%, CPU, 1 thread.",
        (f"- Trained jointly with {', '.join(others)} in one network with conditional instance norm: all convs shared, "
         "this style's own instance-norm scale and shift; exported here as a plain single-style network.") if others else "- Single-style run.",
        f"- Style target: `paintings/{os.path.basename(entry['image'])}`, long side {d['style_size']} px.",
        f"- Loss network: SqueezeNet 1.1 (ImageNet) features; content layer fire3, style layers relu1, fire3, fire5, fire7 (Gram, relative error).",
        f"- Loss weights: content {L['content']}, style {L['style']} x {entry.get('weight', 1.0)}, total variation {L['tv']}, "
        + (f"output temporal (with luminance term) {L['temporal_output']}, feature temporal (encoder output) {L['temporal_feature']}, "
           f"both x {entry.get('temporal_weight', 1.0)} for this style at the end of the run."
           if L["temporal"] else "no temporal losses (baseline)."),
        *([f"- Schedule: {cfg['history']}"] if cfg.get("history") else []),
        f"- Motion: synthetic pairs (random perspective + smooth elastic warp + brightness change of still images, exact flow "
        f"and out-of-frame mask) and, for {round(100 * d['real_fraction'])}% of pairs, consecutive frames of real clips with "
        "DIS optical flow (OpenCV, medium preset) and a forward-backward occlusion check.",
        "",
        "## Data",
        DATA_LINES,
        "",
        "## Metrics",
    ]
    if m:
        lines += [
            f"Held-out stills (first 8 of cq100 and faces/london, 256 px): content loss {m['content']:.3f}, "
            f"style loss {m['style']:.3f} (same normalisation as training; lower is better).",
            "",
            f"Temporal error on `video/people/d0.mp4` (evaluation clip, {m['frames']} frames at {m['size']}): mean over "
            "non-occluded pixels (DIS flow + forward-backward check on the input) of |O_t - warp(O_t-1)|, 0-255 scale:",
            "",
            "| | warped-frame error |",
            "|---|---|",
            f"| input video itself (floor) | {m['temporal_input']:.2f} |",
            f"| this model | {m['temporal_output']:.2f} |",
        ]
        if "baseline" in m:
            lines.append(f"| no-temporal-loss baseline at step {m['baseline']['step']} (`paintings5_notemporal`) | {m['baseline']['temporal_output']:.2f} |")
            if "temporal_output_at_baseline_step" in m:
                lines.append(f"| this run at the same step {m['baseline']['step']} | {m['temporal_output_at_baseline_step']:.2f} |")
    else:
        lines.append("(not evaluated)")
    notes_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assessment.toml")
    if os.path.exists(notes_path):
        with open(notes_path, "rb") as f:
            notes = tomllib.load(f)
        if entry["id"] in notes:
            n = notes[entry["id"]]
            stale = "" if n.get("step") == ck["step"] else f" (written for step {n.get('step')}; this export is step {ck['step']}: re-check)"
            lines += ["", f"## Visual assessment of contact.png{stale}", "", n["text"]]
            if "_all" in notes:
                lines += ["", notes["_all"]["text"]]
    lines += ["", "![contact sheet](contact.png)", ""]
    with open(os.path.join(folder, "MODEL.md"), "w") as f:
        f.write("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--style", action="append", help="style id(s) to export (default: all in the run)")
    ap.add_argument("--models", default=os.path.join(REPO, "models", "style"))
    ap.add_argument("--baseline", default=None, help="no-temporal checkpoint to compare against")
    ap.add_argument("--no-eval", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    export(a.ckpt, a.models, a.style, a.baseline, not a.no_eval)


if __name__ == "__main__":
    main()

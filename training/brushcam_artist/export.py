"""Export an artist-style checkpoint to models/style/<id>/ in the PaintNet op-list format (docs/paintnet-format.md)
(the same format, ops and files as brushcam_train.export, so the extension runs it unchanged).

  /usr/bin/python3 -m brushcam_artist.export --ckpt /work/runs/artist/monet/ckpt.pt
      [--models ../models/style] [--no-eval] [--no-check]

Writes model.json (weights manifest, arch, op list, title, data licence), weights.bin (float32),
parity.json (fixed 32x48 input and the PyTorch output), contact.png and MODEL.md. Checks that the
op list, read back from disk and interpreted (brushcam_train.export.run_ops), equals PyTorch.
"""
import argparse
import json
import os
import time
import tomllib

import torch
import torch.nn.functional as F

from brushcam_train import evaluate
from brushcam_train.export import graph_and_weights, op_semantics, write_weights, write_parity, run_ops, read_model
from brushcam_train.nets import flops
from .data import collection, split
from brushcam_train.data import list_images
from .nets import build, op_graph, INPUT_MULTIPLE

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_LICENCE = ("content: photos/landscapes (research and training only), photos/cq100 (CC0/PD/CC-BY/CC-BY-SA, "
                "attribution in metadata.csv), faces/london (CC-BY 4.0), faces/selfies (research only); "
                "style: a collection of the artist's public-domain paintings ({collection})")


class Pad16(torch.nn.Module):
    """Evaluation helper: replicate-pads H, W up to multiples of 16, runs the net, crops back.
    (The runtime does not do this; see README "Artist styles".)"""
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        h, w = x.shape[-2:]
        m = INPUT_MULTIPLE
        ph, pw = -h % m, -w % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        return self.net(x)[..., :h, :w]


def load(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    net = build(ck["arch"])
    net.load_state_dict(ck["model"])
    return net.eval(), ck


def write_model(folder, net, ck):
    cfg = ck["config"]
    os.makedirs(folder, exist_ok=True)
    sd = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
    entries = write_weights(folder, sd)
    meta = {
        "format": "brushcam-paintnet",
        "version": 1,
        "id": cfg["id"],
        "arch": {"name": "ArtistNet", **net.arch,
                 "paper": "Sanakoyeu et al. 2018, A Style-Aware Content Loss for Real-time HD Style Transfer (encoder E + decoder G)",
                 "input": "RGB in [0,1], NCHW in PyTorch (NHWC in tfjs); H and W multiples of 16 (4 stride-2 convs): "
                          "other multiples of 4 give an output up to 12 px larger than the input",
                 "input_multiple": INPUT_MULTIPLE,
                 "output": "RGB in [0,1] (sigmoid), same H and W as the input when both are multiples of 16",
                 **op_semantics(net)},
        **graph_and_weights(op_graph(net), entries),
        "title": cfg.get("title", cfg["id"]),
        "artist": cfg.get("artist", ""),
        "trained_steps": ck["step"],
        "run": cfg["id"],
        "data_licence": DATA_LICENCE.format(collection=cfg["collection"] + ", public domain"),
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    x, y = write_parity(folder, net)
    # round trip: the files on disk, interpreted op by op, reproduce PyTorch
    meta2, weights = read_model(folder)
    with torch.no_grad():
        diff = float((run_ops(meta2["ops"], weights, x) - y).abs().max())
    assert diff < 1e-4, f"op-list round trip differs from PyTorch by {diff}"
    return diff


def export(ckpt_path, models_dir, do_eval=True, do_check=True, card_only=False):
    net, ck = load(ckpt_path)
    cfg = ck["config"]
    cfg_file = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs_artist", f"{cfg['id']}.toml")
    if os.path.exists(cfg_file):  # descriptive fields may be edited after the run started: the file wins
        with open(cfg_file, "rb") as f:
            fc = tomllib.load(f)
        for k in ("title", "artist", "history"):
            if fc.get(k):
                cfg[k] = fc[k]
    folder = os.path.join(models_dir, cfg["id"])
    diff = write_model(folder, net, ck)
    metrics_path = os.path.join(folder, "metrics.json")
    if card_only:
        with open(metrics_path) as f:
            m = json.load(f)
        m["parity_roundtrip_max_abs"] = diff
        write_card(folder, cfg, ck, net, m)
        print(f"rewrote {folder}/MODEL.md from metrics.json", flush=True)
        return m
    m = {"parity_roundtrip_max_abs": diff}
    t0 = time.time()
    if do_eval:
        wrapped = Pad16(net).eval()
        m.update(evaluate.temporal_metrics(wrapped))
        evaluate.contact_sheet(wrapped, os.path.relpath(collection(cfg["collection"], "heldout")[0], evaluate.DATA),
                               os.path.join(folder, "contact.png"))
    if do_check:
        from .check import deception
        m["deception"] = deception(Pad16(net).eval(), cfg["id"])
    m["eval_seconds"] = round(time.time() - t0, 1)
    m["step"] = ck["step"]
    with open(metrics_path, "w") as f:
        json.dump(m, f, indent=1)
    write_card(folder, cfg, ck, net, m)
    print(f"exported {cfg['id']} -> {folder} {json.dumps(m)}", flush=True)
    return m


def write_card(folder, cfg, ck, net, m):
    L, d, t, a = cfg["loss"], cfg["data"], cfg["train"], net.arch
    n_train, n_held = len(collection(cfg["collection"], "train")), len(collection(cfg["collection"], "heldout"))
    lines = [
        f"# {cfg.get('title', cfg['id'])}: Brushcam artist-style model `{cfg['id']}`",
        "",
        "**Early CPU checkpoint.** " f"{ck['step']} training steps on one CPU thread (about 0.5-1 s a step); the method needs "
        "tens of thousands of steps at larger crops (a GPU) to reach the paper's quality.",
        "",
        "Style learned from a *collection* of the artist's works rather than one painting: Sanakoyeu et al. 2018, "
        "*A Style-Aware Content Loss for Real-time HD Style Transfer* (ECCV), with ReCoNet's output-level temporal loss "
        f"added. Code: `training/brushcam_artist/`, config `training/configs_artist/{cfg['id']}.toml`. "
        "Files: `model.json` (weights manifest, op list), `weights.bin` (float32), `parity.json` (PyTorch reference "
        "output), `contact.png`.",
        "",
        "## Architecture (encoder E + decoder G, exported as one network)",
        f"- E: conv 3x3 s1 3->{a['widths'][0]}, then 4 stride-2 3x3 convs {a['widths'][0]}->" + "->".join(map(str, a['widths'][1:]))
        + " (the first depthwise-separable), each with instance norm + ReLU; latent "
        f"{a['widths'][-1]} channels at 1/16 resolution (its last norm has fixed scale 1 / shift 0).",
        f"- G: {a['res_blocks']} residual blocks at 1/16 (depthwise 3x3 + pointwise, IN), 4 upsampling blocks "
        f"(nearest x2, depthwise 3x3 + pointwise, IN, ReLU) to widths {a['up_widths']}, depthwise {a['out_k']}x{a['out_k']} "
        "+ pointwise to RGB, sigmoid.",
        f"- Width scaling: the paper's E/G (32-256 channels, full 3x3 convs) is ~270 GFLOP at 640x360; here widths are "
        f"{a['widths']} / {a['up_widths']} with separable convs where cheap: {sum(p.numel() for p in net.parameters())} parameters.",
        "",
        "## Cost",
        f"- {flops(net, 360, 640) / 1e9:.2f} GFLOP per 640x360 frame (counted at 640x368, the size the 1/16 latent "
        f"decodes to), {flops(net, 720, 1280) / 1e9:.2f} GFLOP per 1280x720 (2 x conv multiply-adds; norms, activations "
        "and upsampling add < 0.1 GFLOP). Budget 5 GFLOP.",
        "- **Input H and W must be multiples of 16** (`arch.input_multiple` in model.json): the runtime rounds its internal "
        "size to it (640x360 frames run at 640x368 and are scaled back); other sizes would give a larger output.",
        "",
        "## Training",
        f"- {ck['step']} steps (" + (f"the config's total" if ck['step'] >= t['steps'] else f"of {t['steps']} planned: stopped by run_artist.sh's 45-minute cap")
        + "), "
        f"batch {d['batch']} moved frame pairs (both frames through E and G) + {2 * d['batch']} collection crops, crops "
        f"{d['crop']}x{d['crop']}, Adam (beta1 0.5) lr {t['lr']} (E, G) / {t['lr_d']} (D), CPU, 1 thread.",
        f"- Losses: style-aware content |E(x) - E(G(E(x)))|^2 / latent size x {L['content']}; transformed image loss "
        f"|T(x) - T(G(E(x)))|^2 / CHW with T = {L['pool']}x{L['pool']} average pooling x {L['transformed']}; "
        f"adversarial (least squares, D on collection crops vs G(E(x)){' and the photos' if L['photo_negatives'] else ''}) "
        f"x {L['adversarial']}; ReCoNet output-level temporal loss with luminance term x {L['temporal']} on synthetic "
        f"moved pairs (exact flow) and {round(100 * d['real_fraction'])}% real-clip pairs (DIS flow).",
        *([f"- Warm start: E and G initialised from `{cfg['init_from']}` (the monet run at step {cfg.get('init_from_step')}); "
           "the discriminator started fresh. Steps above count from that start."] if cfg.get("init_from") else []),
        *([f"- Loss-weight change during the run: {cfg['history']}"] if cfg.get("history") else []),
        *([f"- Discriminator/generator balance (the paper's): D is updated only while its running accuracy is below {t['d_success']}."]
          if t.get("d_success") else ["- D updated every step (no balancing)."]),
        "- Discriminator: 7 stride-2 3x3 convs (LeakyReLU 0.2, IN on layers 2-6), score heads on layers 3, 5, 7 "
        "(training only, not exported).",
        "",
        "## Data",
        "| set | licence / use (from ../shared/data/README.md) |",
        "|---|---|",
        f"| `{cfg['collection']}/` ({n_train} works trained on; every 5th work, {n_held}, held out) | paintings public domain |",
        "| `photos/landscapes/` (2000 natural photos, 256x256) | licence not stated: research and training only |",
        "| `photos/cq100/` (CQ100, 768x512; first 8 held out for evaluation) | each image CC0, PD, CC-BY or CC-BY-SA: attribute per `metadata.csv` |",
        "| `faces/london/` (Face Research Lab London Set, DeBruine & Jones 2017; first 8 held out) | CC-BY 4.0, consented for research and altered use |",
        "| `faces/selfies/` (selfie2anime trainA) | research only |",
        "| `video/scenes/` (`tree.avi`, `motion.mov`: DIS-flow frame pairs) | tests and evaluation (OpenCV samples) |",
        "| `video/people/movie-hello.mp4` (DIS-flow frame pairs) | CC-BY-SA 4.0 |",
        "| `loss-networks/squeezenet1_1_imagenet_features.mat` (evaluation and grouping only, not shipped) | weights BSD-2 (DeepScale) via an MIT Keras port |",
        "Evaluation only (not trained on): `video/people/d0.mp4` (LivePortrait example).",
        "",
        "## Metrics",
        f"- Export round trip: the op list read back from disk and interpreted equals PyTorch to {m['parity_roundtrip_max_abs']:.1e}.",
    ]
    if "temporal_output" in m:
        lines += [
            f"- Temporal error on `video/people/d0.mp4` ({m['frames']} frames at {m['size']}; the command the painting styles use, "
            "brushcam_train.evaluate.temporal_metrics): mean over non-occluded pixels of |O_t - warp(O_t-1)|, 0-255 scale: "
            f"input video {m['temporal_input']:.2f} (floor), this model **{m['temporal_output']:.2f}**.",
        ]
    if "deception" in m:
        dc = m["deception"]
        lines += [
            f"- Discriminator check (`brushcam_artist/check.py`: logistic regression on SqueezeNet statistics, "
            f"works vs photos, training accuracy {dc['classifier_train_accuracy']:.2f}): held-out works called "
            f"\"{cfg['id']}\" {dc['heldout_works_called_work']:.2f} ({dc['n_heldout_works']}); held-out photos "
            f"({dc['n_photos']}) called \"{cfg['id']}\": unstylised {dc['photos_called_work']:.2f}, "
            f"stylised by this model **{dc['stylised_photos_called_work']:.2f}** (deception rate).",
        ]
    lines += ["", "![contact sheet](contact.png)", "",
              "Contact sheet: [held-out work of the collection | face in | face out] / [evaluation clip frame out | scene in | scene out], "
              "inputs run at 360 px high (padded to a multiple of 16 for this Python evaluation).", ""]
    for sheet in sorted(f for f in os.listdir(folder) if f.startswith("compare-") and f.endswith(".png")):
        single = sheet[len("compare-"):-len(".png")]
        shipped = os.path.exists(os.path.join(os.path.dirname(folder), single, "model.json"))
        where = "" if shipped else (f" --single-models /work/runs/style/exports`; that model is not shipped: "
                                    f"`training/configs/{single}.toml`, exported with `brushcam_train.export --models /work/runs/style/exports")
        lines += [f"![against {single}]({sheet})", "",
                  f"`{sheet}`: rows face / clip frame / scene; columns input | this model | the single-painting model "
                  f"`{single}` (`python3 -m brushcam_artist.compare --artist {cfg['id']} --single {single}{where}`).", ""]
    # The temporal evaluation (eval_temporal.py --artist ... --cards) owns its own section: keep it.
    card = os.path.join(folder, "MODEL.md")
    begin, end = "<!-- eval_temporal:begin -->", "<!-- eval_temporal:end -->"
    if os.path.exists(card):
        old = open(card).read()
        if begin in old and end in old:
            lines += [old[old.index(begin):old.index(end) + len(end)], ""]
    with open(card, "w") as f:
        f.write("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--models", default=os.path.join(REPO, "models", "style"))
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--card-only", action="store_true", help="rewrite model files and MODEL.md, metrics from metrics.json")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    export(a.ckpt, a.models, not a.no_eval, not a.no_check, a.card_only)


if __name__ == "__main__":
    main()

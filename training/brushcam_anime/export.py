"""Export the human -> anime direction of a Twin-GAN checkpoint to models/anime/<id>/.

  /usr/bin/python3 -m brushcam_anime.export --ckpt /work/runs/anime/anime_v1/ckpt.pt \
      [--id anime] [--models ../models/anime] [--no-eval]

Writes model.json (the PaintNet op list, docs/paintnet-format.md, the extension runs: same format as
the styles), weights.bin, parity.json (fixed input and the PyTorch output, checked in tfjs to
1e-3), contact.png and MODEL.md. Then run `node scripts/models-manifest.mjs` from the repo root."""
import argparse
import json
import os
import time

import torch

from brushcam_train.export import PARITY_H, PARITY_W, parity_input, write_weights

from .nets import ANIME, HUMAN, direction_state_dict, gflops, load_generator, op_graph

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DATA_LICENCE = ("human: faces/london (CC-BY 4.0), faces/selfies (research only); "
                "anime: anime/faces (selfie2anime trainB, research only: drawn art)")


KID_TARGET = 0.5   # translated / untranslated KID to the held-out anime faces


class Direction(torch.nn.Module):
    """One direction of the Twin-GAN as a plain network (what the op list computes)."""

    def __init__(self, G, src, dst):
        super().__init__()
        self.G, self.src, self.dst = G, src, dst

    def forward(self, x):
        return self.G(x, self.src, self.dst)


def write_model(folder, model_id, G, src=HUMAN, dst=ANIME, extra=None):
    os.makedirs(folder, exist_ok=True)
    G.eval()
    sd = direction_state_dict(G, src, dst)
    ops = op_graph(G, src, dst)
    used = {o[k] for o in ops for k in ("weight", "bias") if o.get(k)}
    sd = {k: v for k, v in sd.items() if k in used}
    entries = write_weights(folder, sd)
    size = G.arch["size"]
    meta = {
        "format": "brushcam-paintnet", "version": 1, "id": model_id,
        "arch": {**G.arch, "direction": f"{G.arch['domains'][src]} -> {G.arch['domains'][dst]}",
                 "input": f"aligned face crop, RGB in [0,1], {size}x{size} (H and W multiples of {2 ** G.levels})",
                 "output": "RGB in [0,1] (sigmoid), same size",
                 "padding": "zeros, 1 pixel on every side of every 3x3 conv (stride 2 too)",
                 "norm": ("encoder: instance norm, biased variance, eps 1e-5, the domain's affine; generator: "
                          "demodulated convs folded for the output domain (plain conv + bias)"
                          if G.arch.get("gen_norm") == "demod" else "instance norm, biased variance, eps 1e-5, the domain's affine"),
                 "upsample": "nearest neighbour x2",
                 "gflop_per_face": round(gflops(G), 3),
                 # models/manifest.json's column is per frame: one face per frame.
                 "gflop_640x360": round(gflops(G), 3)},
        "layout": "OIHW",
        "ops": ops,
        "weightsManifest": [{"paths": ["weights.bin"], "weights": entries}],
        "data_licence": DATA_LICENCE,
        **(extra or {}),
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(meta, f, indent=1)
    x = parity_input()
    with torch.no_grad():
        y = G(x, src, dst)
    r6 = lambda t: [float(f"{v:.6f}") for v in t.flatten().tolist()]
    parity = {"note": "x: NCHW float32 [1,3,32,48] as in training/brushcam_train/export.py parity_input(); "
                      "y = the PyTorch translation; check max |y_tfjs - y| <= 1e-3",
              "shape": [1, 3, PARITY_H, PARITY_W], "tolerance": 1e-3, "x": r6(x), "y": r6(y)}
    with open(os.path.join(folder, "parity.json"), "w") as f:
        json.dump(parity, f, separators=(",", ":"))
    return meta


def write_card(folder, model_id, ck, meta, m, target="anime"):
    L, d = ck["config"]["loss"], ck["config"]["data"]
    lines = [
        f"# {meta.get('title', model_id)} (avatar translator `{model_id}`)", "",
        f"Twin-GAN (encoder symmetric to a PGGAN-style generator, UNet skips at {meta['arch']['skips']}, "
        + ("per-domain instance-norm affine in the encoder, StyleGAN2 weight demodulation with per-domain styles in the generator)"
           if meta['arch'].get('gen_norm') == 'demod' else "per-domain instance-norm affine)") + f", direction {meta['arch']['direction']}, "
        f"{meta['arch']['size']}x{meta['arch']['size']} aligned face crops (src/engine/avatar/alignment.ts, "
        f"training/brushcam_anime/align.py). {meta['arch']['gflop_per_face']} GFLOP per face (budget 3).", "",
        f"Run `{ck['config']['id']}`, {ck['step']} steps, batch {d['batch']}. Losses: "
        + ", ".join(f"{k} {v}" for k, v in L.items()) + ". Weights: "
        + (f"the generator's exponential moving average (decay {ck['config']['train']['ema']})" if meta.get("weights") == "ema"
           else "the generator at the last step") + ".", "",
        "## Data", "",
        "| set | licence / use |", "|---|---|",
        "| `faces/london/` (160 with landmarks, aligned by the pupils; first 8 held out) | CC-BY 4.0, consented for research and altered use |",
        "| `faces/selfies/` (selfie2anime trainA; first 100 held out) | research only |",
        "| `anime/faces/` (selfie2anime trainB; first 100 held out) | **research only (drawn art)**: this model may not ship outside research use |",
        *(["| `build/avatars/lorelei/` (DiceBear Lorelei, rendered by `tools/avatars/render-lorelei.mjs`; first 100 held out) | "
           "design CC0 1.0, code MIT; the network is shared with the anime domain, so this model is research-only too |"]
          if "lorelei" in ck["arch"]["domains"] else []),
        "",
        "## Held-out metrics (training/brushcam_anime/evaluate.py)", "",
        "```", json.dumps(m, indent=1), "```", "",
        f"KID: kernel inception distance on SqueezeNet fire9 features (x1000), translated held-out humans vs "
        f"held-out {target} faces, against the untranslated humans; target ratio <= 0.5: "
        + ("met." if m.get("kid_ratio") is not None and m["kid_ratio"] <= KID_TARGET
           else f"**not met**: a preview, listed in the popup as \"{meta.get('title', model_id)}\"."),
        *(["", f"`kid_ratio_half_std`: the ratio's standard deviation over 100 random halves of both held-out sets "
               "(sampling noise; the full sets' noise is about 0.7 of it)."] if m.get("kid_ratio_half_std") is not None else []),
        "", f"`contact.png`: rows = held-out inputs, {target}, cycle back to human.",
    ]
    with open(os.path.join(folder, "MODEL.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


TITLES = {"anime": "Anime", "lorelei": "Lorelei"}
LICENCES = {"lorelei": "lorelei: DiceBear Lorelei avatars rendered by tools/avatars/render-lorelei.mjs (design CC0 1.0, code MIT)"}


def export(ckpt, models_dir, model_id="anime", do_eval=True, target="anime", averaged=True):
    ck = torch.load(ckpt, map_location="cpu")
    G = load_generator(ck, averaged=averaged)
    if target not in G.arch["domains"] or target == "human":
        raise SystemExit(f"{ckpt}: no target domain '{target}' (it has {G.arch['domains']})")
    dst = G.arch["domains"].index(target)
    folder = os.path.join(models_dir, model_id)
    m = {}
    if do_eval:
        from . import evaluate
        from .data import FaceSets
        t0 = time.time()
        sets = FaceSets.for_config(ck["config"]["data"], G.arch["size"])
        m = evaluate.metrics(G, sets, target=target)
        os.makedirs(folder, exist_ok=True)
        evaluate.contact_sheet(G, sets, os.path.join(folder, "contact.png"), target=target)
        m["eval_seconds"] = round(time.time() - t0, 1)
    # Below the quality target the popup says so: "Anime (preview)".
    name = TITLES.get(target, target.title())
    title = name if m.get("kid_ratio") is not None and m["kid_ratio"] <= KID_TARGET else f"{name} (preview)"
    extra = {"title": title, "trained_steps": ck["step"], "run": ck["config"]["id"], "target": target,
             "weights": G.weights,
             **({"kid_ratio": m["kid_ratio"]} if "kid_ratio" in m else {}),
             # one network for every domain: its weights learned from every set, the anime set included
             **({"data_licence": "; ".join([DATA_LICENCE] + [LICENCES[n] for n in G.arch["domains"] if n in LICENCES])}
                if any(n in LICENCES for n in G.arch["domains"]) else {})}
    meta = write_model(folder, model_id, G, src=HUMAN, dst=dst, extra=extra)
    write_card(folder, model_id, ck, meta, m, target)
    print(f"exported {model_id} -> {folder} {json.dumps(m)}", flush=True)
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--id", default="anime")
    ap.add_argument("--models", default=os.path.join(REPO, "models/anime"))
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--target", default="anime", help="the output domain (anime, lorelei, ...)")
    ap.add_argument("--last-step-weights", action="store_true",
                    help="export the generator's last-step weights, not its moving average (G_ema)")
    a = ap.parse_args(argv)
    export(a.ckpt, a.models, a.id, do_eval=not a.no_eval, target=a.target, averaged=not a.last_step_weights)


if __name__ == "__main__":
    main()

"""Train an artist style from a collection (Sanakoyeu et al. 2018) with ReCoNet's temporal loss.

  /usr/bin/python3 -m brushcam_artist.train --config configs_artist/monet.toml
      [--out /work/runs/artist/<id>] [--steps N] [--device auto|cpu|cuda] [--threads 1] [--smoke]

Each step: a batch of moved frame pairs (x1, x2, flow, mask) from brushcam_train.data.PairSampler
(synthetic motion of still photos/faces, some real-clip DIS pairs) and a batch of collection crops.
  D step: D(collection) -> 1, D(G(E(x))) -> 0, D(x) -> 0 (least squares, multi-scale heads)
  E,G step: content (style-aware, latent) + transformed (avg-pooled image) + lambda * adversarial
            + temporal_output (ReCoNet, luminance term) on both frames of every pair.
Checkpoints `<out>/ckpt.pt` (atomic, every ckpt_every steps, on the last step and on SIGTERM/SIGINT)
carry config, step, E+G, D and both optimisers; rerunning resumes. Milestones `ckpt_<step>.pt`.
Log: `<out>/train.log`. --device auto picks CUDA when present; the config is the same.
"""
import argparse
import os
import tomllib

import torch

from brushcam_train import loop
from brushcam_train.data import PairSampler
from brushcam_train.loop import load_checkpoint, resumed
from .data import CollectionSampler
from .losses import (transformed_loss, style_aware_content_loss, d_loss, g_adv_loss, d_accuracy,
                     temporal_output_loss)
from .nets import ArtistNet, Discriminator, build, gflops

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = "/work/runs/artist"


def load_config(path):
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    cfg.setdefault("arch", {})
    d = cfg.setdefault("data", {})
    d.setdefault("crop", 128); d.setdefault("batch", 2); d.setdefault("real_fraction", 0.1)
    d.setdefault("scale_max", 1.6)
    l = cfg.setdefault("loss", {})
    l.setdefault("content", 100.0); l.setdefault("transformed", 200.0); l.setdefault("adversarial", 1.0)
    l.setdefault("temporal", 100.0); l.setdefault("pool", 8); l.setdefault("photo_negatives", True)
    t = cfg.setdefault("train", {})
    t.setdefault("steps", 3000); t.setdefault("lr", 2e-4); t.setdefault("lr_d", 2e-4)
    t.setdefault("log_every", 10); t.setdefault("ckpt_every", 50); t.setdefault("seed", 0)
    t.setdefault("milestones", []); t.setdefault("d_success", None)
    assert d["crop"] % 16 == 0, "crop must be a multiple of 16 (4 stride-2 convs)"
    assert cfg.get("collection"), "config needs collection = 'collections/<artist>'"
    return cfg


def make_model(cfg):
    a = cfg["arch"]
    if not a:
        return ArtistNet()
    ref = ArtistNet().arch
    return build({**ref, **a})


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def train(cfg, out, device="cpu", threads=1, max_seconds=None):
    torch.set_num_threads(threads)
    t, L, d = cfg["train"], cfg["loss"], cfg["data"]
    torch.manual_seed(t["seed"])
    net = make_model(cfg).to(device)
    D = Discriminator().to(device)
    opt_g = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], t["lr"], betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), t["lr_d"], betas=(0.5, 0.999))
    step = 0
    ck, ckpt_path = load_checkpoint(out, device)
    if ck is not None:
        net.load_state_dict(ck["model"]); D.load_state_dict(ck["disc"])
        opt_g.load_state_dict(ck["opt_g"]); opt_d.load_state_dict(ck["opt_d"]); step = ck["step"]
        resumed(ckpt_path, step)
    elif cfg.get("init_from"):  # warm start of E and G (e.g. from another artist's run); D starts fresh
        if os.path.exists(cfg["init_from"]):
            src = torch.load(cfg["init_from"], map_location=device)
            net.load_state_dict(src["model"])
            cfg["init_from_step"] = src["step"]
            print(f"E and G initialised from {cfg['init_from']} (step {src['step']})", flush=True)
        else:
            print(f"init_from {cfg['init_from']} not found: starting from scratch", flush=True)
            cfg["init_from"] = None
    torch.manual_seed(t["seed"] + step)
    pairs = PairSampler(d["crop"], d["batch"], seed=t["seed"] + step, real_fraction=d["real_fraction"],
                        real_pairs=d.get("real_pairs", 40))
    works = CollectionSampler(cfg["collection"], d["crop"], 2 * d["batch"], seed=t["seed"] + step + 1,
                              scale_max=d["scale_max"])
    net.train(); D.train()
    balance = {"win_rate": 0.5}  # EMA of D's accuracy on the current batch (used when train.d_success is set)
    last = {}

    def step_fn(step):
        x1, x2, flow, mask = [a.to(device) for a in pairs.next()]
        real = works.next().to(device)
        x = torch.cat([x1, x2])
        y, z = net(x, return_latent=True)          # both frames of each pair (synergic)
        # --- D step
        ld = d_loss(D, real, y.detach(), x if L["photo_negatives"] else None)
        if t["d_success"] is None or balance["win_rate"] < t["d_success"]:
            opt_d.zero_grad(set_to_none=True)
            ld.backward()
            opt_d.step()
            d_updates = 1.0
        else:  # the paper's balancing: D rests while it wins more than d_success of the time
            d_updates = 0.0
        balance["win_rate"] = 0.9 * balance["win_rate"] + 0.1 * d_accuracy(D, real, y.detach())
        # --- E, G step
        z_y = net.enc(y)
        terms = {"content": style_aware_content_loss(z, z_y), "transformed": transformed_loss(x, y, L["pool"]),
                 "adv": g_adv_loss(D, y)}
        y1, y2 = y.chunk(2)
        terms["t_out"] = temporal_output_loss(y1, y2, x1, x2, flow, mask)
        loss = (L["content"] * terms["content"] + L["transformed"] * terms["transformed"]
                + L["adversarial"] * terms["adv"] + L["temporal"] * terms["t_out"])
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        terms["total"] = loss
        terms["d"] = ld
        terms["d_updates"] = d_updates
        terms["win_rate"] = balance["win_rate"]
        last.update(real=real, y=y.detach())
        return terms

    step = loop.run(
        out, step, t["steps"], step_fn,
        lambda step: {"config": cfg, "step": step, "model": net.state_dict(), "disc": D.state_dict(),
                      "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "arch": net.arch},
        log_every=t["log_every"], ckpt_every=t["ckpt_every"], milestones=t["milestones"], max_seconds=max_seconds,
        header=lambda: (f"# {cfg['id']} collection={cfg['collection']} ({len(works.files)} works) arch={net.arch} "
                        f"GFLOP@640x360={gflops(net):.3f} crop={d['crop']} batch={d['batch']} pairs "
                        f"threads={threads} device={device} init_from={cfg.get('init_from')} (step {cfg.get('init_from_step')})"),
        log_extra=lambda step: {"d_acc": d_accuracy(D, last["real"], last["y"])})
    return net, step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", default=None, help=f"run dir (default {RUNS}/<id>)")
    ap.add_argument("--steps", type=int, default=None, help="override train.steps (total, not additional)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this long")
    ap.add_argument("--smoke", action="store_true", help="one step on 32x32 crops into a temp dir")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    if a.steps is not None:
        cfg["train"]["steps"] = a.steps
    device = pick_device(a.device)
    if a.smoke:
        cfg["data"].update(crop=32, batch=1, real_fraction=0.0)
        return loop.smoke(train, cfg, a.out, device, a.threads)
    out = a.out or os.path.join(RUNS, cfg["id"])
    train(cfg, out, device, a.threads, a.max_minutes * 60 if a.max_minutes else None)


if __name__ == "__main__":
    main()

"""Train a ReCoNet-family stylizer (one or several styles with conditional instance norm).

  /usr/bin/python3 -m brushcam_train.train_style --config configs/paintings5.toml
  ... --out /work/runs/style/<id>   (default; outside the repo)  --steps N  --device cuda  --smoke

Checkpoints (`<out>/ckpt.pt`, written atomically every `ckpt_every` steps) carry the config, the
step, the model and optimiser state; rerunning the same command resumes. Milestone copies
`<out>/ckpt_<step>.pt` are kept at the steps listed in `train.milestones`.
Log: `<out>/train.log`, one line per `log_every` steps with every loss term and s/step.
"""
import argparse
import os
import tomllib

import torch

from . import loop
from .data import PairSampler, load_rgb, to_tensor
from .loss_net import DATA
from .losses import PerceptualLoss, total_variation, temporal_output_loss, temporal_feature_loss
from .nets import ReCoNetLite, ReCoNetRef, flops

TRAINING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(path):
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    cfg.setdefault("arch", "lite")
    d = cfg.setdefault("data", {})
    d.setdefault("crop", 256); d.setdefault("batch", 2); d.setdefault("real_fraction", 0.2)
    d.setdefault("style_size", 512)
    l = cfg.setdefault("loss", {})
    l.setdefault("content", 1.0); l.setdefault("style", 10.0); l.setdefault("tv", 0.0)
    l.setdefault("temporal", True); l.setdefault("temporal_output", 100.0); l.setdefault("temporal_feature", 1.0)
    t = cfg.setdefault("train", {})
    t.setdefault("steps", 4000); t.setdefault("lr", 1e-3); t.setdefault("lr_final", 2e-4)
    t.setdefault("decay_from", 0.7); t.setdefault("log_every", 20); t.setdefault("ckpt_every", 200)
    t.setdefault("seed", 0); t.setdefault("milestones", [])
    assert cfg["styles"], "config needs at least one [[styles]] entry"
    return cfg


def make_model(cfg):
    n = len(cfg["styles"])
    return {"lite": ReCoNetLite, "ref": ReCoNetRef}[cfg["arch"]](num_styles=n)


def warm_start(model, cfg, device):
    """`init_from` (a checkpoint path) and `init_style` (one of its style ids): copies every tensor
    of that run whose shape matches, and for the per-style norm affines ([styles, C]) the row of
    `init_style` into every style of this run. A new style then starts from a trained network
    instead of from noise. Returns a description for the log, or None when there is nothing to do."""
    src_path = cfg.get("init_from")
    if not src_path:
        return None
    if not os.path.exists(src_path):
        raise FileNotFoundError(f"init_from: {src_path} does not exist")
    ck = torch.load(src_path, map_location=device)
    ids = [s["id"] for s in ck["config"]["styles"]]
    want = cfg.get("init_style", ids[0])
    if want not in ids:
        raise ValueError(f"init_style {want!r} is not a style of {src_path} (it has {ids})")
    row = ids.index(want)
    own = model.state_dict()
    copied, skipped = 0, []
    for k, v in ck["model"].items():
        if k not in own:
            skipped.append(k)
            continue
        affine = v.dim() == 2 and ".norm" in k  # [styles, C]
        if not affine and v.shape == own[k].shape:
            own[k] = v.clone(); copied += 1
        elif affine and own[k].dim() == 2 and v.shape[1] == own[k].shape[1]:
            own[k] = v[row:row + 1].repeat(own[k].shape[0], 1).clone(); copied += 1
        else:
            skipped.append(k)
    model.load_state_dict(own)
    if skipped:
        raise ValueError(f"init_from: tensors that do not fit this network: {skipped[:5]}")
    return f"warm start from {src_path} (step {ck['step']}, style {want}): {copied} tensors"


def style_tensor(entry, size):
    return to_tensor(load_rgb(os.path.join(DATA, entry["image"]), max_side=size))


def lr_at(t, step):
    """Constant, then linear decay to lr_final over the last (1 - decay_from) of training."""
    start = t["decay_from"] * t["steps"]
    if step < start:
        return t["lr"]
    f = min(1.0, (step - start) / max(1.0, t["steps"] - start))
    return t["lr"] + f * (t["lr_final"] - t["lr"])


def train(cfg, out, device="cpu", threads=1, max_seconds=None):
    torch.set_num_threads(threads)
    t, L, d = cfg["train"], cfg["loss"], cfg["data"]
    model = make_model(cfg).to(device)
    opt = torch.optim.Adam(model.parameters(), t["lr"])
    ck, step = loop.resume_model(out, device, model, opt)
    if ck is None:
        started = warm_start(model, cfg, device)
        if started:
            print(started, flush=True)
    torch.manual_seed(t["seed"] + step)
    styles = [style_tensor(s, d["style_size"]) for s in cfg["styles"]]
    crit = PerceptualLoss(styles).to(device)
    sampler = PairSampler(d["crop"], d["batch"], seed=t["seed"] + step, real_fraction=d["real_fraction"],
                          real_pairs=d.get("real_pairs", 60))
    S, B = len(styles), d["batch"]
    style_w = torch.tensor([s.get("weight", 1.0) for s in cfg["styles"]], device=device)
    # Per-style multiplier of both temporal terms (a style whose texture the temporal loss washes
    # out can take less of it); applied per pair, so each style gets exactly its own.
    temporal_w = torch.tensor([s.get("temporal_weight", 1.0) for s in cfg["styles"]], device=device)
    temporal = L["temporal"]
    model.train()

    def step_fn(step):
        x1, x2, flow, mask = [a.to(device) for a in sampler.next()]
        sidx = torch.tensor([(step * B + i) % S for i in range(B)], device=device)
        x = torch.cat([x1, x2])
        s2 = torch.cat([sidx, sidx])
        y, f = model(x, s2, return_features=True)       # synergic: both frames, one pass
        content, style = crit(y, x, s2)
        sw = style_w[sidx].mean()
        terms = {"content": content, "style": style, "tv": total_variation(y)}
        loss = L["content"] * content + L["style"] * sw * style + L["tv"] * terms["tv"]
        y1, y2 = y.chunk(2)
        f1, f2 = f.chunk(2)
        if temporal and bool((temporal_w != 1).any()):
            tw = temporal_w[sidx]
            terms["t_out"] = sum(tw[i] * temporal_output_loss(y1[i:i + 1], y2[i:i + 1], x1[i:i + 1], x2[i:i + 1],
                                                              flow[i:i + 1], mask[i:i + 1]) for i in range(B)) / B
            terms["t_feat"] = sum(tw[i] * temporal_feature_loss(f1[i:i + 1], f2[i:i + 1], flow[i:i + 1], mask[i:i + 1])
                                  for i in range(B)) / B
            loss = loss + L["temporal_output"] * terms["t_out"] + L["temporal_feature"] * terms["t_feat"]
        elif temporal:
            terms["t_out"] = temporal_output_loss(y1, y2, x1, x2, flow, mask)
            terms["t_feat"] = temporal_feature_loss(f1, f2, flow, mask)
            loss = loss + L["temporal_output"] * terms["t_out"] + L["temporal_feature"] * terms["t_feat"]
        else:  # still measured, for the baseline comparison, but not trained on
            with torch.no_grad():
                terms["t_out"] = temporal_output_loss(y1, y2, x1, x2, flow, mask)
                terms["t_feat"] = temporal_feature_loss(f1, f2, flow, mask)
        terms["total"] = loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return terms

    step = loop.run(
        out, step, t["steps"], step_fn,
        lambda step: {"config": cfg, "step": step, "model": model.state_dict(), "opt": opt.state_dict(),
                      "arch": model.arch, "num_styles": S},
        log_every=t["log_every"], ckpt_every=t["ckpt_every"], milestones=t["milestones"], max_seconds=max_seconds,
        header=lambda: (f"# {cfg['id']} arch={cfg['arch']} styles={[s['id'] for s in cfg['styles']]} "
                        f"GFLOP@640x360={flops(model, 360, 640) / 1e9:.2f} threads={threads} device={device}"),
        schedule=(opt, lambda step: lr_at(t, step)))
    return model, step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", default=None, help="run dir (default /work/runs/style/<id>)")
    ap.add_argument("--steps", type=int, default=None, help="override train.steps (total, not additional)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--smoke", action="store_true", help="one step on tiny crops into a temp dir")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    if a.steps is not None:
        cfg["train"]["steps"] = a.steps
    if a.smoke:
        cfg["data"].update(crop=64, batch=1, real_fraction=0.0, style_size=128)
        return loop.smoke(train, cfg, a.out, a.device, a.threads)
    out = a.out or os.path.join("/work/runs/style", cfg["id"])
    train(cfg, out, a.device, a.threads)


if __name__ == "__main__":
    main()

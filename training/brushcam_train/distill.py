"""The cheaper model tier: a narrower ReCoNet taught by the shipped style networks (distillation).

  cd training && /usr/bin/python3 -m brushcam_train.distill --config configs/tier_tiny.toml
  ... --export            writes models/style/<style>/tiny/ for every style of the run (then
                          `node scripts/models-manifest.mjs` lists each as that style's tier)
  ... --smoke             one step on tiny crops into a temp dir

The runtime's governor switches a style to its tiny tier only after it has lowered the internal
resolution as far as it goes (src/engine/stylizer.ts). The student sees the same moved frame
pairs as the teachers did (brushcam_train.data.PairSampler) and learns, per style:
  |S(x) - T(x)|_1 + |grad S(x) - grad T(x)|_1   on both frames of a pair (the gradient term keeps
                                                 the brush texture that plain L1 would blur), and
  ReCoNet's output-level temporal loss on S, so it stays as steady as its teacher.
One student carries every style (conditional instance norm), like the teachers' joint run.
Checkpoints `<out>/ckpt.pt` every `ckpt_every` steps; rerunning resumes. Log `<out>/train.log`.
"""
import argparse
import os

import torch
import torch.nn.functional as F

from .data import PairSampler
from .losses import temporal_output_loss
from .nets import ReCoNet, build, flops
from . import loop

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_config(path):
    cfg = loop.read_config(path, ("id", "tier", "arch", "teachers"))
    d = cfg.setdefault("data", {})
    d.setdefault("crop", 192); d.setdefault("batch", 2); d.setdefault("real_fraction", 0.2)
    l = cfg.setdefault("loss", {})
    l.setdefault("l1", 1.0); l.setdefault("grad", 1.0); l.setdefault("temporal_output", 20.0)
    t = cfg.setdefault("train", {})
    t.setdefault("steps", 2000); t.setdefault("lr", 2e-3); t.setdefault("lr_final", 2e-4)
    t.setdefault("log_every", 20); t.setdefault("ckpt_every", 100); t.setdefault("seed", 0)
    return cfg


def load_teachers(cfg, device="cpu"):
    """[(style entry from the teacher run's config, teacher net, its style index, ckpt path, step)]."""
    out = []
    for tc in cfg["teachers"]:
        if not os.path.exists(tc["ckpt"]):
            raise FileNotFoundError(f"teacher checkpoint {tc['ckpt']} does not exist")
        ck = torch.load(tc["ckpt"], map_location=device)
        net = build(ck["arch"], ck["num_styles"]).to(device).eval()
        net.load_state_dict(ck["model"])
        for p in net.parameters():
            p.requires_grad_(False)
        ids = [s["id"] for s in ck["config"]["styles"]]
        for sid in tc["styles"]:
            if sid not in ids:
                raise ValueError(f"{tc['ckpt']} has no style {sid!r} (it has {ids})")
            out.append((ck["config"]["styles"][ids.index(sid)], net, ids.index(sid), tc["ckpt"], ck["step"]))
    return out


def grad_l1(a, b):
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]
    return F.l1_loss(dx(a), dx(b)) + F.l1_loss(dy(a), dy(b))


def lr_at(t, step):
    f = step / max(1, t["steps"])
    return t["lr"] * (t["lr_final"] / t["lr"]) ** f  # exponential decay


def make_student(cfg, n):
    a = cfg["arch"]
    return ReCoNet(tuple(a["widths"]), a["res_blocks"], a.get("separable", True), n)


def train(cfg, out, device="cpu", threads=1):
    torch.set_num_threads(threads)
    teachers = load_teachers(cfg, device)
    S = len(teachers)
    student = make_student(cfg, S).to(device)
    t, L, d = cfg["train"], cfg["loss"], cfg["data"]
    opt = torch.optim.Adam(student.parameters(), t["lr"])
    _, step = loop.resume_model(out, device, student, opt)
    torch.manual_seed(t["seed"] + step)
    sampler = PairSampler(d["crop"], d["batch"], seed=t["seed"] + step, real_fraction=d["real_fraction"])
    B = d["batch"]

    def step_fn(step):
        x1, x2, flow, mask = [a.to(device) for a in sampler.next()]
        terms = {"l1": 0.0, "grad": 0.0, "t_out": 0.0}
        for i in range(B):
            s = (step * B + i) % S
            _, teacher, ts, _, _ = teachers[s]
            x = torch.cat([x1[i:i + 1], x2[i:i + 1]])
            with torch.no_grad():
                target = teacher(x, torch.full((2,), ts, dtype=torch.long, device=device))
            y = student(x, torch.full((2,), s, dtype=torch.long, device=device))
            terms["l1"] = terms["l1"] + F.l1_loss(y, target) / B
            terms["grad"] = terms["grad"] + grad_l1(y, target) / B
            terms["t_out"] = terms["t_out"] + temporal_output_loss(y[:1], y[1:], x[:1], x[1:], flow[i:i + 1], mask[i:i + 1]) / B
        loss = L["l1"] * terms["l1"] + L["grad"] * terms["grad"] + L["temporal_output"] * terms["t_out"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        terms["total"] = loss
        return terms

    step = loop.run(
        out, step, t["steps"], step_fn,
        lambda step: {"config": cfg, "step": step, "model": student.state_dict(), "opt": opt.state_dict(),
                      "arch": student.arch, "num_styles": S, "styles": [e["id"] for e, *_ in teachers]},
        log_every=t["log_every"], ckpt_every=t["ckpt_every"],
        header=lambda: (f"# {cfg['id']} student {student.arch} GFLOP@640x360={flops(student, 360, 640) / 1e9:.2f} "
                        f"teachers {[e['id'] for e, *_ in teachers]} threads={threads}"),
        schedule=(opt, lambda step: lr_at(t, step)))
    return student, step


def evaluate_tier(student, teachers, s, device="cpu"):
    """Mean |S - T| (0-255) on the held-out stills the style cards use, for the card."""
    from .evaluate import heldout_images
    _, teacher, ts, _, _ = teachers[s]
    errs = []
    with torch.no_grad():
        for x in heldout_images():
            x = x.to(device)
            errs.append(float((student(x, torch.tensor([s])) - teacher(x, torch.tensor([ts]))).abs().mean() * 255))
    return sum(errs) / len(errs)


def export(ckpt_path, models_dir):
    """models/style/<style>/<tier>/: model.json (op list), weights.bin, parity.json, TIER.md."""
    from .export import style_state_dict, write_model
    ck = torch.load(ckpt_path, map_location="cpu")
    cfg = ck["config"]
    teachers = load_teachers(cfg)
    student = make_student(cfg, ck["num_styles"])
    student.load_state_dict(ck["model"])
    student.eval()
    arch = student.arch
    gf = flops(student, 360, 640) / 1e9
    done = []
    for s, (entry, teacher, _, tpath, tstep) in enumerate(teachers):
        folder = os.path.join(models_dir, entry["id"], cfg["tier"])
        if not os.path.isdir(os.path.dirname(folder)):
            raise SystemExit(f"{os.path.dirname(folder)} does not exist: export the full model of {entry['id']} first")
        extra = {"title": entry.get("title", entry["id"]), "artist": entry.get("artist", ""), "tier": cfg["tier"],
                 "trained_steps": ck["step"], "run": cfg["id"], "teacher": {"ckpt": os.path.basename(tpath), "step": tstep}}
        write_model(folder, entry["id"], arch, style_state_dict(student, s), extra)
        err = evaluate_tier(student, teachers, s)
        tgf = flops(teacher, 360, 640) / 1e9
        with open(os.path.join(folder, "TIER.md"), "w") as f:
            f.write("\n".join([
                f"# {entry.get('title', entry['id'])}: the `{cfg['tier']}` tier",
                "",
                "The cheaper network the governor switches to once the internal resolution is at its floor",
                "(src/engine/stylizer.ts). Same op list format as `../model.json`, taught by it (distillation,",
                f"`training/brushcam_train/distill.py`, run `{cfg['id']}`, {ck['step']} steps; teacher step {tstep}).",
                "",
                f"- Widths {arch['widths']}, {arch['res_blocks']} residual blocks: {gf:.2f} GFLOP per 640x360 frame "
                f"against the full model's {tgf:.2f} ({tgf / gf:.1f}x less).",
                f"- Mean |tier - full model| on the held-out stills (first 8 of photos/cq100 and faces/london): "
                f"{err:.1f} on the 0-255 scale.",
                "- Data and licences: those of the full model (`../MODEL.md`).",
                "",
            ]))
        done.append((entry["id"], round(err, 2)))
        print(f"exported {entry['id']} tier {cfg['tier']} -> {folder}: {gf:.2f} GFLOP, |tier - full| {err:.1f}/255", flush=True)
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", default=None, help="run dir (default /work/runs/style/<id>)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--export", action="store_true", help="export the run's checkpoint instead of training")
    ap.add_argument("--models", default=os.path.join(REPO, "models", "style"))
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    out = a.out or os.path.join("/work/runs/style", cfg["id"])
    if a.export:
        export(os.path.join(out, "ckpt.pt"), a.models)
        return
    if a.smoke:
        cfg["data"].update(crop=64, batch=1, real_fraction=0.0)
        return loop.smoke(train, cfg, None, a.device, a.threads)
    train(cfg, out, a.device, a.threads)


if __name__ == "__main__":
    main()

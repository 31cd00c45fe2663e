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
  ReCoNet's output-level temporal loss on S, so it stays as steady as its teacher, and
  optionally ([loss] feat > 0) the teacher's loss-network activations at its style layers
  (SqueezeNet relu1, fire3, fire5, fire7), each relative to the teacher's energy there:
  sum_l |phi_l(S) - phi_l(T)|^2 / |phi_l(T)|^2. Pixel losses leave a narrow student's strokes
  soft where it cannot place them exactly; the features say which texture the teacher drew.
One student carries every style (conditional instance norm), like the teachers' joint run.

Taught at the output's scale ([data] scale = k > 1): the page draws the tier's painting of a
frame shrunk k times, upsampled to the camera's size (guided refresh), and a caller should see
the strokes the teacher draws on the whole frame. So the student gets the pair shrunk k times
(area) and learns the teacher's output on the full-size pair, shrunk the same way:
  S(x/k) ~ T(x)/k     (the flow is averaged over k x k blocks and divided by k; a block is valid
                       only if all its pixels are).
A teacher is a training checkpoint (`ckpt`, `styles`) or an exported model (`model`, a folder
under models/style); `init = "<tier>"` starts the student from that exported tier of each style
(the convolutions are shared: every style's export must hold the same ones).
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
    d.setdefault("crop", 192); d.setdefault("batch", 2); d.setdefault("real_fraction", 0.2); d.setdefault("scale", 1)
    l = cfg.setdefault("loss", {})
    l.setdefault("l1", 1.0); l.setdefault("grad", 1.0); l.setdefault("temporal_output", 20.0); l.setdefault("feat", 0.0)
    t = cfg.setdefault("train", {})
    t.setdefault("steps", 2000); t.setdefault("lr", 2e-3); t.setdefault("lr_final", 2e-4)
    t.setdefault("log_every", 20); t.setdefault("ckpt_every", 100); t.setdefault("seed", 0)
    return cfg


def load_teachers(cfg, device="cpu"):
    """[(style entry from the teacher run's config, teacher net, its style index, ckpt path, step)]."""
    out = []
    for tc in cfg["teachers"]:
        if "model" in tc:
            out.append(exported_teacher(tc["model"], device))
            continue
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


def exported_teacher(folder, device="cpu"):
    """An exported style (models/style/<id>, relative paths from training/) as a teacher entry."""
    from .export import read_model, single_style_model
    path = folder if os.path.isabs(folder) else os.path.join(REPO, "training", folder)
    if not os.path.exists(os.path.join(path, "model.json")):
        raise FileNotFoundError(f"teacher model {path}/model.json does not exist")
    meta, weights = read_model(path)
    if meta["arch"].get("name", "ReCoNet") == "ReCoNet":
        net = single_style_model(meta["arch"], {k: torch.from_numpy(v) for k, v in weights.items()}).to(device)
        for p in net.parameters():
            p.requires_grad_(False)
    else:
        net = OpListNet(meta, weights, device)
    entry = {"id": meta["id"], "title": meta.get("title", meta["id"]), "artist": meta.get("artist", "")}
    return entry, net, 0, os.path.join(path, "model.json"), meta.get("trained_steps", 0)


class OpListNet(torch.nn.Module):
    """An exported network of any architecture (the artist networks), run by the op-list reference
    interpreter: net(x, style) -> its painting of x (H and W multiples of meta's input_multiple)."""

    def __init__(self, meta, weights, device="cpu"):
        super().__init__()
        from .export import run_ops
        self.meta, self.run_ops = meta, run_ops
        self.weights = {k: torch.as_tensor(v, dtype=torch.float32, device=device) for k, v in weights.items()}
        self.multiple = int(meta["arch"].get("input_multiple", 4))

    def forward(self, x, style=None):
        h, w = x.shape[-2:]
        if h % self.multiple or w % self.multiple:
            raise ValueError(f"{self.meta['id']} wants H and W multiples of {self.multiple}, got {h}x{w}")
        return self.run_ops(self.meta["ops"], self.weights, x)

    def gflop_640x360(self):
        return float(self.meta["arch"]["gflop_640x360"])


def init_from_tier(student, teachers, tier):
    """Loads each style's exported `tier` into the conditional student (norm rows per style).
    `tier` with a slash is one exported tier folder (from training/) every style starts from: a
    network that already paints, for styles that have no tier yet."""
    from .export import read_model
    sd = student.state_dict()
    norm_keys = {k for k in sd if sd[k].dim() == 2 and ".norm" in f".{k}"}
    shared = {}
    for s, (entry, *_rest) in enumerate(teachers):
        folder = (os.path.join(REPO, "training", tier) if "/" in tier
                  else os.path.join(REPO, "models", "style", entry["id"], tier))
        _, w = read_model(folder)
        if set(w) != set(sd):
            raise ValueError(f"{folder} does not hold the student's weights: {sorted(set(w) ^ set(sd))[:4]}")
        for k, v in w.items():
            v = torch.from_numpy(v)
            if k in norm_keys:
                sd[k][s] = v
            elif k in shared and not torch.equal(shared[k], v):
                raise ValueError(f"{folder}: {k} differs from the other styles' (not one conditional student)")
            else:
                shared[k] = v
                sd[k].copy_(v)
    student.load_state_dict(sd)


def shrink(x, k):
    return x if k == 1 else F.avg_pool2d(x, k, k)


def shrink_flow(flow, mask, k):
    """Flow between frames shrunk k times (area): block means divided by k; valid if all pixels are."""
    if k == 1:
        return flow, mask
    return F.avg_pool2d(flow, k, k) / k, 1.0 - F.max_pool2d(1.0 - mask, k, k)


def grad_l1(a, b):
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]
    return F.l1_loss(dx(a), dx(b)) + F.l1_loss(dy(a), dy(b))


def feature_match(net, y, target):
    """Mean over the style layers of |phi(y) - phi(target)|^2 / |phi(target)|^2 (per image)."""
    from .loss_net import STYLE_LAYERS
    fy, ft = net(y, STYLE_LAYERS), net(target, STYLE_LAYERS)
    terms = [((fy[l] - ft[l]) ** 2).flatten(1).sum(1) / (ft[l] ** 2).flatten(1).sum(1).clamp_min(1e-8)
             for l in STYLE_LAYERS]
    return torch.stack(terms).mean()


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
    if step == 0 and cfg.get("init"):
        init_from_tier(student, teachers, cfg["init"])
    torch.manual_seed(t["seed"] + step)
    k = int(d["scale"])
    sampler = PairSampler(d["crop"] * k, d["batch"], seed=t["seed"] + step, real_fraction=d["real_fraction"])
    B = d["batch"]
    feat_net = None
    if L["feat"] > 0:
        from .loss_net import SqueezeNetFeatures
        feat_net = SqueezeNetFeatures().to(device)

    def step_fn(step):
        big1, big2, flow, mask = [a.to(device) for a in sampler.next()]
        x1, x2 = shrink(big1, k), shrink(big2, k)
        flow, mask = shrink_flow(flow, mask, k)
        terms = {"l1": 0.0, "grad": 0.0, "t_out": 0.0, "feat": 0.0}
        for i in range(B):
            s = (step * B + i) % S
            _, teacher, ts, _, _ = teachers[s]
            x = torch.cat([x1[i:i + 1], x2[i:i + 1]])
            with torch.no_grad():
                big = torch.cat([big1[i:i + 1], big2[i:i + 1]])
                target = shrink(teacher(big, torch.full((2,), ts, dtype=torch.long, device=device)), k)
            y = student(x, torch.full((2,), s, dtype=torch.long, device=device))
            terms["l1"] = terms["l1"] + F.l1_loss(y, target) / B
            terms["grad"] = terms["grad"] + grad_l1(y, target) / B
            terms["t_out"] = terms["t_out"] + temporal_output_loss(y[:1], y[1:], x[:1], x[1:], flow[i:i + 1], mask[i:i + 1]) / B
            if feat_net is not None:
                terms["feat"] = terms["feat"] + feature_match(feat_net, y, target) / B
        loss = (L["l1"] * terms["l1"] + L["grad"] * terms["grad"] + L["temporal_output"] * terms["t_out"]
                + L["feat"] * terms["feat"])
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


def evaluate_tier(student, teachers, s, device="cpu", k=1):
    """Mean |S(x/k) - T(x)/k| (0-255) on the held-out stills the style cards use, for the card."""
    from .evaluate import heldout_images
    _, teacher, ts, _, _ = teachers[s]
    errs = []
    with torch.no_grad():
        for x in heldout_images():
            x = x.to(device)
            got = student(shrink(x, k), torch.tensor([s]))
            errs.append(float((got - shrink(teacher(x, torch.tensor([ts])), k)).abs().mean() * 255))
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
        k = int(cfg["data"].get("scale", 1))
        extra = {"title": entry.get("title", entry["id"]), "artist": entry.get("artist", ""), "tier": cfg["tier"],
                 "trained_steps": ck["step"], "run": cfg["id"], "teacher": {"ckpt": os.path.basename(tpath), "step": tstep},
                 "taught_scale": k}
        write_model(folder, entry["id"], arch, style_state_dict(student, s), extra)
        err = evaluate_tier(student, teachers, s, k=k)
        tgf = teacher.gflop_640x360() if isinstance(teacher, OpListNet) else flops(teacher, 360, 640) / 1e9
        with open(os.path.join(folder, "TIER.md"), "w") as f:
            f.write("\n".join([
                f"# {entry.get('title', entry['id'])}: the `{cfg['tier']}` tier",
                "",
                "The cheaper network the governor runs where the full model at a size it can afford would draw",
                "a coarser picture (fidelityLadder, src/engine/stylizer.ts). Same op list format as `../model.json`,",
                "taught by it (distillation,",
                f"`training/brushcam_train/distill.py`, run `{cfg['id']}`, {ck['step']} steps; teacher step {tstep}).",
                *([f"Taught at the output's scale: given a frame shrunk {k}x, it draws the teacher's painting of the",
                   f"full-size frame shrunk {k}x, so the strokes a caller sees after upsampling are the full model's."] if k > 1 else []),
                "",
                f"- Widths {arch['widths']}, {arch['res_blocks']} residual blocks: {gf:.2f} GFLOP per 640x360 frame "
                f"against the full model's {tgf:.2f} ({tgf / gf:.1f}x less).",
                f"- Mean |tier{f'(x/{k})' if k > 1 else ''} - full model{f'(x)/{k}' if k > 1 else ''}| on the held-out stills (first 8 of photos/cq100 and faces/london): "
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

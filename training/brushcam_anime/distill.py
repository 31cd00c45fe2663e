"""The avatar translator's cheaper tier: a narrower Twin-GAN taught by the shipped translator.

  cd training && /usr/bin/python3 -m brushcam_anime.distill --config configs_anime/anime_tiny.toml
  ... --export            writes models/anime/<teacher>/<tier>/ (then `node scripts/models-manifest.mjs`)
  ... --smoke             one step on a few faces into a temp dir

The full translator costs too much on a 2-core laptop to run on every frame, so the extension
translates every second or third tracked frame and holds the drawing in between: the avatar's
mouth and eyes follow the face a frame or two late. This student has the teacher's structure
(shared encoder, demodulated generator, UNet skips at 16 and 32 px) at narrower widths, and
learns the teacher's drawing of the same crop (the teacher is the exported op list, run by the
reference interpreter, so the teacher's run need not be at hand):
  |S(x) - T(x)|_1 + |grad S(x) - grad T(x)|_1     (the gradient term keeps the line work)
  + feat * mean_l |phi_l(S) - phi_l(T)|^2 / |phi_l(T)|^2   (SqueezeNet relu1, fire3, fire5, fire7:
                                                  which strokes and flat fills the teacher drew)
  + ReCoNet's output-level temporal loss on S over the moved face pairs the teacher trained on.
The faces are the teacher's training faces: the validation (holdout_*) and test (test_*) splits of
the [data] table are never drawn. Checkpoints `<out>/ckpt.pt` every `ckpt_every` steps (rerunning
resumes), log `<out>/train.log`.
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

from brushcam_train import loop
from brushcam_train.distill import OpListNet, feature_match, grad_l1, lr_at
from brushcam_train.export import read_model
from brushcam_train.losses import temporal_output_loss
from brushcam_train.loss_net import SqueezeNetFeatures

from .data import FaceSets, Sampler
from .nets import ANIME, HUMAN, TwinGAN, gflops

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_config(path):
    cfg = loop.read_config(path, ("id", "tier", "teacher", "arch", "data"))
    l = cfg.setdefault("loss", {})
    for k, v in (("l1", 1.0), ("grad", 1.0), ("feat", 0.1), ("temporal_output", 20.0)):
        l.setdefault(k, v)
    t = cfg.setdefault("train", {})
    for k, v in (("steps", 4000), ("lr", 1e-3), ("lr_final", 1e-4), ("log_every", 20), ("ckpt_every", 100), ("seed", 0)):
        t.setdefault(k, v)
    return cfg


def teacher_folder(cfg):
    p = cfg["teacher"]
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(REPO, "training", p))


def load_teacher(cfg, device="cpu"):
    """The exported translator (human -> anime op list) as a frozen network."""
    folder = teacher_folder(cfg)
    if not os.path.exists(os.path.join(folder, "model.json")):
        raise FileNotFoundError(f"teacher translator {folder}/model.json does not exist")
    meta, weights = read_model(folder)
    if meta["arch"].get("name") != "TwinGAN" or not meta["arch"].get("direction", "").startswith("human"):
        raise ValueError(f"{folder}: expected an exported TwinGAN human -> anime direction, got {meta['arch'].get('name')}")
    meta["arch"].setdefault("input_multiple", 2 ** (len(meta["arch"]["widths"]) - 1))
    return meta, OpListNet(meta, weights, device)


def make_student(cfg):
    a = dict(cfg["arch"])
    a.setdefault("name", "TwinGAN")
    a["domains"] = ["human", "anime"]
    return TwinGAN(a)


def train(cfg, out, device="cpu", threads=1, limit=None):
    torch.set_num_threads(threads)
    meta, teacher = load_teacher(cfg, device)
    size = int(meta["arch"]["size"])
    if cfg["arch"].get("size", size) != size:
        raise ValueError(f"the student's size {cfg['arch']['size']} must be the teacher's {size}")
    cfg["arch"]["size"] = size
    student = make_student(cfg).to(device)
    t, L, d = cfg["train"], cfg["loss"], cfg["data"]
    opt = torch.optim.Adam(student.parameters(), t["lr"], betas=(0.9, 0.999))
    _, step = loop.resume_model(out, device, student, opt)
    torch.manual_seed(t["seed"] + step)
    sets = FaceSets.for_config(d, size, limit=limit)
    sampler = Sampler(sets, d["batch"], seed=t["seed"] + step, motion_strength=d.get("motion_strength", 0.5))
    feat_net = SqueezeNetFeatures().to(device) if L["feat"] > 0 else None

    def step_fn(step):
        f1, f2, flow, mask, _ = [a.to(device) for a in sampler.next()]
        x = torch.cat([f1, f2])
        with torch.no_grad():
            target = teacher(x)
        y = student(x, HUMAN, ANIME)
        B = f1.shape[0]
        terms = {"l1": F.l1_loss(y, target), "grad": grad_l1(y, target),
                 "t_out": temporal_output_loss(y[:B], y[B:], f1, f2, flow, mask),
                 "feat": feature_match(feat_net, y, target) if feat_net is not None else torch.zeros(())}
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
                      "arch": student.arch, "teacher": teacher_folder(cfg)},
        log_every=t["log_every"], ckpt_every=t["ckpt_every"],
        header=lambda: (f"# {cfg['id']} student {student.arch['widths']} GFLOP/face={gflops(student):.3f} "
                        f"teacher {meta['id']} ({meta['arch']['gflop_per_face']} GFLOP) faces {sets.counts()} threads={threads}"),
        schedule=(opt, lambda step: lr_at(t, step)))
    return student, step


def student_from(ckpt_path):
    ck = torch.load(ckpt_path, map_location="cpu")
    G = TwinGAN(ck["arch"])
    G.load_state_dict(ck["model"])
    return G.eval(), ck


@torch.no_grad()
def held_out_gap(G, teacher, sets, batch=16):
    """Mean |S(x) - T(x)| (0-255) on the validation faces: how far the tier draws from its teacher."""
    from .data import to_batch
    x = to_batch([im for _, im in sets.human_held])
    errs = [float((G(x[i:i + batch], HUMAN, ANIME) - teacher(x[i:i + batch])).abs().mean()) * len(x[i:i + batch])
            for i in range(0, len(x), batch)]
    return 255 * sum(errs) / len(x)


def export(ckpt_path, models_root):
    """models/anime/<teacher id>/<tier>/: model.json (op list), weights.bin, parity.json, TIER.md."""
    from .export import write_model
    G, ck = student_from(ckpt_path)
    cfg = ck["config"]
    meta_t, teacher = load_teacher(cfg)
    folder = os.path.join(models_root, meta_t["id"], cfg["tier"])
    meta = write_model(folder, f"{meta_t['id']}-{cfg['tier']}", G, HUMAN, ANIME,
                       extra={"tier": cfg["tier"], "teacher": meta_t["id"], "trained_steps": ck["step"]})
    sets = FaceSets.for_config(cfg["data"], G.arch["size"])
    gap = held_out_gap(G, teacher, sets)
    with open(os.path.join(folder, "TIER.md"), "w") as f:
        f.write(f"# {meta_t['id']}/{cfg['tier']}: the avatar translator's cheaper tier\n\n"
                f"Distilled from `{meta_t['id']}` (`training/brushcam_anime/distill.py`, config `{cfg['id']}`), "
                f"{ck['step']} steps. Widths {G.arch['widths']}: {meta['arch']['gflop_per_face']} GFLOP per face against "
                f"the teacher's {meta_t['arch']['gflop_per_face']}.\n\n"
                f"- Mean |tier - teacher| on the validation faces ({len(sets.human_held)}): {gap:.2f} / 255\n"
                f"- Data and licence: the teacher's (see ../MODEL.md); research only, as the teacher.\n")
    print(json.dumps({"folder": folder, "gflop": meta["arch"]["gflop_per_face"], "gap_255": round(gap, 2)}))
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", default=None, help="run dir (default /work/runs/anime/<id>)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--export", action="store_true")
    ap.add_argument("--models", default=os.path.join(REPO, "models", "anime"))
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    out = a.out or os.path.join("/work/runs/anime", cfg["id"])
    if a.export:
        export(os.path.join(out, "ckpt.pt"), a.models)
    elif a.smoke:
        loop.smoke(train, cfg, a.out, a.device, a.threads, limit=16)
    else:
        train(cfg, out, a.device, a.threads)


if __name__ == "__main__":
    main()

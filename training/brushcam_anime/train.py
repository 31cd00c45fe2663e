"""Train the Twin-GAN translator.

  /usr/bin/python3 -m brushcam_anime.train --config configs_anime/anime_v1.toml \
      [--out /work/runs/anime/anime_v1] [--steps N] [--threads 1] [--max-seconds S] [--smoke]

Checkpoints (generator, discriminator, both optimisers, step, config) go to <out>/ckpt.pt every
`ckpt_every` steps and on SIGTERM/SIGINT; running the same command again resumes. --smoke runs one
step on a few images into a temporary directory (CI)."""
import argparse
import copy
import json
import os
import shutil
import time
import tomllib

import numpy as np
import torch
import torch.nn.functional as F

from brushcam_train import loop
from brushcam_train.loop import load_checkpoint, resumed, save_atomic
from brushcam_train.loss_net import SqueezeNetFeatures
from brushcam_train.losses import temporal_output_loss

from .augment import diff_augment
from .data import FaceSets, Sampler, to_batch
from .nets import ANIME, HUMAN, TwinGAN, discriminator, gflops, grow_domains

RUNS = "/work/runs/anime"


def load_config(path):
    return loop.read_config(path, ("arch", "data", "loss", "train"))


def to_cpu(obj):
    """A checkpoint dict with every tensor on the CPU (a CUDA run resumes on a CPU and back)."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    return obj


CONTENT_LAYER = 7   # SqueezeNet fire5, 1/8 resolution: face layout, glasses, mouth; not strokes or colours


def chroma(x, cell=16):
    """The colour (YUV's U and V) of x averaged over cell x cell blocks: hair, skin and clothes
    colour at a scale where a drawing and a photo of the same person agree."""
    x = F.avg_pool2d(x, cell)
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    return torch.stack([-0.147 * r - 0.289 * g + 0.436 * b, 0.615 * r - 0.515 * g - 0.100 * b], 1)


def content_distance(net, fake, real):
    """L1 between SqueezeNet fire5 features of translation and input, relative to the input's mean
    feature magnitude (CartoonGAN/AnimeGAN's content loss with a lighter network)."""
    a = net(fake, [CONTENT_LAYER])[CONTENT_LAYER]
    b = net(real, [CONTENT_LAYER])[CONTENT_LAYER].detach()
    return (a - b).abs().mean() / (b.abs().mean() + 1e-6)


def losses(G, D, batch, L, target=ANIME, loss_net=None, augment=()):
    """Generator losses for one batch whose last item holds images of domain `target` (anime,
    or another drawn domain); also returns the translated frames (for the D step). `loss_net`:
    SqueezeNet features, needed when L has a `content` weight; `augment`: DiffAugment policy for
    the discriminator's input."""
    h1, h2, flow, mask, a = batch
    B = h1.shape[0]
    # One pass for both human frames of the pair (h1, h2) and one for the reconstructions.
    x = torch.cat([h1, h2, h1, a])
    src = torch.tensor([HUMAN] * (3 * B) + [target] * B, device=x.device)
    dst = torch.tensor([target] * (2 * B) + [HUMAN] * B + [target] * B, device=x.device)
    y = G(x, src, dst)
    fake1, fake2, rec_h, rec_a = y.split(B)
    back = G(fake1, target, HUMAN)
    t = {
        "rec_h": F.l1_loss(rec_h, h1),
        "rec_a": F.l1_loss(rec_a, a),
        "adv": ((D(diff_augment(fake1, augment)) - 1) ** 2).mean(),
        "cycle": F.l1_loss(back, h1),
        "t_out": temporal_output_loss(fake1, fake2, h1, h2, flow, mask),
    }
    t["total"] = (L["rec_human"] * t["rec_h"] + L["rec_anime"] * t["rec_a"] + L["adversarial"] * t["adv"]
                  + L["cycle"] * t["cycle"] + L["temporal_output"] * t["t_out"])
    if L.get("content"):
        t["content"] = content_distance(loss_net, fake1, h1)
        t["total"] = t["total"] + L["content"] * t["content"]
    if L.get("colour"):
        t["colour"] = F.l1_loss(chroma(fake1), chroma(h1))
        t["total"] = t["total"] + L["colour"] * t["colour"]
    return t, fake1


class _Batches(torch.utils.data.IterableDataset):
    """Endless (target name, batch) pairs from a Sampler, seeded per worker."""

    def __init__(self, sampler, targets, share):
        self.sampler, self.targets, self.share = sampler, targets, share

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        s = copy.copy(self.sampler)
        s.rng = np.random.default_rng([int(self.sampler.rng.integers(2**31)), info.id if info else 0])
        while True:
            name = self.targets[int(s.rng.choice(len(self.targets), p=self.share))]
            yield name, s.next(name)


def prefetched(sampler, targets, share, workers):
    """Batches made by `workers` processes ahead of the training step (a GPU step is faster than
    the synthetic head motion of a batch on one core)."""
    loader = torch.utils.data.DataLoader(_Batches(sampler, targets, share), batch_size=None, num_workers=workers,
                                         prefetch_factor=4, persistent_workers=True, pin_memory=torch.cuda.is_available())
    return iter(loader)


def train(cfg, out, threads=1, steps=None, max_seconds=None, limit=None, device="cpu", pack=None, workers=0):
    torch.set_num_threads(threads)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    A, d, L, T = cfg["arch"], cfg["data"], cfg["loss"], cfg["train"]
    steps = steps or T["steps"]
    torch.manual_seed(T["seed"])
    # Target domains: every domain but human, each with its own discriminator ("D" is anime's;
    # the others are in "D_more"), drawn per step at data.target_share (default: equal).
    targets = [n for n in A["domains"] if n != "human"]
    share = np.array([float(d.get("target_share", {}).get(n, 1.0)) for n in targets])
    share /= share.sum()
    G = TwinGAN(A).to(device)
    # Exponential moving average of the generator's weights (as PGGAN/StyleGAN sample from): the
    # GAN's weights oscillate from step to step, their average does not. What eval, samples and
    # export use; train.ema = 0 turns it off.
    ema = float(T.get("ema", 0.0))
    G_ema = copy.deepcopy(G).eval().requires_grad_(False) if ema > 0 else None
    Ds = {n: discriminator(int(A.get("d_scales", 1))).to(device) for n in targets}
    augment = tuple(T.get("augment", ()))
    loss_net = SqueezeNetFeatures().to(device) if L.get("content") else None
    opt_g = torch.optim.Adam(G.parameters(), T["lr"], betas=tuple(T["betas"]))
    opt_ds = {n: torch.optim.Adam(Ds[n].parameters(), T["lr_d"], betas=tuple(T["betas"])) for n in targets}
    step = 0
    ck, ckpt_path = load_checkpoint(out, device)
    if ck is not None:
        G.load_state_dict(ck["G"]); step = ck["step"]
        if G_ema is not None:
            G_ema.load_state_dict(ck.get("G_ema", ck["G"]))
        # a slimmed checkpoint (training/gpu_anime.sh prepare) has no optimiser states: fresh Adam
        if "opt_g" in ck:
            opt_g.load_state_dict(ck["opt_g"])
        for n in targets:
            Ds[n].load_state_dict(ck["D"] if n == "anime" else ck["D_more"][n])
            if "opt_g" in ck:
                opt_ds[n].load_state_dict(ck["opt_d"] if n == "anime" else ck["opt_d_more"][n])
        # the config's learning rates apply on resume (a schedule change is a config edit)
        for opt, lr in [(opt_g, T["lr"])] + [(opt_ds[n], T["lr_d"]) for n in targets]:
            for group in opt.param_groups:
                group["lr"] = lr
        resumed(ckpt_path, step)
    elif T.get("init_from"):
        # A run with more domains than its parent: the parent's generator grown to them (new
        # domains start as copies of anime), anime's discriminator kept, fresh optimisers.
        ck = torch.load(T["init_from"], map_location="cpu")
        state, _ = grow_domains(ck["G"], ck["arch"], A["domains"])
        G.load_state_dict(state)
        if G_ema is not None:
            G_ema.load_state_dict(state)
        Ds["anime"].load_state_dict(ck["D"])
        step = ck["step"]
        print(f"initialised from {T['init_from']} (step {step}, domains {ck['arch']['domains']} -> {A['domains']})", flush=True)
    torch.manual_seed(T["seed"] + step)
    t0 = time.time()
    sets = FaceSets.for_config(d, A["size"], limit=limit, pack=pack)
    missing = [n for n in targets if n not in sets.targets]
    if missing:
        raise ValueError(f"domains {missing} have no images: add them under [data] extra = {{name = folder}}")
    sampler = Sampler(sets, d["batch"], seed=T["seed"] + step, motion_strength=d["motion_strength"])
    batches = prefetched(sampler, targets, share, workers) if workers else None
    header = (f"# {cfg['id']} arch={A} GFLOP/face={gflops(G):.3f} data={sets.counts()} "
              f"threads={threads} data_load_s={time.time() - t0:.1f}")
    G.train()
    for D in Ds.values():
        D.train()

    def step_fn(step):
        if batches is not None:
            name, batch = next(batches)
        else:
            name = targets[0] if len(targets) == 1 else targets[int(sampler.rng.choice(len(targets), p=share))]
            batch = sampler.next(name)
        D, opt_d = Ds[name], opt_ds[name]
        f = lr_factor(step, T.get("lr_decay"))
        for opt, lr in [(opt_g, T["lr"]), (opt_d, T["lr_d"])]:
            for group in opt.param_groups:
                group["lr"] = lr * f
        batch = [t.to(device, non_blocking=True) for t in batch]
        terms, fake = losses(G, D, batch, L, A["domains"].index(name), loss_net, augment)
        opt_g.zero_grad(set_to_none=True)
        terms["total"].backward()
        opt_g.step()
        if G_ema is not None:
            ema_update(G_ema, G, ema)
        real = batch[4]
        d_loss = 0.5 * (((D(diff_augment(real, augment)) - 1) ** 2).mean()
                        + (D(diff_augment(fake.detach(), augment)) ** 2).mean())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        terms["d"] = d_loss
        return terms

    def checkpoint(step):
        more = [n for n in targets if n != "anime"]
        return to_cpu({"config": cfg, "arch": A, "step": step, "G": G.state_dict(),
                       **({"G_ema": G_ema.state_dict()} if G_ema is not None else {}),
                       "D": Ds["anime"].state_dict(), "opt_g": opt_g.state_dict(), "opt_d": opt_ds["anime"].state_dict(),
                       **({"D_more": {n: Ds[n].state_dict() for n in more},
                           "opt_d_more": {n: opt_ds[n].state_dict() for n in more}} if more else {})})

    def snapshots(step, done, write_log):
        if step % T.get("snapshot_every", 10**9) == 0:
            shutil.copyfile(ckpt_path, os.path.join(out, f"ckpt_{step}.pt"))
        if G_ema is not None and step % T.get("ema_snapshot_every", 10**9) == 0:
            # the averaged generator alone (a quarter of a checkpoint): what a lent GPU brings back
            save_atomic(to_cpu({"config": cfg, "arch": A, "step": step, "G": G_ema.state_dict(), "G_ema": G_ema.state_dict()}),
                        os.path.join(out, f"ema_{step}.pt"))
        if step % T.get("sample_every", 10**9) == 0 or done:
            sample_sheet(G_ema or G, sets, os.path.join(out, "samples.png"))

    def evaluation(step, done, write_log):
        nonlocal loss_net
        if step % T.get("eval_every", 10**9) != 0:
            return 0.0
        # held-out KID / cycle curve in the log ("eval step N {...}"), to see where a run is going
        from .evaluate import metrics
        t_eval = time.time()
        loss_net = loss_net or SqueezeNetFeatures().to(device)
        m = metrics(G_ema or G, sets, loss_net)
        G.train()
        write_log(f"eval step {step} " + json.dumps({**m, "eval_seconds": round(time.time() - t_eval, 1)}))
        return time.time() - t_eval   # keep s/step a training figure

    step = loop.run(out, step, steps, step_fn, checkpoint, log_every=T["log_every"], ckpt_every=T["ckpt_every"],
                    header=header, max_seconds=max_seconds, value_fmt=".4g", time_fmt=".2f",
                    hooks=(snapshots, evaluation))
    return G, step


@torch.no_grad()
def lr_factor(step, decay):
    """The learning rates' factor at `step` for train.lr_decay = [start, end]: 1 until start, then
    linearly down to 0 at end (CycleGAN and U-GAT-IT end their runs this way); None: always 1."""
    if not decay:
        return 1.0
    start, end = decay
    if not end > start:
        raise ValueError(f"train.lr_decay must be [start, end] with end > start, got {decay}")
    return float(min(1.0, max(0.0, (end - step) / (end - start))))


def ema_update(G_ema, G, decay):
    """G_ema <- decay * G_ema + (1 - decay) * G, parameters and buffers alike."""
    for e, p in zip(G_ema.state_dict().values(), G.state_dict().values()):
        if e.is_floating_point():
            e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        else:
            e.copy_(p)


@torch.no_grad()
def sample_sheet(G, sets, path, n=6):
    """Held-out humans: input / anime / back to human, as rows of a PNG."""
    import cv2
    was = G.training
    G.eval()
    x = to_batch([im for _, im in sets.human_held[:n]]).to(next(G.parameters()).device)
    rows = [x]
    for t in range(1, len(G.arch["domains"])):   # per target domain: translation, cycle back
        y = G(x, HUMAN, t)
        rows += [y, G(y, t, HUMAN)]
    rows = [torch.cat(list(t.cpu()), 2) for t in rows]
    img = (torch.cat(rows, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    G.train(was)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-seconds", type=float)
    ap.add_argument("--smoke", action="store_true", help="one step on a few images into a temporary directory")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--pack", help="read the face sets from this .npz (brushcam_anime.pack) instead of ../shared/data")
    ap.add_argument("--batch", type=int, help="override the config's batch (a GPU takes more)")
    ap.add_argument("--no-eval", action="store_true", help="no held-out KID in the log (it needs ../shared/data's SqueezeNet)")
    ap.add_argument("--workers", type=int, default=0, help="processes that make batches ahead (0: in the loop)")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="override a config value (TOML syntax), e.g. --set loss.content=2; recorded in the checkpoint")
    ap.add_argument("--id", help="run id (default: the config's); names the output folder")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    for item in a.set:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        if section not in cfg or not name or not value:
            raise ValueError(f"--set {item!r}: expected SECTION.KEY=VALUE with SECTION one of {sorted(cfg)}")
        cfg[section][name] = tomllib.loads(f"v = {value}")["v"]
    if a.id:
        cfg["id"] = a.id
    if a.batch:
        cfg["data"]["batch"] = a.batch
    if a.no_eval:
        cfg["train"].pop("eval_every", None)
    if a.smoke:
        cfg["data"]["batch"] = 2
        return loop.smoke(train, cfg, None, threads=a.threads, steps=1, limit=8, device=a.device, pack=a.pack,
                          workers=a.workers)
    out = a.out or os.path.join(RUNS, cfg["id"])
    train(cfg, out, threads=a.threads, steps=a.steps, max_seconds=a.max_seconds, device=a.device, pack=a.pack,
          workers=a.workers)


if __name__ == "__main__":
    main()

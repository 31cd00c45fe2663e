"""The training loop the trainers share (styles, their cheaper tiers, artist styles, the anime
avatar): resume from `<out>/ckpt.pt`, the log header, SIGTERM/SIGINT (finish the step, checkpoint,
exit), per-step accounting and log lines in `<out>/train.log`, atomic checkpoints (every
`ckpt_every` steps, at milestones, on the last step and on stop) and hooks after each step
(evaluation, samples, snapshots). A trainer brings only its models, data and losses: a
`step_fn` that trains one step and returns its loss terms, and a `checkpoint` that says what to
save (the keys are the trainer's own, so existing checkpoints resume unchanged)."""
import os
import shutil
import signal
import tempfile
import time
import tomllib

import torch


def save_atomic(obj, path):
    """torch.save to a temporary file, then a rename: a checkpoint is never half written."""
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(out, device="cpu"):
    """`(checkpoint, path)`: the run's `<out>/ckpt.pt` if there is one (else None), to resume."""
    path = os.path.join(out, "ckpt.pt")
    return (torch.load(path, map_location=device) if os.path.exists(path) else None), path


def resumed(path, step):
    print(f"resumed from {path} at step {step}", flush=True)


def resume_model(out, device, model, opt):
    """Resumes a one-network run (checkpoint keys "model", "opt", "step"): `(checkpoint, step)`,
    `(None, 0)` for a new run."""
    ck, path = load_checkpoint(out, device)
    if ck is None:
        return None, 0
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    resumed(path, ck["step"])
    return ck, ck["step"]


def read_config(path, required=()):
    """A run's TOML config; a ValueError names the file and the first missing key."""
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    for k in required:
        if k not in cfg:
            raise ValueError(f"{path}: missing [{k}]")
    return cfg


def run(out, step, steps, step_fn, checkpoint, *, log_every, ckpt_every, header=None, milestones=(),
        max_seconds=None, value_fmt=".5g", time_fmt=".3f", schedule=None, log_extra=None, hooks=()):
    """Trains from `step` to `steps`; returns the step it stopped at.

    step_fn(step) trains one step (the step about to be done, 0-based) and returns its terms
    (floats or 0-d tensors), averaged over each log interval into the line
    `step N k v ... [lr L] s/step T`. log_extra(N) adds values measured at log time.
    schedule = (optimizer, lr_at): each step starts at lr_at(step), and the lines say it.
    checkpoint(N) is the dict saved to `<out>/ckpt.pt`; at a milestone it is also copied to
    `ckpt_N.pt`. Each hook(N, done, write_log) runs after the checkpoint and may return seconds
    it spent, which s/step leaves out. header (a string, or a function giving one) starts a new
    run's log."""
    os.makedirs(out, exist_ok=True)
    ckpt_path = os.path.join(out, "ckpt.pt")
    log = open(os.path.join(out, "train.log"), "a")

    def write_log(line):
        print(line, flush=True)
        log.write(line + "\n")
        log.flush()

    if step == 0 and header is not None:
        log.write((header() if callable(header) else header) + "\n")
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    t0 = t_start = time.time()
    acc, n = {}, 0
    try:
        while step < steps:
            if schedule:
                for g in schedule[0].param_groups:
                    g["lr"] = schedule[1](step)
            terms = step_fn(step)
            step, n = step + 1, n + 1
            for k, v in terms.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            if step % log_every == 0 or step == steps:
                # n: the steps done since the last line (after a resume, fewer than log_every)
                avg = {k: v / n for k, v in acc.items()}
                avg.update(log_extra(step) if log_extra else {})
                write_log(f"step {step} " + " ".join(f"{k} {v:{value_fmt}}" for k, v in avg.items())
                          + (f" lr {schedule[1](step):.2e}" if schedule else "") + f" s/step {(time.time() - t0) / n:{time_fmt}}")
                acc, n, t0 = {}, 0, time.time()
            done = step >= steps or bool(stop) or bool(max_seconds and time.time() - t_start > max_seconds)
            if step % ckpt_every == 0 or done or step in milestones:
                save_atomic(checkpoint(step), ckpt_path)
                if step in milestones:
                    shutil.copyfile(ckpt_path, os.path.join(out, f"ckpt_{step}.pt"))
            for hook in hooks:
                t0 += hook(step, done, write_log) or 0.0
            if done:
                break
    finally:
        log.close()
    return step


def smoke(train, cfg, out, *args, **kwargs):
    """--smoke: one step (a line and a checkpoint) into `out` or a temporary directory."""
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    with tempfile.TemporaryDirectory() as tmp:
        _, step = train(cfg, out or tmp, *args, **kwargs)
        files = sorted(os.listdir(out or tmp))
        assert step == 1 and "ckpt.pt" in files, (step, files)
    print(f"smoke ok: {step} step, files {files}")

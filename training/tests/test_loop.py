"""The shared training loop (brushcam_train/loop.py): log lines, checkpoints, milestones,
resume, the stop signal and hooks."""
import os
import signal

import torch

from brushcam_train import loop


def toy(out, steps, stop_at=None, hooks=()):
    ck, _ = loop.load_checkpoint(out)
    w = torch.nn.Parameter(torch.zeros(()))
    step = 0
    if ck is not None:
        w.data.fill_(ck["w"])
        step = ck["step"]
    seen = []
    opt = torch.optim.SGD([w], lr=0.0)

    def step_fn(step):
        seen.append((step, opt.param_groups[0]["lr"]))
        w.data += 1.0
        if step == stop_at:
            os.kill(os.getpid(), signal.SIGTERM)
        return {"loss": torch.tensor(float(step)), "w": w.detach()}

    end = loop.run(str(out), step, steps, step_fn, lambda s: {"step": s, "w": float(w)}, log_every=2, ckpt_every=4,
                   milestones=(3,), header="# toy run", hooks=hooks, schedule=(opt, lambda s: s / 10))
    return end, seen


def test_logs_checkpoints_milestones_and_resumes(tmp_path):
    end, seen = toy(tmp_path, 5)
    assert end == 5 and seen == [(s, s / 10) for s in range(5)]
    log = (tmp_path / "train.log").read_text().splitlines()
    assert log[0] == "# toy run"
    # averages over each log interval (steps 0,1 -> loss 0.5, w 1.5), the last one partial; each
    # step runs at the schedule's learning rate, and the line gives the one of its step
    assert log[1].startswith("step 2 loss 0.5 w 1.5 lr 2.00e-01 s/step ")
    assert log[3].startswith("step 5 loss 4 w 5 lr 5.00e-01 s/step ")
    assert torch.load(tmp_path / "ckpt_3.pt")["step"] == 3
    assert torch.load(tmp_path / "ckpt.pt") == {"step": 5, "w": 5.0}
    end, seen = toy(tmp_path, 7)            # the same command again resumes at step 5
    assert end == 7 and seen == [(5, 0.5), (6, 0.6)]
    log = (tmp_path / "train.log").read_text().splitlines()
    # the first line after the resume averages the one step since it, not log_every steps
    assert log.count("# toy run") == 1 and log[-2].startswith("step 6 loss 5 w 6 ") and log[-1].startswith("step 7 loss 6 w 7 ")
    assert torch.load(tmp_path / "ckpt.pt") == {"step": 7, "w": 7.0}


def test_stop_signal_finishes_the_step_checkpoints_and_returns(tmp_path):
    previous = signal.getsignal(signal.SIGTERM)
    try:
        end, seen = toy(tmp_path, 100, stop_at=2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert end == 3 and [s for s, _ in seen] == [0, 1, 2]
    assert torch.load(tmp_path / "ckpt.pt") == {"step": 3, "w": 3.0}
    assert not (tmp_path / "ckpt.pt.tmp").exists()


def test_hooks_run_after_each_step_and_can_write_the_log(tmp_path):
    calls = []

    def hook(step, done, write_log):
        calls.append((step, done))
        if step == 2:
            write_log("eval step 2 {}")
        return 0.0

    toy(tmp_path, 3, hooks=(hook,))
    assert calls == [(1, False), (2, False), (3, True)]
    assert "eval step 2 {}" in (tmp_path / "train.log").read_text().splitlines()

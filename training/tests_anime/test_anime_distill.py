"""The avatar translator's cheaper tier (brushcam_anime.distill): the teacher is the shipped
export, a step trains and checkpoints, the export runs as the op list the extension runs, and the
cadence measure scores a held drawing below a fresh one."""
import json
import os

import numpy as np
import pytest
import torch

from brushcam_anime import cadence, distill
from brushcam_anime.nets import ANIME, HUMAN
from brushcam_train import export as style_export

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
CONFIG = os.path.join(TRAINING, "configs_anime", "anime_tiny.toml")


def test_teacher_is_the_shipped_translator():
    cfg = distill.load_config(CONFIG)
    meta, teacher = distill.load_teacher(cfg)
    p = json.load(open(os.path.join(REPO, "models/anime/anime/parity.json")))
    x = torch.tensor(p["x"]).view(p["shape"])
    assert float((teacher(x).flatten() - torch.tensor(p["y"])).abs().max()) < 1e-4
    student = distill.make_student(cfg)
    from brushcam_anime.nets import gflops
    assert gflops(student) < 0.35 * meta["arch"]["gflop_per_face"]
    with pytest.raises(FileNotFoundError, match="nope/model.json"):
        distill.load_teacher(dict(cfg, teacher=os.path.join(TRAINING, "nope")))
    with pytest.raises(ValueError, match="TwinGAN"):
        distill.load_teacher(dict(cfg, teacher=os.path.join(REPO, "models/style/udnie")))


def test_one_step_and_export(tmp_path):
    cfg = distill.load_config(CONFIG)
    cfg["data"]["batch"] = 2
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    student, step = distill.train(cfg, str(tmp_path / "run"), limit=12)
    assert step == 1 and os.path.exists(tmp_path / "run" / "ckpt.pt")
    assert "feat" in open(tmp_path / "run" / "train.log").read()
    folder = distill.export(str(tmp_path / "run" / "ckpt.pt"), str(tmp_path / "models"))
    assert folder == str(tmp_path / "models" / "anime" / "tiny")
    meta, w = style_export.read_model(folder)
    assert meta["tier"] == "tiny" and meta["teacher"] == "anime" and meta["arch"]["widths"] == cfg["arch"]["widths"]
    x = style_export.parity_input()
    with torch.no_grad():
        want = student.eval()(x, HUMAN, ANIME)
    assert float((style_export.run_ops(meta["ops"], w, x) - want).abs().max()) < 1e-4
    assert "validation faces" in open(os.path.join(folder, "TIER.md")).read()


def test_cadence_scores_a_late_drawing_lower():
    """A drawing held from the previous frame scores below the fresh one where the face changed."""
    rng = np.random.default_rng(0)
    crops = [rng.random((32, 32, 3)).astype(np.float32) for _ in range(6)]
    ref = [np.clip(c[..., ::-1] * 0.8 + 0.1, 0, 1).astype(np.float32) for c in crops]
    every = cadence.score(cadence.shown(ref, crops, 1), ref, crops)
    late = cadence.score(cadence.shown(ref, crops, 2), ref, crops)
    assert every["ssim"] > 0.99 and every["feat"] < 1e-6
    assert late["ssim"] < every["ssim"] - 0.1 and late["feat"] > 0.05
    assert cadence.spearman([1, 2, 3], [2, 4, 9]) == pytest.approx(1.0)
    assert cadence.spearman([1, 1, 1], [1, 2, 3]) is None

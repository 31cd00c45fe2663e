"""v4's training pieces: the untouched test split, DiffAugment, the two-scale discriminator, the
content and colour losses, worker-made batches and config overrides."""
import os

import numpy as np
import pytest
import torch

from brushcam_anime import train as T
from brushcam_anime.augment import diff_augment
from brushcam_anime.data import FaceSets, folder_faces
from brushcam_anime.nets import MultiScaleDiscriminator, PatchDiscriminator, discriminator
from brushcam_anime.test_report import test_sets as make_test_sets

HERE = os.path.dirname(os.path.abspath(__file__))
V4 = os.path.join(HERE, "..", "configs_anime", "anime_v4.toml")


def test_test_split_is_never_read_by_training():
    cfg = T.load_config(V4)
    d = cfg["data"]
    test = {k: d[f"test_{k}"] for k in ("london", "selfies", "anime")}
    train = FaceSets(32, limit=None, holdout={"london": 2, "selfies": 2, "anime": 2}, test=test)
    only = FaceSets(32, test=test, load_test=True)
    names = lambda items: {n for n, _ in items}
    seen = names(train.human_train) | names(train.human_held) | names(train.anime_train) | names(train.anime_held)
    held = names(only.test_human) | names(only.test_anime)
    assert len(only.test_anime) == test["anime"] and len(only.test_human) == test["london"] + test["selfies"]
    assert not seen & held
    # the last faces by name, so adding files elsewhere cannot move a face between the splits
    all_selfies = sorted(n for n, _ in folder_faces("faces/selfies", 8, limit=None))
    assert names(only.test_human) >= set(all_selfies[-test["selfies"]:])
    assert not names(only.human_train) and not only.anime_train


def test_test_report_needs_a_test_split():
    cfg = T.load_config(os.path.join(HERE, "..", "configs_anime", "anime_v1.toml"))
    with pytest.raises(ValueError, match="no test split"):
        make_test_sets(cfg)


def test_diff_augment_keeps_shape_changes_pixels_and_names_bad_policies():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)
    y = diff_augment(x, ("colour", "translation", "cutout"))
    assert y.shape == x.shape and not torch.allclose(x, y)
    assert torch.equal(diff_augment(x, ()), x)
    # cutout blanks a square of half the side somewhere in every image
    z = diff_augment(torch.ones(8, 3, 32, 32), ("cutout",))
    zeros = (z == 0).all(1).flatten(1).sum(1)
    assert ((zeros > 0) & (zeros <= 17 * 17)).all()
    # gradients flow through (the generator's step sees augmented translations)
    x.requires_grad_(True)
    diff_augment(x, ("colour", "translation")).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        diff_augment(x, ("flip",))


def test_two_scale_discriminator_scores_both_scales():
    d = discriminator(2)
    assert isinstance(d, MultiScaleDiscriminator) and isinstance(discriminator(1), PatchDiscriminator)
    out = d(torch.rand(2, 3, 128, 128))
    one = PatchDiscriminator()(torch.rand(2, 3, 128, 128)).flatten(1).shape[1]
    half = PatchDiscriminator()(torch.rand(2, 3, 64, 64)).flatten(1).shape[1]
    assert out.shape == (2, one + half)


def test_colour_and_content_losses_see_what_they_are_for():
    torch.manual_seed(0)
    face = torch.rand(2, 3, 64, 64) * 0.5 + 0.25
    red = face.clone()
    red[:, 0] += 0.2                      # a red tint: another hair / skin colour
    bright = face + 0.1                   # the same colours, lighter (a drawing is allowed that)
    assert T.F.l1_loss(T.chroma(red), T.chroma(face)) > 5 * T.F.l1_loss(T.chroma(bright), T.chroma(face))


def test_v4_trains_with_workers_and_overrides(tmp_path):
    T.main(["--config", V4, "--out", str(tmp_path), "--steps", "2", "--batch", "2", "--workers", "1",
            "--set", "loss.content=0.5", "--set", "train.log_every=1", "--set", "train.ema_snapshot_every=2",
            "--id", "v4-test", "--no-eval"])
    ck = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert ck["step"] == 2 and ck["config"]["loss"]["content"] == 0.5 and ck["config"]["id"] == "v4-test"
    snap = torch.load(tmp_path / "ema_2.pt", map_location="cpu")
    assert set(snap) >= {"G_ema", "arch", "step"} and "D" not in snap
    log = (tmp_path / "train.log").read_text()
    assert "content" in log and "colour" in log
    nums = [float(v) for line in log.splitlines() if line.startswith("step") for v in line.split()[3::2][:-1]]
    assert nums and np.all(np.isfinite(nums))
    with pytest.raises(ValueError, match="SECTION.KEY=VALUE"):
        T.main(["--config", V4, "--out", str(tmp_path), "--set", "content=1"])

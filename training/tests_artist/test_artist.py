"""brushcam_artist: architecture and FLOP budget, loss definitions, export round trip, grouping
precision, configs, and a one-step smoke training run (with resume)."""
import glob
import json
import os

import numpy as np
import pytest
import torch
import torch.nn as nn

from brushcam_train.export import read_model, run_ops
from brushcam_train.losses import temporal_output_loss
from brushcam_artist import losses
from brushcam_artist.data import split
from brushcam_artist.export import Pad16, write_model
from brushcam_artist.group import precision_at_k, cosine_rank
from brushcam_artist.nets import ArtistNet, Discriminator, gflops, op_graph, INPUT_MULTIPLE
from brushcam_artist.train import load_config, make_model, train

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)
CONFIGS = sorted(glob.glob(os.path.join(TRAINING, "configs_artist", "*.toml")))
RUNTIME_OPS = {"conv2d", "depthwise_conv2d", "instance_norm", "relu", "sigmoid", "upsample_nearest", "features", "save", "add"}


def random_net(seed=0):
    torch.manual_seed(seed)
    net = ArtistNet()
    for m in net.modules():
        if isinstance(m, nn.InstanceNorm2d) and m.weight.requires_grad:
            nn.init.normal_(m.weight, 1, 0.2); nn.init.normal_(m.bias, 0, 0.2)
    return net.eval()


# ----------------------------------------------------------------------------- architecture

def test_architecture_matches_the_paper_layout():
    net = ArtistNet()
    strides = [b.conv.dw.stride[0] if hasattr(b.conv, "dw") else b.conv.stride[0] for b in [net.enc.c0, *net.enc.down]]
    assert strides == [1, 2, 2, 2, 2]                     # E: 5 convs, 1 stride-1 + 4 stride-2
    assert len(net.dec.res) == 9 and len(net.dec.up) == 4           # G: 9 residual + 4 upsampling blocks
    assert all(b.up is not None for b in net.dec.up)
    assert sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules()) == 5 + 18 + 4
    d = Discriminator()
    assert [l["conv"].stride[0] for l in d.layers] == [2] * 7      # D: 7 stride-2 convs
    scores = d(torch.rand(2, 3, 128, 128))
    assert [s.shape[-1] for s in scores] == [16, 4, 1]              # fully convolutional heads


@pytest.mark.parametrize("cfg_path", CONFIGS)
def test_flop_budget(cfg_path):
    net = make_model(load_config(cfg_path))
    assert gflops(net, 360, 640) <= 5.0                                   # per 640x360 output frame
    assert gflops(net, 368, 640) <= 5.0                                   # what 360 rows decode to


def test_sizes_multiple_of_16_and_what_happens_otherwise():
    net = random_net()
    with torch.no_grad():
        assert net(torch.rand(1, 3, 48, 64)).shape[-2:] == (48, 64)
        # 360 is a multiple of 4 but not of 16: the 1/16 latent has ceil(360/16) = 23 rows -> 368
        assert net(torch.rand(1, 3, 40, 48)).shape[-2:] == (48, 48)
        x = torch.rand(1, 3, 40, 52)
        assert Pad16(net)(x).shape == x.shape
    assert INPUT_MULTIPLE == 16


# ----------------------------------------------------------------------------- losses

def test_transformed_loss_is_pooled_mse():
    x, y = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    tx = torch.nn.functional.avg_pool2d(x, 4, 1); ty = torch.nn.functional.avg_pool2d(y, 4, 1)
    want = ((tx - ty) ** 2).sum() / (2 * 3 * 13 * 13)
    assert torch.allclose(losses.transformed_loss(x, y, 4), want)
    assert float(losses.transformed_loss(x, x, 4)) == 0.0
    # T ignores texture finer than the pool: a +-d checkerboard on a flat image costs (almost) nothing
    flat = torch.full((1, 3, 16, 16), 0.5)
    checker = flat + 0.2 * ((torch.arange(16)[:, None] + torch.arange(16)[None]) % 2 * 2 - 1)
    assert float(losses.transformed_loss(flat, checker, 4)) < 1e-12
    assert float(((flat - checker) ** 2).mean()) == pytest.approx(0.04)


def test_style_aware_content_loss_normalisation():
    z = torch.zeros(2, 8, 3, 5)
    zy = torch.ones(2, 8, 3, 5) * 2
    assert float(losses.style_aware_content_loss(z, zy)) == pytest.approx(4.0)


def test_adversarial_losses_least_squares():
    class Const(nn.Module):
        def __init__(self, v):
            super().__init__(); self.v = v
        def forward(self, x):
            return [torch.full((x.shape[0], 1, 2, 2), self.v), torch.full((x.shape[0], 1, 1, 1), self.v)]
    x = torch.rand(2, 3, 8, 8)
    assert float(losses.d_loss(Const(1.0), x, x)) == pytest.approx(1.0)         # real ok, fake wrong
    assert float(losses.d_loss(Const(0.5), x, x, x)) == pytest.approx(0.75)
    assert float(losses.g_adv_loss(Const(1.0), x)) == 0.0
    assert float(losses.g_adv_loss(Const(0.0), x)) == pytest.approx(1.0)
    assert losses.d_accuracy(Const(0.9), x, x) == pytest.approx(0.5)


def test_temporal_loss_with_luminance_term():
    i1 = torch.rand(1, 3, 8, 8)
    i2 = i1 + 0.1                                    # global brightening, no motion
    flow, mask = torch.zeros(1, 2, 8, 8), torch.ones(1, 1, 8, 8)
    assert float(temporal_output_loss(i1, i1 + 0.1, i1, i2, flow, mask)) < 1e-10   # follows luminance
    assert float(temporal_output_loss(i1, i1, i1, i2, flow, mask)) == pytest.approx(0.01, rel=1e-4)


# ----------------------------------------------------------------------------- export

def test_export_round_trip_and_op_list(tmp_path):
    net = random_net()
    ck = {"config": {"id": "t", "collection": "collections/monet"}, "step": 1}
    diff = write_model(str(tmp_path), net, ck)
    assert diff < 1e-4
    meta, weights = read_model(str(tmp_path))
    assert meta["format"] == "brushcam-paintnet" and meta["layout"] == "OIHW" and meta["version"] == 1
    assert {op["op"] for op in meta["ops"]} <= RUNTIME_OPS
    sd = net.state_dict()
    assert list(weights) == list(sd)
    for k, v in sd.items():
        assert np.array_equal(weights[k], v.numpy()), k
    every_weight = {op[k] for op in meta["ops"] for k in ("weight", "bias") if op.get(k)}
    assert every_weight == set(weights)
    x = torch.rand(1, 3, 64, 80)
    with torch.no_grad():
        assert (run_ops(meta["ops"], weights, x) - net(x)).abs().max() < 1e-4
    with open(tmp_path / "parity.json") as f:
        p = json.load(f)
    y = run_ops(meta["ops"], weights, torch.tensor(p["x"]).reshape(p["shape"]))
    assert (y - torch.tensor(p["y"]).reshape(p["shape"])).abs().max() <= 1e-4
    assert meta["arch"]["gflop_640x360"] <= 5.0 and meta["arch"]["input_multiple"] == 16
    assert op_graph(net) == meta["ops"]


@pytest.mark.parametrize("style", ["monet", "van_gogh"])
def test_shipped_artist_model(style):
    folder = os.path.join(REPO, "models", "style", style)
    if not os.path.exists(os.path.join(folder, "model.json")):
        pytest.skip(f"{style} not exported yet")
    meta, weights = read_model(folder)
    with open(os.path.join(folder, "parity.json")) as f:
        p = json.load(f)
    y = run_ops(meta["ops"], weights, torch.tensor(p["x"]).reshape(p["shape"]))
    assert (y - torch.tensor(p["y"]).reshape(p["shape"])).abs().max() <= 1e-4
    assert meta["arch"]["gflop_640x360"] <= 5.0
    assert os.path.exists(os.path.join(folder, "MODEL.md"))


# ----------------------------------------------------------------------------- grouping

def test_precision_at_k():
    order = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    gallery = ["a", "a", "b", "b"]
    mean, per = precision_at_k(order, ["a", "a"], gallery, 2)
    assert per.tolist() == [1.0, 0.0] and mean == 0.5
    mean, per = precision_at_k(order, ["a", "b"], gallery, 3)
    assert per.tolist() == pytest.approx([2 / 3, 2 / 3])
    q = np.array([[1.0, 0.0]]); g = np.array([[0.0, 1.0], [2.0, 0.1], [-1.0, 0.0]])
    order, sim = cosine_rank(q, g)
    assert order[0].tolist() == [1, 0, 2] and sim[0, 2] == pytest.approx(-1.0)


def test_split_is_fixed_and_disjoint():
    files = [f"{i:03d}" for i in range(12)]
    tr, ho = split(files)
    assert ho == ["004", "009"] and not set(tr) & set(ho) and len(tr) + len(ho) == 12


# ----------------------------------------------------------------------------- training

@pytest.mark.parametrize("cfg_path", CONFIGS)
def test_configs_load(cfg_path):
    cfg = load_config(cfg_path)
    assert cfg["data"]["crop"] % 16 == 0 and cfg["data"]["batch"] in (2, 3, 4)
    assert cfg["loss"]["temporal"] > 0 and cfg["collection"].startswith("collections/")


def test_smoke_train_one_step_and_resume(tmp_path):
    cfg = load_config(CONFIGS[0])
    cfg["data"].update(crop=32, batch=1, real_fraction=0.0)
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    _, step = train(cfg, str(tmp_path))
    assert step == 1
    ck = torch.load(tmp_path / "ckpt.pt")
    assert ck["step"] == 1 and {"model", "disc", "opt_g", "opt_d", "config"} <= set(ck)
    cfg["train"]["steps"] = 2
    _, step = train(cfg, str(tmp_path))
    assert step == 2
    log = (tmp_path / "train.log").read_text()
    assert "step 1 " in log and "step 2 " in log and "content" in log and "t_out" in log

"""Export round trip, op-list interpreter parity, and the one-step smoke training run."""
import json
import os

import numpy as np
import pytest
import torch

from brushcam_train import export
from brushcam_train.loss_net import DATA
from brushcam_train.nets import ReCoNetLite, CondInstanceNorm
from brushcam_train.train_style import main as train_main, load_config

TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TRAINING)


def random_two_style_model():
    torch.manual_seed(0)
    net = ReCoNetLite(num_styles=2)
    for m in net.modules():
        if isinstance(m, CondInstanceNorm):
            torch.nn.init.normal_(m.weight, 1, 0.2); torch.nn.init.normal_(m.bias, 0, 0.2)
    return net.eval()


def test_export_round_trip(tmp_path):
    net = random_two_style_model()
    sd = export.style_state_dict(net, 1)
    model = export.write_model(str(tmp_path), "t", net.arch, sd, {})
    meta, weights = export.read_model(str(tmp_path))
    assert meta["format"] == "brushcam-paintnet" and meta["layout"] == "OIHW"
    assert [e["name"] for e in meta["weightsManifest"][0]["weights"]] == list(sd)
    for k, v in sd.items():
        assert weights[k].shape == tuple(v.shape) and np.array_equal(weights[k], v.numpy()), k
    # style 1 of the joint net == the exported single-style net
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        assert torch.allclose(net(x, torch.tensor([1])), model(x), atol=1e-6)
    assert os.path.getsize(tmp_path / "weights.bin") < 400_000


def test_op_list_interpreter_matches_torch_and_parity_fixture(tmp_path):
    net = random_two_style_model()
    export.write_model(str(tmp_path), "t", net.arch, export.style_state_dict(net, 0), {})
    meta, weights = export.read_model(str(tmp_path))
    with open(tmp_path / "parity.json") as f:
        parity = json.load(f)
    assert os.path.getsize(tmp_path / "parity.json") < 100_000
    x = torch.tensor(parity["x"], dtype=torch.float32).reshape(parity["shape"])
    y = torch.tensor(parity["y"]).reshape(parity["shape"])
    assert torch.allclose(x, export.parity_input(), atol=1e-6)
    y_ops = export.run_ops(meta["ops"], weights, x)
    assert (y_ops - y).abs().max() <= 1e-5, float((y_ops - y).abs().max())
    every_weight = {op[k] for op in meta["ops"] for k in ("weight", "bias") if op.get(k)}
    assert every_weight == set(weights)


def test_shipped_models_parity():
    root = os.path.join(REPO, "models", "style")
    folders = [d for d in sorted(os.listdir(root)) if os.path.exists(os.path.join(root, d, "model.json"))] if os.path.isdir(root) else []
    # each style's cheaper tiers (models/style/<id>/<tier>/) too
    folders += [os.path.join(d, t) for d in folders for t in sorted(os.listdir(os.path.join(root, d)))
                if os.path.exists(os.path.join(root, d, t, "model.json"))]
    assert any(os.sep in d for d in folders), "no tier exported"
    for d in folders:
        meta, weights = export.read_model(os.path.join(root, d))
        with open(os.path.join(root, d, "parity.json")) as f:
            p = json.load(f)
        y = export.run_ops(meta["ops"], weights, torch.tensor(p["x"]).reshape(p["shape"]))
        assert (y - torch.tensor(p["y"]).reshape(p["shape"])).abs().max() <= 1e-4, d
        assert meta["arch"]["gflop_640x360"] <= 5.0


def test_smoke_train_step():
    train_main(["--config", os.path.join(TRAINING, "configs", "paintings5.toml"), "--smoke"])


def test_configs_load():
    cdir = os.path.join(TRAINING, "configs")
    # tier_*.toml are distillation configs (brushcam_train.distill), checked below
    names = [f for f in os.listdir(cdir) if f.endswith(".toml") and not f.startswith("tier_")]
    assert len([n for n in names if "notemporal" not in n and n != "paintings5.toml"]) >= 5
    assert any("notemporal" in n for n in names)
    for n in names:
        cfg = load_config(os.path.join(cdir, n))
        assert cfg["id"] == n[:-5]
        assert cfg["loss"]["temporal"] == ("notemporal" not in n)
        for s in cfg["styles"]:
            assert os.path.exists(os.path.join(DATA, s["image"])), s["image"]


def test_warm_start_copies_the_network_and_one_styles_norm_rows(tmp_path):
    from brushcam_train.train_style import warm_start
    src = ReCoNetLite(num_styles=3)
    with torch.no_grad():
        for p in src.parameters():
            p.normal_()
    cfg_src = {"styles": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}
    path = str(tmp_path / "src.pt")
    torch.save({"config": cfg_src, "step": 7, "model": src.state_dict()}, path)
    dst = ReCoNetLite(num_styles=1)
    note = warm_start(dst, {"init_from": path, "init_style": "b"}, "cpu")
    assert "step 7" in note and "style b" in note
    s, d = src.state_dict(), dst.state_dict()
    for k in s:
        if s[k].dim() == 2 and ".norm" in k:
            assert torch.equal(d[k][0], s[k][1]), k     # style b's row
        else:
            assert torch.equal(d[k], s[k]), k
    import pytest
    with pytest.raises(ValueError, match="not a style"):
        warm_start(ReCoNetLite(num_styles=1), {"init_from": path, "init_style": "zzz"}, "cpu")
    with pytest.raises(FileNotFoundError):
        warm_start(ReCoNetLite(num_styles=1), {"init_from": str(tmp_path / "missing.pt")}, "cpu")


def test_distill_config_and_one_step(tmp_path):
    """The tier config names existing teachers' styles; one distillation step runs, checkpoints,
    and the student is the narrower network the config asks for."""
    from brushcam_train import distill
    cfg = distill.load_config(os.path.join(TRAINING, "configs", "tier_tiny.toml"))
    assert cfg["tier"] == "tiny" and cfg["arch"]["widths"] == [8, 16, 32]
    # Teachers are training runs outside the repo: a stand-in with the same style ids.
    ids = [sid for t in cfg["teachers"] for sid in t["styles"]]
    src = ReCoNetLite(num_styles=len(ids))
    path = str(tmp_path / "teacher.pt")
    torch.save({"config": {"styles": [{"id": i} for i in ids]}, "step": 3, "arch": src.arch,
                "num_styles": len(ids), "model": src.state_dict()}, path)
    cfg["teachers"] = [{"ckpt": path, "styles": ids}]
    cfg["data"].update(crop=64, batch=2, real_fraction=0.0)
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    student, step = distill.train(cfg, str(tmp_path / "run"))
    assert step == 1 and os.path.exists(tmp_path / "run" / "ckpt.pt")
    assert student.arch["widths"] == [8, 16, 32] and student.num_styles == len(ids)
    bad = dict(cfg, teachers=[{"ckpt": path, "styles": ["nope"]}])
    import pytest
    with pytest.raises(ValueError, match="no style 'nope'"):
        distill.load_teachers(bad)


def test_distill_at_the_outputs_scale(tmp_path):
    """tier_tiny_x2: teachers are the exported full models, the student starts as the shipped tiny
    tiers (same output as each style's export), and a step shrinks pairs and flow by the scale."""
    from brushcam_train import distill
    cfg = distill.load_config(os.path.join(TRAINING, "configs", "tier_tiny_x2.toml"))
    assert cfg["data"]["scale"] == 2 and cfg["init"] == "tiny"
    teachers = distill.load_teachers(cfg)
    ids = [e["id"] for e, *_ in teachers]
    assert len(ids) == len(set(ids)) == len(cfg["teachers"])
    student = distill.make_student(cfg, len(teachers)).eval()
    distill.init_from_tier(student, teachers, "tiny")
    x = export.parity_input()[..., :32, :48]
    for s, sid in enumerate(ids):
        meta, w = export.read_model(os.path.join(REPO, "models", "style", sid, "tiny"))
        want = export.run_ops(meta["ops"], w, x)
        with torch.no_grad():
            got = student(x, torch.tensor([s]))
        assert float((got - want).abs().max()) < 1e-4, sid
    # the flow shrinks with the picture: 2 px of motion at full size is 1 px at half size, and a
    # half-size pixel is valid only where its whole 2x2 block was
    flow = torch.zeros(1, 2, 8, 8)
    flow[:, 0] = 2.0
    mask = torch.ones(1, 1, 8, 8)
    mask[..., 5, 6] = 0
    f, m = distill.shrink_flow(flow, mask, 2)
    assert f.shape == (1, 2, 4, 4) and torch.allclose(f[:, 0], torch.ones(1, 4, 4)) and float(f[:, 1].abs().max()) == 0
    assert float(m.sum()) == 15 and float(m[0, 0, 2, 3]) == 0
    cfg["data"].update(crop=32, batch=2, real_fraction=0.0)
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    cfg["teachers"] = cfg["teachers"][:2]
    student, step = distill.train(cfg, str(tmp_path / "run"))
    assert step == 1 and os.path.exists(tmp_path / "run" / "ckpt.pt")
    with pytest.raises(FileNotFoundError, match="nope/model.json"):
        distill.load_teachers(dict(cfg, teachers=[{"model": str(tmp_path / "nope")}]))


def test_distill_from_artist_networks(tmp_path):
    """tier_artists_x2: the artist networks (another architecture) teach through the op-list
    interpreter, and every style's student starts as one exported tier that already paints."""
    from brushcam_train import distill
    cfg = distill.load_config(os.path.join(TRAINING, "configs", "tier_artists_x2.toml"))
    teachers = distill.load_teachers(cfg)
    x = export.parity_input()[..., :32, :48]
    for (entry, teacher, ts, _, _) in teachers:
        meta, w = export.read_model(os.path.join(REPO, "models", "style", entry["id"]))
        assert isinstance(teacher, distill.OpListNet) and meta["arch"]["name"] != "ReCoNet"
        with torch.no_grad():
            assert torch.equal(teacher(x, torch.tensor([ts])), export.run_ops(meta["ops"], w, x))
        with pytest.raises(ValueError, match="multiples of 16, got 30x48"):
            teacher(x[..., :30, :], None)
    student = distill.make_student(cfg, len(teachers)).eval()
    distill.init_from_tier(student, teachers, cfg["init"])
    meta, w = export.read_model(os.path.join(TRAINING, cfg["init"]))
    want = export.run_ops(meta["ops"], w, x)
    for s in range(len(teachers)):
        with torch.no_grad():
            assert float((student(x, torch.tensor([s])) - want).abs().max()) < 1e-4
    cfg["data"].update(crop=32, batch=2, real_fraction=0.0)
    cfg["train"].update(steps=1, log_every=1, ckpt_every=1)
    _, step = distill.train(cfg, str(tmp_path / "run"))
    assert step == 1


def test_distill_feature_term():
    """[loss] feat: zero for the teacher's own painting, grows with the difference, and the style
    tier configs that use it train with it (one step on a small crop)."""
    from brushcam_train import distill
    from brushcam_train.loss_net import SqueezeNetFeatures
    net = SqueezeNetFeatures()
    g = torch.Generator().manual_seed(0)
    t = torch.rand(1, 3, 64, 64, generator=g)
    near = (t + 0.02 * torch.randn(1, 3, 64, 64, generator=g)).clamp(0, 1)
    far = torch.rand(1, 3, 64, 64, generator=g)
    same, a, b = (float(distill.feature_match(net, y, t)) for y in (t, near, far))
    assert same < 1e-10 and 0 < a < b
    cfg = distill.load_config(os.path.join(TRAINING, "configs", "tier_monet_feat_x2.toml"))
    assert cfg["loss"]["feat"] > 0
    assert distill.load_config(os.path.join(TRAINING, "configs", "tier_monet_x2.toml"))["loss"]["feat"] == 0

import json
import os

import numpy as np
import torch

from brushcam_anime import train as T
from brushcam_anime.evaluate import kid
from brushcam_anime.export import export
from brushcam_anime.nets import TwinGAN
from brushcam_train.export import read_model, run_ops

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "configs_anime", "anime_v1.toml")


def test_smoke(capsys):
    T.main(["--config", CONFIG, "--smoke"])
    assert "smoke ok: 1 step" in capsys.readouterr().out


def test_resumes_and_losses_are_finite(tmp_path):
    cfg = T.load_config(CONFIG)
    cfg["data"]["batch"] = 2
    T.train(cfg, str(tmp_path), steps=1, limit=8)
    ck = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert ck["step"] == 1 and set(ck) >= {"G", "D", "opt_g", "opt_d", "config", "arch"}
    cfg["train"]["lr"] = cfg["train"]["lr_d"] = 5e-5   # a schedule change on resume takes effect
    _, step = T.train(cfg, str(tmp_path), steps=2, limit=8)
    assert step == 2
    ck = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert [g["lr"] for g in ck["opt_g"]["param_groups"] + ck["opt_d"]["param_groups"]] == [5e-5, 5e-5]
    log = (tmp_path / "train.log").read_text()
    nums = [float(v) for line in log.splitlines() if line.startswith("step") for v in line.split()[3::2][:-1]]
    assert nums and all(np.isfinite(nums))
    assert log.count("\nstep ") + log.startswith("step ") == 2


def test_lr_decay_is_linear_to_zero_and_reaches_the_optimisers(tmp_path):
    assert T.lr_factor(5, None) == 1.0
    assert [T.lr_factor(s, [10, 20]) for s in (0, 10, 15, 20, 30)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    try:
        T.lr_factor(0, [20, 10])
        raise AssertionError("a decay that ends before it starts must be refused")
    except ValueError as e:
        assert "end > start" in str(e)
    cfg = T.load_config(CONFIG)
    cfg["data"]["batch"] = 2
    cfg["train"]["lr_decay"] = [0, 4]
    T.train(cfg, str(tmp_path), steps=2, limit=8)   # the 2nd step (index 1) ran at 3/4 of the rates
    ck = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert [g["lr"] for g in ck["opt_g"]["param_groups"]] == [0.75 * cfg["train"]["lr"]]
    assert [g["lr"] for g in ck["opt_d"]["param_groups"]] == [0.75 * cfg["train"]["lr_d"]]


def test_eval_and_snapshot_every(tmp_path):
    cfg = T.load_config(CONFIG)
    cfg["data"]["batch"] = 2
    cfg["train"].update(eval_every=2, snapshot_every=2, log_every=1)
    T.train(cfg, str(tmp_path), steps=2, limit=8)
    assert (tmp_path / "ckpt_2.pt").exists() and not (tmp_path / "ckpt_1.pt").exists()
    evals = [l for l in (tmp_path / "train.log").read_text().splitlines() if l.startswith("eval step")]
    assert len(evals) == 1 and evals[0].startswith("eval step 2 ")
    m = json.loads(evals[0].split(" ", 3)[3])
    assert m["held_out"]["human"] > 1 and np.isfinite(m["kid_ratio"]) and m["cycle_l1"] > 0


def test_export_round_trip_and_parity(tmp_path):
    torch.manual_seed(2)
    G = TwinGAN()
    for p in G.parameters():
        p.data += 0.05 * torch.randn_like(p)
    cfg = T.load_config(CONFIG)
    torch.save({"config": cfg, "arch": G.arch, "step": 7, "G": G.state_dict()}, tmp_path / "ckpt.pt")
    folder = export(str(tmp_path / "ckpt.pt"), str(tmp_path / "models"), "anime", do_eval=False)
    meta, weights = read_model(folder)
    assert meta["format"] == "brushcam-paintnet" and meta["arch"]["gflop_per_face"] <= 3
    parity = json.load(open(os.path.join(folder, "parity.json")))
    x = torch.tensor(parity["x"]).reshape(parity["shape"])
    y = run_ops(meta["ops"], weights, x)
    assert float((y.flatten() - torch.tensor(parity["y"])).abs().max()) <= 1e-3
    assert os.path.exists(os.path.join(folder, "MODEL.md"))
    # only the weights the op list uses are exported
    assert set(weights) == {o[k] for o in meta["ops"] for k in ("weight", "bias") if o.get(k)}


def test_kid():
    rng = torch.Generator().manual_seed(0)
    a = torch.randn(200, 16, generator=rng, dtype=torch.float64)
    b = torch.randn(200, 16, generator=rng, dtype=torch.float64)
    c = torch.randn(200, 16, generator=rng, dtype=torch.float64) + 1.0
    assert abs(kid(a, b)) < 0.2 * kid(a, c)


def test_kid_ratio_spread_is_sampling_noise():
    from brushcam_anime.evaluate import kid_ratio_spread
    rng = torch.Generator().manual_seed(1)
    ref = torch.randn(100, 16, generator=rng, dtype=torch.float64)
    far = torch.randn(108, 16, generator=rng, dtype=torch.float64) + 1.0
    near = torch.randn(108, 16, generator=rng, dtype=torch.float64) + 0.5
    s = kid_ratio_spread(far, near, ref)
    ratio = kid(near, ref) / kid(far, ref)
    assert 0 < s < 0.25 * ratio
    assert kid_ratio_spread(far, far, ref) == 0   # identical outputs: every half gives 1
    assert kid_ratio_spread(far[:3], near[:3], ref) is None


def test_pack_round_trip_and_training_from_it(tmp_path):
    from brushcam_anime import pack
    from brushcam_anime.data import FaceSets
    out = tmp_path / "sets.npz"
    pack.main(["--config", CONFIG, "--out", str(out), "--limit", "8"])
    cfg = T.load_config(CONFIG)
    d = cfg["data"]
    ref = FaceSets(128, limit=8, holdout={"london": d["holdout_london"], "selfies": d["holdout_selfies"], "anime": d["holdout_anime"]})
    got = FaceSets(128, pack=str(out))
    assert got.counts() == ref.counts()
    for part in ("human_train", "human_held", "anime_train", "anime_held"):
        for (n1, a), (n2, b) in zip(getattr(ref, part), getattr(got, part)):
            assert n1 == n2 and a.shape == b.shape
            assert np.abs(a.astype(int) - b).mean() < 6      # JPEG 80: 2.8 on average
    cfg["data"]["batch"] = 2
    _, step = T.train(cfg, str(tmp_path / "run"), steps=1, pack=str(out))
    assert step == 1 and torch.load(tmp_path / "run" / "ckpt.pt", map_location="cpu")["G"]


def test_third_domain_from_a_two_domain_run_pack_and_export(tmp_path):
    """anime_v3's recipe on a few images: a lorelei-like folder, init_from a two-domain
    checkpoint, one step per target domain, resume, pack with the extra domain, export lorelei."""
    import cv2
    from brushcam_anime.data import FaceSets
    folder = tmp_path / "lorelei"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        cv2.imwrite(str(folder / f"l{i:02d}.png"), rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    v2 = T.load_config(os.path.join(HERE, "..", "configs_anime", "anime_v2.toml"))
    v2["data"]["batch"] = 2
    v2["train"].pop("eval_every", None)
    T.train(v2, str(tmp_path / "v2"), steps=1, limit=8)
    cfg = T.load_config(os.path.join(HERE, "..", "configs_anime", "anime_v3.toml"))
    cfg["data"].update(batch=2, extra={"lorelei": str(folder)}, holdout_extra=2, target_share={"anime": 0.5, "lorelei": 0.5})
    cfg["train"]["init_from"] = str(tmp_path / "v2" / "ckpt.pt")
    cfg["train"].pop("eval_every", None)
    T.train(cfg, str(tmp_path / "v3"), steps=5, limit=8)
    ck = torch.load(tmp_path / "v3" / "ckpt.pt", map_location="cpu")
    assert ck["step"] == 5 and ck["arch"]["domains"] == ["human", "anime", "lorelei"] and set(ck["D_more"]) == {"lorelei"}
    before = {k: v.clone() for k, v in ck["D_more"]["lorelei"].items()}
    _, step = T.train(cfg, str(tmp_path / "v3"), steps=12, limit=8)
    ck = torch.load(tmp_path / "v3" / "ckpt.pt", map_location="cpu")
    G = TwinGAN(ck["arch"])
    G.load_state_dict(ck["G"])
    assert step == 12 and any(not torch.equal(before[k], v) for k, v in ck["D_more"]["lorelei"].items()), "lorelei's D trained"
    # a slimmed checkpoint (gpu_anime.sh prepare: no optimiser states) resumes with fresh Adam
    torch.save({k: v for k, v in ck.items() if not k.startswith("opt_")}, tmp_path / "v3" / "ckpt.pt")
    _, step = T.train(cfg, str(tmp_path / "v3"), steps=13, limit=8)
    assert step == 13 and "opt_g" in torch.load(tmp_path / "v3" / "ckpt.pt", map_location="cpu")
    sets = FaceSets(128, limit=8, extra={"lorelei": str(folder)}, holdout={"london": 1, "selfies": 1, "anime": 1, "extra": 2})
    sets.save(str(tmp_path / "sets.npz"))
    got = FaceSets(128, pack=str(tmp_path / "sets.npz"))
    assert [len(x) for x in got.targets["lorelei"]] == [len(x) for x in sets.targets["lorelei"]] == [6, 2]
    out = export(str(tmp_path / "v3" / "ckpt.pt"), str(tmp_path / "models"), "lorelei", do_eval=False, target="lorelei")
    meta, weights = read_model(out)
    assert meta["target"] == "lorelei" and "CC0" in meta["data_licence"] and "research only" in meta["data_licence"]
    from brushcam_anime.nets import load_generator
    G = load_generator(torch.load(tmp_path / "v3" / "ckpt.pt", map_location="cpu"))   # what export writes
    assert meta["weights"] == "ema"
    parity = json.load(open(os.path.join(out, "parity.json")))
    x = torch.tensor(parity["x"]).reshape(parity["shape"])
    with torch.no_grad():
        assert float((run_ops(meta["ops"], weights, x) - G(x, 0, 2)).abs().max()) <= 1e-4


def test_generator_weight_average(tmp_path):
    from brushcam_anime.nets import load_generator
    cfg = T.load_config(CONFIG)
    cfg["data"]["batch"] = 2
    cfg["train"]["ema"] = 0.5
    T.train(cfg, str(tmp_path), steps=2, limit=8)
    ck = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    moved = [k for k, v in ck["G"].items() if v.is_floating_point() and not torch.equal(v, ck["G_ema"][k])]
    assert moved, "the average equals the last step"
    assert all(torch.equal(v, ck["G_ema"][k]) for k, v in load_generator(ck).state_dict().items())
    assert all(torch.equal(v, ck["G"][k]) for k, v in load_generator(ck, averaged=False).state_dict().items())
    # the update itself: e <- d * e + (1 - d) * g
    a, b = TwinGAN(ck["arch"]), TwinGAN(ck["arch"])
    b.load_state_dict(ck["G"])
    a0 = {k: v.clone() for k, v in a.state_dict().items()}
    T.ema_update(a, b, 0.25)
    k = moved[0]
    assert torch.allclose(a.state_dict()[k], 0.25 * a0[k] + 0.75 * ck["G"][k])
    # resuming keeps averaging from the stored average, not from the weights
    T.train(cfg, str(tmp_path), steps=3, limit=8)
    ck3 = torch.load(tmp_path / "ckpt.pt", map_location="cpu")
    assert ck3["step"] == 3
    assert torch.allclose(ck3["G_ema"][k], 0.5 * ck["G_ema"][k] + 0.5 * ck3["G"][k], atol=1e-6)

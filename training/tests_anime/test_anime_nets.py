import pytest
import torch

from brushcam_anime.nets import ANIME, DEFAULT_ARCH, HUMAN, TwinGAN, direction_state_dict, gflops, op_graph
from brushcam_train.export import parity_input, run_ops


def hand_count(widths, size=128, skips=(16, 32)):
    """2 x MACs of every 3x3 conv, written out level by level."""
    conv = lambda res, cin, cout: 2 * res * res * cout * cin * 9
    total = conv(size, 3, widths[0])
    for i in range(1, len(widths)):
        total += conv(size >> i, widths[i - 1], widths[i])                # encoder, stride 2
    for i in range(len(widths) - 1, 0, -1):
        res = size >> (i - 1)
        total += conv(res, widths[i], widths[i - 1])                      # generator conv after x2
        if res in skips:
            total += conv(res, widths[i - 1], widths[i - 1])              # second conv at skip levels
    return (total + conv(size, widths[0], 3)) / 1e9


def test_budget_and_flop_count():
    m = TwinGAN()
    assert abs(gflops(m) - hand_count(DEFAULT_ARCH["widths"])) < 1e-9
    assert gflops(m) <= 3.0
    assert 0.8 < gflops(m) < 1.0


def test_domains_switch_the_output_and_share_the_convs():
    torch.manual_seed(0)
    m = TwinGAN().eval()
    for k, v in m.state_dict().items():
        if ".norm." in k:
            v.add_(0.3 * torch.randn_like(v))
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        hh, aa, ha = m(x, HUMAN, HUMAN), m(x, ANIME, ANIME), m(x, HUMAN, ANIME)
    assert hh.shape == x.shape and 0 <= float(hh.min()) and float(hh.max()) <= 1
    assert (hh - ha).abs().max() > 1e-3 and (aa - ha).abs().max() > 1e-3
    convs = [k for k in m.state_dict() if ".conv." in k or k.startswith("out.")]
    norms = [k for k in m.state_dict() if ".norm." in k]
    assert all(m.state_dict()[k].shape[0] == 2 for k in norms)  # one affine row per domain
    assert convs


def test_no_skip_at_full_resolution():
    ops = op_graph(TwinGAN(), HUMAN, ANIME)
    saves = [o["name"] for o in ops if o["op"] == "save"]
    assert saves == ["skip2", "skip3"]  # encoder levels at 32^2 and 16^2 only, none at 128^2 or 64^2


def test_op_list_reproduces_pytorch_every_direction():
    torch.manual_seed(1)
    m = TwinGAN().eval()
    for p in m.parameters():
        p.data += 0.1 * torch.randn_like(p)
    x = parity_input()
    for src, dst in ((HUMAN, HUMAN), (ANIME, ANIME), (HUMAN, ANIME), (ANIME, HUMAN)):
        with torch.no_grad():
            y = m(x, src, dst)
        w = {k: v.numpy() for k, v in direction_state_dict(m, src, dst).items()}
        assert float((run_ops(op_graph(m, src, dst), w, x) - y).abs().max()) < 1e-5


def test_demodulated_generator_exports_as_plain_convs_every_direction():
    """gen_norm = "demod": no instance norm left in the generator's op list, the folded convs
    reproduce PyTorch in all four directions, and a batch mixing output domains equals each alone."""
    torch.manual_seed(2)
    m = TwinGAN({**DEFAULT_ARCH, "gen_norm": "demod"}).eval()
    for p in m.parameters():
        p.data += 0.1 * torch.randn_like(p)
    assert abs(gflops(m) - gflops(TwinGAN())) < 1e-12  # same convs, same cost
    x = parity_input()
    for src, dst in ((HUMAN, HUMAN), (ANIME, ANIME), (HUMAN, ANIME), (ANIME, HUMAN)):
        ops = op_graph(m, src, dst)
        latent = next(i for i, o in enumerate(ops) if o["op"] == "features")
        assert not any(o["op"] == "instance_norm" for o in ops[latent:])
        with torch.no_grad():
            y = m(x, src, dst)
        w = {k: v.numpy() for k, v in direction_state_dict(m, src, dst).items()}
        assert (run_ops(ops, w, x) - y).abs().max() < 1e-5
    xb = torch.rand(3, 3, 32, 32)
    d = torch.tensor([HUMAN, ANIME, HUMAN])
    with torch.no_grad():
        yb = m(xb, d, d)
        assert (yb[1] - m(xb[1:2], ANIME, ANIME)[0]).abs().max() < 1e-5
        assert (yb[2] - m(xb[2:3], HUMAN, HUMAN)[0]).abs().max() < 1e-5


def test_grow_domains_keeps_the_old_directions_and_starts_the_new_one_as_anime():
    from brushcam_anime.nets import grow_domains, per_domain_keys
    for gen_norm in ("instance", "demod"):
        torch.manual_seed(0)
        arch = {**DEFAULT_ARCH, "gen_norm": gen_norm}
        G = TwinGAN(arch)
        for p in G.parameters():
            p.data += 0.05 * torch.randn_like(p)
        state, arch3 = grow_domains(G.state_dict(), arch, ["human", "anime", "lorelei"])
        G3 = TwinGAN(arch3)
        G3.load_state_dict(state)
        assert arch3["domains"] == ["human", "anime", "lorelei"] and len(per_domain_keys(G3)) > 10
        x = torch.rand(2, 3, 64, 64)
        with torch.no_grad():
            assert torch.allclose(G3(x, HUMAN, ANIME), G(x, HUMAN, ANIME), atol=1e-6)
            assert torch.allclose(G3(x, HUMAN, HUMAN), G(x, HUMAN, HUMAN), atol=1e-6)
            assert torch.allclose(G3(x, HUMAN, 2), G(x, HUMAN, ANIME), atol=1e-6)
        with pytest.raises(ValueError):
            grow_domains(G.state_dict(), arch, ["anime", "human", "lorelei"])

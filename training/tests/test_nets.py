"""FLOP counter, network shapes and tfjs-relevant conventions."""
import torch
import torch.nn as nn

from brushcam_train.nets import ReCoNet, ReCoNetLite, ReCoNetRef, flops, CondInstanceNorm


def test_flops_hand_count_tiny_net():
    net = ReCoNet(widths=(2, 4, 8), res_blocks=1, separable=False)
    h, w = 8, 12
    P, Q, R = h * w, (h // 2) * (w // 2), (h // 4) * (w // 4)
    macs = (P * 2 * 3 * 81            # enc1 k9 3->2 at full res
            + Q * 4 * 2 * 9           # enc2 k3 s2 2->4
            + R * 8 * 4 * 9           # enc3 k3 s2 4->8
            + 2 * R * 8 * 8 * 9       # residual block, two k3 8->8
            + Q * 4 * 8 * 9           # dec1 (after x2 upsample) 8->4
            + P * 2 * 4 * 9           # dec2 4->2
            + P * 3 * 2 * 81)         # out k9 2->3
    assert flops(net, h, w) == 2 * macs


def test_flops_hand_count_separable():
    net = ReCoNet(widths=(2, 4, 8), res_blocks=1, separable=True)
    h, w = 8, 12
    P, Q, R = h * w, (h // 2) * (w // 2), (h // 4) * (w // 4)
    macs = (P * 2 * 3 * 81
            + Q * (2 * 9 + 2 * 4)     # enc2 depthwise k3 s2 + pointwise 2->4
            + R * 8 * 4 * 9
            + 2 * R * (8 * 9 + 8 * 8)
            + Q * (8 * 9 + 8 * 4)
            + P * (4 * 9 + 4 * 2)
            + P * (2 * 81 + 2 * 3))
    assert flops(net, h, w) == 2 * macs


def test_budget():
    lite, ref = flops(ReCoNetLite(), 360, 640), flops(ReCoNetRef(), 360, 640)
    print(f"Lite {lite / 1e9:.2f} GFLOP, Ref {ref / 1e9:.2f} GFLOP at 640x360")
    assert lite <= 5e9
    assert ref >= 100e9
    assert flops(ReCoNetLite(), 720, 1280) == 4 * lite


def test_shapes_features_and_range():
    for net in (ReCoNetLite(num_styles=3), ReCoNet((8, 16, 32), 2, False, num_styles=3)):
        x = torch.rand(2, 3, 36, 64)
        y, f = net(x, torch.tensor([0, 2]), return_features=True)
        assert y.shape == x.shape and f.shape[2:] == (9, 16)
        assert y.min() >= 0 and y.max() <= 1


def test_conditional_norm_separates_styles():
    net = ReCoNetLite(num_styles=2)
    for m in net.modules():
        if isinstance(m, CondInstanceNorm):
            nn.init.normal_(m.weight, 1, 0.3); nn.init.normal_(m.bias, 0, 0.3)
    x = torch.rand(1, 3, 32, 32)
    a, b = net(x, torch.tensor([0])), net(x, torch.tensor([1]))
    assert (a - b).abs().max() > 1e-3
    both = net(torch.cat([x, x]), torch.tensor([0, 1]))
    assert torch.allclose(both[0], a[0], atol=1e-6) and torch.allclose(both[1], b[0], atol=1e-6)


def test_padding_is_symmetric_k_over_2():
    for m in ReCoNetLite().modules():
        if isinstance(m, nn.Conv2d):
            assert m.padding == (m.kernel_size[0] // 2,) * 2 and m.padding_mode == "zeros"

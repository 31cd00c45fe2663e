"""Warping, synthetic motion and occlusion code against MPI-Sintel ground truth."""
import os

import cv2
import numpy as np
import pytest
import torch

from brushcam_train.loss_net import DATA
from brushcam_train.motion import warp, inside_mask, random_pair, dis_flow, fb_mask, downsample_flow

SINTEL = os.path.join(DATA, "flow/sintel")


def read_flo(path):
    """Middlebury .flo: b'PIEH', int32 w, int32 h, then h*w*2 float32 (u, v)."""
    with open(path, "rb") as f:
        assert f.read(4) == b"PIEH"
        w, h = np.frombuffer(f.read(8), np.int32)
        return np.frombuffer(f.read(), np.float32).reshape(h, w, 2)


def rgb(path):
    return torch.from_numpy(cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB).transpose(2, 0, 1).astype(np.float32) / 255)[None]


def sintel(level):
    d = os.path.join(SINTEL, level)
    flow = torch.from_numpy(read_flo(f"{d}/gt/frame_0002.flo").transpose(2, 0, 1).copy())[None]
    occ = cv2.imread(f"{d}/gt/occlusions/frame_0002.png", 0) > 0
    inv = cv2.imread(f"{d}/gt/invalid/frame_0002.png", 0) > 0
    return rgb(f"{d}/frame_0002.png"), rgb(f"{d}/frame_0003.png"), flow, occ, inv


def masked_l1(a, b, m):
    return float(((a - b).abs().mean(1)[0] * m).sum() / m.sum())


@pytest.mark.parametrize("level", ["easy", "medium"])
def test_warp_matches_sintel_gt(level):
    # Sintel's flow at frame_0002 maps its pixels x to x + flow(x) in frame_0003, i.e. it is the
    # backward flow of frame_0002 with respect to frame_0003 in this package's convention:
    # warp(frame_0003, flow) must reproduce frame_0002 on pixels that are not occluded.
    f2, f3, flow, occ, inv = sintel(level)
    valid = torch.from_numpy(~occ & ~inv).float()
    warped = masked_l1(warp(f3, flow), f2, valid)
    unwarped = masked_l1(f3, f2, valid)
    assert warped < 0.02 and warped < unwarped / 3, (warped, unwarped)
    # the flow direction matters: using it the wrong way round is much worse
    assert masked_l1(warp(f2, flow), f3, valid) > 2 * warped
    # occluded pixels are exactly where warping cannot work
    occm = torch.from_numpy(occ & ~inv).float()
    assert masked_l1(warp(f3, flow), f2, occm) > 2 * warped


@pytest.mark.parametrize("level", ["easy", "medium"])
def test_out_of_frame_mask_complements_gt(level):
    # Sintel's occlusion maps do not mark pixels that leave the frame; inside_mask() must, since
    # warping cannot reproduce them (zero padding outside the frame).
    f2, f3, flow, occ, inv = sintel(level)
    inside = inside_mask(flow)[0, 0]
    out = (inside == 0) & torch.from_numpy(~inv)
    good = (inside == 1) & torch.from_numpy(~occ & ~inv)
    if out.sum() > 50:
        assert masked_l1(warp(f3, flow), f2, out.float()) > 3 * masked_l1(warp(f3, flow), f2, good.float())


@pytest.mark.parametrize("level", ["easy", "medium"])
def test_dis_occlusion_check_agrees_with_gt(level):
    f2, f3, gt_flow, occ, inv = sintel(level)
    g = lambda t: cv2.cvtColor((t[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    g2, g3 = g(f2), g(f3)
    f23, f32 = dis_flow(g2, g3), dis_flow(g3, g2)
    ok = fb_mask(f23, f32) > 0
    epe = np.sqrt(((f23 - gt_flow[0].permute(1, 2, 0).numpy()) ** 2).sum(-1))
    good = ~occ & ~inv
    assert np.median(epe[good]) < 1.0
    # pixels the check rejects are far more often truly occluded than the pixels it keeps
    assert occ[~ok].mean() > 4 * occ[ok].mean()
    assert ok[good].mean() > 0.85


def test_synthetic_flow_is_exact():
    rng = np.random.default_rng(0)
    img = cv2.cvtColor(cv2.imread(os.path.join(DATA, "photos/cq100/astronaut.jpg")), cv2.COLOR_BGR2RGB)
    img = cv2.GaussianBlur(img, (0, 0), 2.0)  # so resampling (not aliasing) is all that differs
    for _ in range(5):
        f1, f2, flow, mask = (torch.from_numpy(a)[None] for a in random_pair(img, 160, rng, brightness=False))
        assert mask.mean() > 0.6 and flow.abs().max() > 1.0
        # mask is the in-frame test of the exact flow
        assert torch.equal(mask, inside_mask(flow))
        err = masked_l1(warp(f1, flow), f2, mask[0, 0])
        assert err < 0.008, err  # only bilinear resampling differences remain
        assert err < masked_l1(f1, f2, mask[0, 0]) / 10
        assert err < 0.5 * masked_l1(warp(f1, 1.1 * flow), f2, mask[0, 0])  # a 10% wrong flow is visibly worse


def test_warp_identity_and_shift():
    x = torch.rand(1, 3, 8, 10)
    assert torch.allclose(warp(x, torch.zeros(1, 2, 8, 10)), x, atol=1e-6)
    flow = torch.zeros(1, 2, 8, 10); flow[:, 0] = 1.0   # out(x) = in(x + 1)
    assert torch.allclose(warp(x, flow)[..., :-1], x[..., 1:], atol=1e-6)
    assert inside_mask(flow)[0, 0, :, -1].sum() == 0


def test_downsample_flow():
    flow = torch.full((1, 2, 16, 16), 8.0)
    mask = torch.ones(1, 1, 16, 16); mask[..., 0, 0] = 0
    f, m = downsample_flow(flow, mask, 4)
    assert f.shape == (1, 2, 4, 4) and torch.allclose(f, torch.full_like(f, 2.0))
    assert m[0, 0, 0, 0] == 0 and m.sum() == 15

"""brushcam_train.guided_offline: the forms the page may draw a small painting with."""
import torch
import torch.nn.functional as F

from brushcam_train.guided_offline import box, guided, luma


def test_on_a_flat_camera_fit_gives_the_window_means_and_strokes_the_painting_itself():
    torch.manual_seed(0)
    p = torch.rand(1, 3, 9, 16)
    small = torch.full((1, 1, 9, 16), 0.4)
    full = torch.full((1, 1, 36, 64), 0.4)
    up = lambda t: F.interpolate(t, size=(36, 64), mode="bilinear", align_corners=False)  # noqa: E731
    # a = 0 where the camera is flat: fit is b = the twice window-averaged painting
    assert torch.allclose(guided(p, small, full, 1, 1e-3, "fit"), up(box(box(p, 1), 1)).clamp(0, 1), atol=1e-5)
    assert torch.allclose(guided(p, small, full, 1, 1e-3, "strokes"), up(p), atol=1e-5)


def test_fit_follows_the_cameras_edge_with_the_paintings_colours():
    # camera: dark left half, bright right half; painting: red where dark, blue where bright
    full = torch.zeros(1, 1, 16, 64)
    full[..., 29:] = 1.0
    small = F.interpolate(full, size=(4, 16), mode="area")
    p = torch.cat([1 - small, torch.zeros_like(small), small], 1)
    out = guided(p, small, full, 1, 1e-4, "fit")
    red = out[0, 0, 8]
    assert (red[:-1] - red[1:]).abs().max() > 0.6  # most of the change in one full-size pixel
    assert red[2] > 0.9 and red[-3] < 0.1
    assert torch.allclose(luma(torch.ones(1, 3, 2, 2)), torch.ones(1, 1, 2, 2))

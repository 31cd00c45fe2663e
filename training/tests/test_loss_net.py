"""SqueezeNet loss network: weights load, features behave, a tiny Gatys optimisation works."""
import os

import torch

from brushcam_train.data import load_rgb, to_tensor
from brushcam_train.loss_net import DATA, SqueezeNetFeatures, gram, STYLE_LAYERS
from brushcam_train.losses import PerceptualLoss
import torch.nn.functional as F


def img(rel, size=128):
    return F.interpolate(to_tensor(load_rgb(os.path.join(DATA, rel)))[None], size=(size, size), mode="area")


def test_features_finite_and_shaped():
    net = SqueezeNetFeatures()
    assert sum(p.numel() for p in net.parameters()) == 722496
    f = net(torch.rand(1, 3, 128, 128), (1, 4, 7, 10, 12))
    assert f[1].shape[1] == 64 and f[4].shape[1] == 128 and f[7].shape[1] == 256 and f[12].shape[1] == 512
    assert all(torch.isfinite(v).all() and v.abs().sum() > 0 for v in f.values())


def test_gram_separates_painting_from_photo():
    net = SqueezeNetFeatures()
    star, wave = img("paintings/starry_night.jpg"), img("paintings/great_wave.jpg")
    photo1, photo2 = img("photos/cq100/adirondack_chairs.jpg"), img("photos/cq100/astronaut.jpg")
    layers = STYLE_LAYERS
    g = lambda x: [gram(v) for v in net(x, layers).values()]
    d = lambda a, b: sum(float(((x - y) ** 2).sum() / (y ** 2).sum()) for x, y in zip(g(a), g(b)))
    # a painting's Gram is closer to itself with a small crop shift than to a photo's
    star_shift = img("paintings/starry_night.jpg", 136)[..., 4:132, 4:132]
    assert d(star_shift, star) < 0.5 * d(photo1, star)
    assert d(photo1, star) > 0.1 and d(wave, star) > 0.1 and d(photo2, star) > 0.1


def test_tiny_gatys_reduces_style_loss():
    torch.manual_seed(0)
    x = img("photos/cq100/astronaut.jpg", 96)
    crit = PerceptualLoss([to_tensor(load_rgb(os.path.join(DATA, "paintings/starry_night.jpg"), max_side=192))])
    p = torch.logit(x.clamp(0.02, 0.98)).clone().requires_grad_(True)
    opt = torch.optim.Adam([p], 0.05)
    s0 = None
    for i in range(30):
        c, s = crit(torch.sigmoid(p), x, torch.zeros(1, dtype=torch.long))
        s0 = float(s) if s0 is None else s0
        opt.zero_grad(); (c + 10 * s).backward(); opt.step()
    assert float(s) < 0.5 * s0, (s0, float(s))

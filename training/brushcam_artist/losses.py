"""Losses of Sanakoyeu et al. 2018 plus ReCoNet's output-level temporal loss.

  transformed  L_T = |T(x) - T(G(E(x)))|^2 / (C H W)       T: fixed average pooling (k x k, stride 1)
  content      L_c = |E(x) - E(G(E(x)))|^2 / (C' H' W')     style-aware content loss in E's latent space
  adversarial  least-squares GAN on D's multi-scale score maps: D(y_j) -> 1 for collection works,
               D(G(E(x))) -> 0 and D(x) -> 0 for photos (the paper's extra negatives); G wants D(G(E(x))) -> 1
  total (G,E)  w_c L_c + w_t L_T + lambda L_adv + w_temp L_temporal
All means are per element, so "/ (C H W)" and "/ latent size" are the mean over the batch too.
The temporal term is brushcam_train.losses.temporal_output_loss (with the luminance term).
"""
import torch
import torch.nn.functional as F

from brushcam_train.losses import temporal_output_loss  # noqa: F401  (re-exported for train.py)


def transform(x, k):
    """T: fixed average pooling, kernel k, stride 1, no padding."""
    return F.avg_pool2d(x, k, stride=1)


def transformed_loss(x, y, k=8):
    tx, ty = transform(x, k), transform(y, k)
    return ((tx - ty) ** 2).sum() / tx.numel()


def style_aware_content_loss(z, z_y):
    return ((z - z_y) ** 2).sum() / z.numel()


def _ls(scores, target):
    return sum(((s - target) ** 2).mean() for s in scores) / len(scores)


def d_loss(D, real, fake, photo=None):
    """real: collection works, fake: G(E(x)) detached, photo: content photos (extra negatives)."""
    l = _ls(D(real), 1.0) + _ls(D(fake), 0.0)
    if photo is not None:
        l = l + _ls(D(photo), 0.0)
    return l


def g_adv_loss(D, fake):
    return _ls(D(fake), 1.0)


def d_accuracy(D, real, fake):
    """Share of score-map cells on the right side of 0.5 (real > 0.5, fake < 0.5)."""
    with torch.no_grad():
        r = torch.cat([s.flatten() for s in D(real)])
        f = torch.cat([s.flatten() for s in D(fake)])
        return float(((r > 0.5).float().sum() + (f < 0.5).float().sum()) / (r.numel() + f.numel()))

"""ReCoNet losses: perceptual (content + Gram style, SqueezeNet), total variation, and the
output-level (with luminance term) and feature-level temporal losses, both occlusion-masked.

Normalisation (so that weights are comparable across layers, styles and crop sizes):
  content  = |F(y) - F(x)|^2 / |F(x)|^2          at loss_net.CONTENT_LAYER
  style    = sum_l |G_l(y) - G_l(s)|^2 / |G_l(s)|^2 / len(layers)   (relative Gram error)
  tv       = mean |dy/dx| + mean |dy/dy|          (L1)
  temporal_output  = sum M * ((O2 - W(O1)) - Y(I2 - W(I1)))^2 / (3 sum M)       (ReCoNet eq. 5)
  temporal_feature = sum M_f * (F2 - W_f(F1))^2 / sum M_f * (F2)^2                (scale-free)
where W warps frame-1 quantities into frame 2 with the backward flow, Y is relative luminance
0.2126 R + 0.7152 G + 0.0722 B (broadcast to the 3 output channels), M the non-occlusion mask.
The feature loss is made relative (divided by the feature energy) so the encoder cannot lower it
by shrinking its output, which the next instance norm would undo anyway.
"""
import torch

from .loss_net import SqueezeNetFeatures, gram, CONTENT_LAYER, STYLE_LAYERS
from .motion import warp, downsample_flow

LUMA = (0.2126, 0.7152, 0.0722)


def luminance(rgb):
    w = rgb.new_tensor(LUMA).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


def total_variation(y):
    return (y[:, :, 1:, :] - y[:, :, :-1, :]).abs().mean() + (y[:, :, :, 1:] - y[:, :, :, :-1]).abs().mean()


def temporal_output_loss(o1, o2, i1, i2, flow, mask):
    d_out = o2 - warp(o1, flow)
    d_in = luminance(i2 - warp(i1, flow))
    return (mask * (d_out - d_in) ** 2).sum() / (3 * mask.sum() + 1e-8)


def temporal_feature_loss(f1, f2, flow, mask):
    factor = round(flow.shape[-1] / f2.shape[-1])
    flow_f, mask_f = downsample_flow(flow, mask, factor)
    d = mask_f * (f2 - warp(f1, flow_f)) ** 2
    return d.sum() / ((mask_f * f2 ** 2).sum() + 1e-8)


class PerceptualLoss(torch.nn.Module):
    """Content and style terms against a fixed set of style images (one Gram set per style)."""

    def __init__(self, style_images, content_layer=CONTENT_LAYER, style_layers=STYLE_LAYERS, loss_net=None):
        super().__init__()
        self.net = loss_net or SqueezeNetFeatures()
        self.content_layer, self.style_layers = content_layer, tuple(style_layers)
        self.layers = tuple(sorted(set(self.style_layers) | {content_layer}))
        with torch.no_grad():
            grams = [[gram(self.net(s[None], self.style_layers)[l])[0] for l in self.style_layers] for s in style_images]
        for j, l in enumerate(self.style_layers):
            self.register_buffer(f"gram{l}", torch.stack([g[j] for g in grams]))  # [S, C, C]

    def forward(self, y, x, style):
        """y: stylised [B,3,H,W], x: content input, style: [B] indices. Returns (content, style)."""
        fy = self.net(y, self.layers)
        with torch.no_grad():
            fx = self.net(x, (self.content_layer,))[self.content_layer]
        c = self.content_layer
        content = ((fy[c] - fx) ** 2).mean() / (fx ** 2).mean()
        s_loss = 0.0
        for l in self.style_layers:
            target = getattr(self, f"gram{l}")[style]
            err = ((gram(fy[l]) - target) ** 2).sum((1, 2)) / (target ** 2).sum((1, 2))
            s_loss = s_loss + err.mean()
        return content, s_loss / len(self.style_layers)

"""Encoder E, decoder G and discriminator D of Sanakoyeu et al. (ECCV 2018), "A Style-Aware Content
Loss for Real-time HD Style Transfer", scaled to Brushcam's 5 GFLOP per 640x360 frame budget.

  E  conv 3x3 s1 3->w0, IN, ReLU
     4x conv 3x3 s2 (w0->w1->w2->w3->w4), IN, ReLU      -> latent z at 1/16 resolution
  G  9 residual blocks at 1/16 (depthwise 3x3 + pointwise, IN; 2 per block, + skip)
     4x [nearest upsample x2, conv 3x3, IN, ReLU]        (depthwise-separable)
     depthwise 7x7 + pointwise 1x1 (+bias) -> sigmoid    (RGB in [0, 1])
  D  7 stride-2 convs (3x3, LeakyReLU 0.2, IN on layers 2-6), fully convolutional, with
     score heads (3x3 conv -> 1 channel) on layers 3, 5 and 7 (multi-scale patch scores).

The paper's widths (32, 32, 64, 128, 256 and 256-channel residual blocks, ~270 GFLOP at 640x360)
are scaled down: defaults widths=(16, 24, 48, 96, 128), separable e2 and residual/decoder convs.
Convention as brushcam_train.nets: zero padding k//2, no bias before a norm, instance norm eps 1e-5
biased variance affine, nearest upsampling, sigmoid out, input RGB [0, 1].

Spatial sizes: a 3x3/s2/pad-1 conv maps n -> ceil(n/2), so the output has the input's size only
when H and W are multiples of 16 (4 downsamplings). See README ("Artist styles") for what that
means for the runtime, whose internal size is only a multiple of 4.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from brushcam_train.nets import SepConv, make_conv, flops, EPS

INPUT_MULTIPLE = 16


def norm(c):
    return nn.InstanceNorm2d(c, eps=EPS, affine=True)


class ConvIN(nn.Module):
    """[upsample x2] -> conv -> IN -> ReLU."""
    def __init__(self, cin, cout, k=3, stride=1, separable=False, upsample=False):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if upsample else None
        self.conv = make_conv(cin, cout, k, stride, separable)
        self.norm = norm(cout)

    def forward(self, x):
        if self.up is not None:
            x = self.up(x)
        return F.relu(self.norm(self.conv(x)))


class ResBlock(nn.Module):
    def __init__(self, c, separable=True):
        super().__init__()
        self.conv1 = make_conv(c, c, 3, 1, separable)
        self.norm1 = norm(c)
        self.conv2 = make_conv(c, c, 3, 1, separable)
        self.norm2 = norm(c)

    def forward(self, x):
        return x + self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))


class Encoder(nn.Module):
    def __init__(self, widths, sep_down=(True, False, False, False)):
        super().__init__()
        w = widths
        self.c0 = ConvIN(3, w[0], 3)
        self.down = nn.ModuleList(ConvIN(w[i], w[i + 1], 3, stride=2, separable=sep_down[i]) for i in range(4))
        # The latent's scale is fixed (last IN: weight 1, bias 0, not trained): otherwise E could
        # shrink z to zero and make the style-aware content loss |E(x) - E(G(E(x)))|^2 vanish
        # without preserving anything (G's residual blocks normalise their input away).
        last = self.down[-1].norm
        last.weight.requires_grad_(False)
        last.bias.requires_grad_(False)

    def forward(self, x):
        x = self.c0(x)
        for m in self.down:
            x = m(x)
        return x


class Decoder(nn.Module):
    def __init__(self, widths, up_widths, res_blocks=9, out_k=7):
        super().__init__()
        c = widths[-1]
        self.res = nn.ModuleList(ResBlock(c) for _ in range(res_blocks))
        ups, cin = [], c
        for cout in up_widths:
            ups.append(ConvIN(cin, cout, 3, separable=True, upsample=True))
            cin = cout
        self.up = nn.ModuleList(ups)
        self.out = make_conv(cin, 3, out_k, separable=True, bias=True)

    def forward(self, z):
        for b in self.res:
            z = b(z)
        for m in self.up:
            z = m(z)
        return torch.sigmoid(self.out(z))


class ArtistNet(nn.Module):
    """E + G. forward(x) -> stylised image; encode/decode separately for the losses."""
    def __init__(self, widths=(16, 24, 48, 96, 128), up_widths=(96, 48, 24, 16), res_blocks=9, out_k=7,
                 sep_down=(True, False, False, False)):
        super().__init__()
        self.arch = dict(widths=list(widths), up_widths=list(up_widths), res_blocks=res_blocks, out_k=out_k,
                         sep_down=list(sep_down))
        # registration order == execution order (flops() relies on it)
        self.enc = Encoder(widths, sep_down)
        self.dec = Decoder(widths, up_widths, res_blocks, out_k)

    def forward(self, x, return_latent=False):
        z = self.enc(x)
        y = self.dec(z)
        return (y, z) if return_latent else y


def build(arch):
    return ArtistNet(tuple(arch["widths"]), tuple(arch["up_widths"]), arch["res_blocks"], arch["out_k"],
                     tuple(arch["sep_down"]))


class Discriminator(nn.Module):
    """7 stride-2 3x3 convs, LeakyReLU 0.2, instance norm on layers 2..6, score heads on 3, 5, 7."""
    def __init__(self, widths=(32, 64, 96, 128, 128, 192, 192), heads=(3, 5, 7)):
        super().__init__()
        layers, cin = [], 3
        for i, c in enumerate(widths, 1):
            layers.append(nn.ModuleDict({
                "conv": nn.Conv2d(cin, c, 3, 2, 1, bias=not (2 <= i <= 6)),
                "norm": norm(c) if 2 <= i <= 6 else nn.Identity()}))
            cin = c
        self.layers = nn.ModuleList(layers)
        self.heads = nn.ModuleDict({str(i): nn.Conv2d(widths[i - 1], 1, 3, 1, 1) for i in heads})

    def forward(self, x):
        """x RGB [0,1] -> list of score maps (one per head)."""
        x = x * 2 - 1
        out = []
        for i, l in enumerate(self.layers, 1):
            x = l["conv"](x)
            if x.shape[2] * x.shape[3] > 1:  # tiny crops: no norm over a single cell
                x = l["norm"](x)
            x = F.leaky_relu(x, 0.2)
            if str(i) in self.heads:
                out.append(self.heads[str(i)](x))
        return out


def gflops(model, h=360, w=640):
    return flops(model, h, w) / 1e9


def op_graph(model):
    """Forward pass as the PaintNet op list (same ops as brushcam_train.nets.op_graph)."""
    ops = []

    def conv(prefix, m):
        if isinstance(m, SepConv):
            conv(prefix + ".dw", m.dw); conv(prefix + ".pw", m.pw)
            return
        ops.append({"op": "depthwise_conv2d" if m.groups > 1 else "conv2d", "weight": prefix + ".weight",
                    "bias": prefix + ".bias" if m.bias is not None else None,
                    "kernel": m.kernel_size[0], "stride": m.stride[0], "pad": m.padding[0],
                    "in": m.in_channels, "out": m.out_channels})

    def nrm(prefix):
        ops.append({"op": "instance_norm", "weight": prefix + ".weight", "bias": prefix + ".bias", "eps": EPS})

    def block(prefix, m):
        if m.up is not None:
            ops.append({"op": "upsample_nearest", "scale": 2})
        conv(prefix + ".conv", m.conv); nrm(prefix + ".norm"); ops.append({"op": "relu"})

    block("enc.c0", model.enc.c0)
    for i, m in enumerate(model.enc.down):
        block(f"enc.down.{i}", m)
    ops.append({"op": "features", "note": "latent z = E(x), 1/16 resolution (style-aware content loss)"})
    for i, b in enumerate(model.dec.res):
        p = f"dec.res.{i}"
        ops.append({"op": "save", "name": "skip"})
        conv(p + ".conv1", b.conv1); nrm(p + ".norm1"); ops.append({"op": "relu"})
        conv(p + ".conv2", b.conv2); nrm(p + ".norm2")
        ops.append({"op": "add", "name": "skip"})
    for i, m in enumerate(model.dec.up):
        block(f"dec.up.{i}", m)
    conv("dec.out", model.dec.out)
    ops.append({"op": "sigmoid"})
    return ops


if __name__ == "__main__":
    m = ArtistNet()
    n = sum(p.numel() for p in m.parameters())
    print(f"ArtistNet: {n} params, E {gflops(m.enc):.2f} + G {gflops(m.dec, 23, 40):.2f} GFLOP; "
          f"total {gflops(m):.3f} GFLOP @640x360 (as 640x368 internally: {flops(m, 368, 640) / 1e9:.3f}), "
          f"{flops(m, 720, 1280) / 1e9:.2f} @1280x720")
    d = Discriminator()
    print(f"Discriminator: {sum(p.numel() for p in d.parameters())} params")

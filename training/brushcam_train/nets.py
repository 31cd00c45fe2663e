"""ReCoNet-family stylizers (Gao et al. 2018) and an analytic FLOP counter.

Both nets share one topology:
  encoder  conv k9 s1 -> conv k3 s2 -> conv k3 s2      (each: conv, instance norm, relu)
           R residual blocks at 1/4 resolution          (conv, IN, relu, conv, IN, + x)
  decoder  2x [nearest upsample x2, conv k3, IN, relu]
           conv k9 -> sigmoid                           (RGB in [0, 1])
`ReCoNetRef` is the paper's reference (48/96/192, full 3x3 convs). `ReCoNetLite` is the shipped
variant (16/32/64): its second encoder conv, residual convs and decoder convs are
depthwise-separable (depthwise k3 [stride 2 for enc2] -> pointwise 1x1) and its last layer is
depthwise k9 -> pointwise 1x1 (+bias). Only enc1 (k9, 3->16) and enc3 (k3 s2, 32->64)
stay full convs. That keeps it under 5 GFLOP at 640x360 without an internal down-scale.

tfjs-friendly conventions (the TypeScript side mirrors these exactly):
  * input RGB in [0, 1], NCHW here (NHWC in tfjs), H and W multiples of 4;
  * zero padding of k//2 on every side (PyTorch padding=k//2). For the stride-2 3x3 convs this is
    1 px on all four sides, NOT TensorFlow's 'same' (which pads 0 top/left, 1 bottom/right);
  * convs followed by instance norm have no bias (it would be cancelled by the norm);
  * instance norm: per sample and channel, mean and biased variance over H,W, eps 1e-5, then
    * weight + bias (affine);
  * upsampling: nearest neighbour x2 (out[i] = in[floor(i/2)]);
  * output: sigmoid.

Instance norms are conditional (Dumoulin et al. 2017): weight/bias have shape [num_styles, C] and
forward takes a style index per sample. All convs are shared between styles; an exported model
holds one style's rows, i.e. a plain instance norm with [C] parameters.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-5


class CondInstanceNorm(nn.Module):
    def __init__(self, channels, num_styles=1):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_styles, channels))
        self.bias = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x, style):
        mean = x.mean((2, 3), keepdim=True)
        var = x.var((2, 3), unbiased=False, keepdim=True)
        x = (x - mean) * torch.rsqrt(var + EPS)
        return x * self.weight[style][:, :, None, None] + self.bias[style][:, :, None, None]


class SepConv(nn.Module):
    """Depthwise kxk (no bias) then pointwise 1x1."""
    def __init__(self, cin, cout, k, bias, stride=1):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, k, stride=stride, padding=k // 2, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x):
        return self.pw(self.dw(x))


def make_conv(cin, cout, k, stride=1, separable=False, bias=False):
    if separable:
        return SepConv(cin, cout, k, bias, stride)
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=bias)


class ConvNormRelu(nn.Module):
    def __init__(self, cin, cout, k, stride=1, separable=False, upsample=False, num_styles=1):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest") if upsample else None
        self.conv = make_conv(cin, cout, k, stride, separable)
        self.norm = CondInstanceNorm(cout, num_styles)

    def forward(self, x, style):
        if self.up is not None:
            x = self.up(x)
        return F.relu(self.norm(self.conv(x), style))


class ResidualBlock(nn.Module):
    def __init__(self, c, separable, num_styles):
        super().__init__()
        self.conv1 = make_conv(c, c, 3, 1, separable)
        self.norm1 = CondInstanceNorm(c, num_styles)
        self.conv2 = make_conv(c, c, 3, 1, separable)
        self.norm2 = CondInstanceNorm(c, num_styles)

    def forward(self, x, style):
        y = F.relu(self.norm1(self.conv1(x), style))
        return x + self.norm2(self.conv2(y), style)


class ReCoNet(nn.Module):
    def __init__(self, widths=(48, 96, 192), res_blocks=4, separable=False, num_styles=1):
        super().__init__()
        a, b, c = widths
        self.arch = dict(widths=list(widths), res_blocks=res_blocks, separable=separable)
        self.num_styles = num_styles
        # Module registration order == execution order (flops() relies on it).
        self.enc1 = ConvNormRelu(3, a, 9, num_styles=num_styles)
        self.enc2 = ConvNormRelu(a, b, 3, stride=2, separable=separable, num_styles=num_styles)
        self.enc3 = ConvNormRelu(b, c, 3, stride=2, num_styles=num_styles)
        self.res = nn.ModuleList(ResidualBlock(c, separable, num_styles) for _ in range(res_blocks))
        self.dec1 = ConvNormRelu(c, b, 3, separable=separable, upsample=True, num_styles=num_styles)
        self.dec2 = ConvNormRelu(b, a, 3, separable=separable, upsample=True, num_styles=num_styles)
        self.out = make_conv(a, 3, 9, separable=separable, bias=True)

    def encode(self, x, style):
        x = self.enc3(self.enc2(self.enc1(x, style), style), style)
        for block in self.res:
            x = block(x, style)
        return x

    def decode(self, f, style):
        return torch.sigmoid(self.out(self.dec2(self.dec1(f, style), style)))

    def forward(self, x, style=None, return_features=False):
        """x: [B,3,H,W] RGB in [0,1]; style: LongTensor [B] of style indices (default 0).
        Returns the stylised image (and the encoder output for the feature temporal loss)."""
        if style is None:
            style = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        f = self.encode(x, style)
        y = self.decode(f, style)
        return (y, f) if return_features else y


def ReCoNetRef(num_styles=1):
    return ReCoNet((48, 96, 192), 4, separable=False, num_styles=num_styles)


def ReCoNetLite(num_styles=1):
    return ReCoNet((16, 32, 64), 4, separable=True, num_styles=num_styles)


def build(arch, num_styles=1):
    return ReCoNet(tuple(arch["widths"]), arch["res_blocks"], arch["separable"], num_styles)


def flops(model, h, w):
    """Analytic FLOPs (2 x multiply-adds of every conv, bias adds not counted) for one HxW frame.

    Walks modules in registration order (== execution order), tracking the spatial size through
    strided convs and x2 upsampling. Norms, activations, upsampling and the residual add are
    elementwise (~10 FLOP/element) and are reported separately by `elementwise_flops`."""
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Upsample):
            h, w = h * int(m.scale_factor), w * int(m.scale_factor)
        elif isinstance(m, nn.Conv2d):
            (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
            h, w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
            total += 2 * h * w * m.out_channels * (m.in_channels // m.groups) * kh * kw
    return total


if __name__ == "__main__":
    for name, net in (("ReCoNetRef", ReCoNetRef()), ("ReCoNetLite", ReCoNetLite())):
        n = sum(p.numel() for p in net.parameters())
        print(f"{name}: {n} params, "
              f"{flops(net, 360, 640) / 1e9:.2f} GFLOP @640x360, {flops(net, 720, 1280) / 1e9:.2f} GFLOP @1280x720")


def op_graph(model):
    """The forward pass as a flat list of ops on named weights: the contract the TypeScript
    implementation follows (written into model.json as "ops"). Weight names are state_dict keys.
    Tensors are NCHW here; conv weights are OIHW (depthwise: [C,1,k,k])."""
    ops = []

    def conv(prefix, m):
        if isinstance(m, SepConv):
            conv(prefix + ".dw", m.dw)
            conv(prefix + ".pw", m.pw)
            return
        op = {"op": "depthwise_conv2d" if m.groups > 1 else "conv2d", "weight": prefix + ".weight",
              "bias": prefix + ".bias" if m.bias is not None else None,
              "kernel": m.kernel_size[0], "stride": m.stride[0], "pad": m.padding[0],
              "in": m.in_channels, "out": m.out_channels}
        ops.append(op)

    def norm(prefix):
        ops.append({"op": "instance_norm", "weight": prefix + ".weight", "bias": prefix + ".bias", "eps": EPS})

    for name in ("enc1", "enc2", "enc3"):
        conv(name + ".conv", getattr(model, name).conv)
        norm(name + ".norm")
        ops.append({"op": "relu"})
    for i, _ in enumerate(model.res):
        p = f"res.{i}"
        ops.append({"op": "save", "name": "skip"})
        conv(p + ".conv1", model.res[i].conv1); norm(p + ".norm1"); ops.append({"op": "relu"})
        conv(p + ".conv2", model.res[i].conv2); norm(p + ".norm2")
        ops.append({"op": "add", "name": "skip"})
    ops.append({"op": "features", "note": "encoder output (used only by the training losses)"})
    for name in ("dec1", "dec2"):
        ops.append({"op": "upsample_nearest", "scale": 2})
        conv(name + ".conv", getattr(model, name).conv)
        norm(name + ".norm")
        ops.append({"op": "relu"})
    conv("out", model.out)
    ops.append({"op": "sigmoid"})
    return ops

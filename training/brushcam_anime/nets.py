"""Twin-GAN translator (after Jerry Li, 2018): an encoder symmetric to a PGGAN-style generator
(nearest x2 upsampling + 3x3 convs per resolution), UNet skip connections from encoder to
generator, and domain-specific normalisation parameters: the encoder's norms are chosen by the
input's domain, the generator's by the output's, so one network does human->human, anime->anime
and human->anime (and anime->human for the cycle).

Differences from the paper, for the extension's runtime and this machine:
- instance norm with per-domain affine (conditional instance norm) instead of batch norm: batches
  of 4 on a CPU give noisy batch statistics, and instance norm is an op the extension already runs;
- skips are added (not concatenated) and only at the coarse resolutions (`skips`), so the
  generator cannot copy the human's pixels straight through at full resolution;
- ReLU and a sigmoid output in [0,1]; every op is one of the PaintNet op list's (docs/paintnet-format.md).

`gen_norm = "demod"` (arch) replaces the generator's instance norms with StyleGAN2's weight
demodulation: each generator conv's input channels are scaled by the output domain's style vector
and every output channel's weights renormalised to unit norm, plus a per-domain bias. Normalising
the generator's activations is what lets a GAN push a blob into the picture to steer the
per-channel statistics ("droplet" artefacts, Karras et al. 2020); demodulation fixes the scale
from the weights instead. For one direction the style is a constant, so the exporter folds it
into plain conv weights: the op list gains nothing.
"""
import torch
import torch.nn as nn

from brushcam_train.nets import CondInstanceNorm, EPS, flops

HUMAN, ANIME = 0, 1
DOMAINS = ("human", "anime")

DEFAULT_ARCH = {"name": "TwinGAN", "size": 128, "widths": [16, 32, 64, 128, 192], "skips": [16, 32],
                "domains": list(DOMAINS)}


class Block(nn.Module):
    """conv 3x3 (stride s, no bias) -> domain norm -> ReLU."""

    def __init__(self, cin, cout, domains, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.norm = CondInstanceNorm(cout, domains)

    def forward(self, x, d):
        return torch.relu(self.norm(self.conv(x), d))


class DemodBlock(nn.Module):
    """conv 3x3 with per-domain modulation + demodulation (StyleGAN2), per-domain bias, ReLU."""

    def __init__(self, cin, cout, domains):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.style = nn.Parameter(torch.ones(domains, cin))
        self.bias = nn.Parameter(torch.zeros(domains, cout))

    def folded(self, d):
        """(weight, bias) of the plain conv this block is for domain d."""
        w = self.conv.weight * self.style[d][None, :, None, None]
        w = w * torch.rsqrt(w.pow(2).sum((1, 2, 3), keepdim=True) + 1e-8)
        return w, self.bias[d]

    def forward(self, x, d):
        if isinstance(d, int):
            d = torch.full((x.shape[0],), d, dtype=torch.long, device=x.device)
        out = None
        for k in d.unique().tolist():
            sel = d == k
            w, b = self.folded(k)
            y = torch.relu(nn.functional.conv2d(x[sel], w, b, padding=1))
            if out is None:
                out = y.new_empty((x.shape[0],) + y.shape[1:])
            out[sel] = y
        return out


class TwinGAN(nn.Module):
    def __init__(self, arch=None):
        super().__init__()
        self.arch = dict(arch or DEFAULT_ARCH)
        w, nd, size = self.arch["widths"], len(self.arch["domains"]), self.arch["size"]
        self.levels = len(w) - 1  # stride-2 steps
        gen = {"instance": Block, "demod": DemodBlock}[self.arch.get("gen_norm", "instance")]
        # Encoder: full-resolution stem, then one stride-2 block per level.
        self.enc = nn.ModuleList([Block(3, w[0], nd)] + [Block(w[i], w[i + 1], nd, stride=2) for i in range(self.levels)])
        # Generator, mirror image: per level, upsample, conv to the encoder's width there (+ skip),
        # and a second conv at the coarse levels (PGGAN: two convs per resolution).
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        self.dec2 = nn.ModuleDict()
        for i in range(self.levels, 0, -1):
            self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
            self.dec.append(gen(w[i], w[i - 1], nd))
            res = size >> (i - 1)
            if res in self.arch["skips"]:
                self.dec2[str(i - 1)] = gen(w[i - 1], w[i - 1], nd)
        self.out = nn.Conv2d(w[0], 3, 3, padding=1, bias=True)
        # registration order above is not execution order for flops(): see gflops()

    def encode(self, x, src):
        feats = []
        for b in self.enc:
            x = b(x, src)
            feats.append(x)
        return x, feats

    def decode(self, z, feats, dst):
        size = self.arch["size"]
        x = z
        for k, i in enumerate(range(self.levels, 0, -1)):
            x = self.dec[k](self.up[k](x), dst)
            res = size >> (i - 1)
            if res in self.arch["skips"]:
                x = x + feats[i - 1]
                x = self.dec2[str(i - 1)](x, dst)
        return torch.sigmoid(self.out(x))

    def forward(self, x, src, dst, return_latent=False):
        """x: [B,3,H,W] in [0,1]; src, dst: LongTensor [B] of domain indices (or ints)."""
        if isinstance(src, int):
            src = torch.full((x.shape[0],), src, dtype=torch.long, device=x.device)
        if isinstance(dst, int):
            dst = torch.full((x.shape[0],), dst, dtype=torch.long, device=x.device)
        z, feats = self.encode(x, src)
        y = self.decode(z, feats, dst)
        return (y, z) if return_latent else y


class PatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix): 4x4 convs, LeakyReLU, instance norm; one score per ~34 px patch at 128^2."""

    def __init__(self, width=32):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.InstanceNorm2d(2 * w, affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.InstanceNorm2d(4 * w, affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 4 * w, 3, 1, 1), nn.InstanceNorm2d(4 * w, affine=True), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * w, 1, 3, 1, 1),
        )

    def forward(self, x):
        return self.net(x * 2 - 1)


class MultiScaleDiscriminator(nn.Module):
    """PatchGANs on the image and on 2x-downsampled copies (pix2pixHD): the full-size one judges
    strokes and lines (~34 px patches), the coarser ones the layout of a face (eyes, hair mass).
    Returns the scores of every scale as one flat vector per image, so an LSGAN loss averages them."""

    def __init__(self, scales=2, width=32):
        super().__init__()
        self.scales = nn.ModuleList([PatchDiscriminator(width) for _ in range(scales)])

    def forward(self, x):
        out = []
        for k, d in enumerate(self.scales):
            if k:
                x = nn.functional.avg_pool2d(x, 2)
            out.append(d(x).flatten(1))
        return torch.cat(out, 1)


def discriminator(scales=1):
    """One PatchGAN (the v1-v3 runs' checkpoints) or a multi-scale one."""
    return PatchDiscriminator() if scales == 1 else MultiScaleDiscriminator(scales)


def execution_modules(model):
    """The generator's convs and upsamplings in execution order (for the FLOP count)."""
    seq = [b.conv for b in model.enc]
    size = model.arch["size"]
    for k, i in enumerate(range(model.levels, 0, -1)):
        seq += [model.up[k], model.dec[k].conv]
        if str(i - 1) in model.dec2:
            seq.append(model.dec2[str(i - 1)].conv)
    seq.append(model.out)
    return seq


def gflops(model, size=None):
    """Analytic GFLOP of one translation (2 x multiply-adds of every conv) at size^2."""
    size = size or model.arch["size"]
    return flops(nn.Sequential(*execution_modules(model)), size, size) / 1e9


def op_graph(model, src, dst):
    """The forward pass src->dst as a PaintNet op list; the norms are exported per
    (domain, side) under names `<module>.norm.weight` of the single-direction state dict."""
    ops = []

    def block(prefix, b):
        c = b.conv
        if isinstance(b, DemodBlock):  # folded for this direction: a plain conv with a bias
            ops.append({"op": "conv2d", "weight": f"{prefix}.conv.weight", "bias": f"{prefix}.bias", "kernel": 3,
                        "stride": 1, "pad": 1, "in": c.in_channels, "out": c.out_channels})
            ops.append({"op": "relu"})
            return
        ops.append({"op": "conv2d", "weight": f"{prefix}.conv.weight", "bias": None, "kernel": 3,
                    "stride": c.stride[0], "pad": 1, "in": c.in_channels, "out": c.out_channels})
        ops.append({"op": "instance_norm", "weight": f"{prefix}.norm.weight", "bias": f"{prefix}.norm.bias", "eps": EPS})
        ops.append({"op": "relu"})

    size = model.arch["size"]
    skip_levels = {i - 1 for i in range(model.levels, 0, -1) if (size >> (i - 1)) in model.arch["skips"]}
    for i, b in enumerate(model.enc):
        block(f"enc.{i}", b)
        if i in skip_levels:
            ops.append({"op": "save", "name": f"skip{i}"})
    ops.append({"op": "features", "note": "shared latent (encoder output)"})
    for k, i in enumerate(range(model.levels, 0, -1)):
        ops.append({"op": "upsample_nearest", "scale": 2})
        block(f"dec.{k}", model.dec[k])
        if i - 1 in skip_levels:
            ops.append({"op": "add", "name": f"skip{i - 1}"})
            block(f"dec2.{i - 1}", model.dec2[str(i - 1)])
    ops.append({"op": "conv2d", "weight": "out.weight", "bias": "out.bias", "kernel": 3, "stride": 1, "pad": 1,
                "in": model.out.in_channels, "out": 3})
    ops.append({"op": "sigmoid"})
    return ops


def direction_state_dict(model, src, dst):
    """Plain weights for one direction: encoder norms of domain `src`, generator norms of `dst`."""
    out = {}
    demod = {n for n, m in model.named_modules() if isinstance(m, DemodBlock)}
    for k, v in model.state_dict().items():
        owner = k.rsplit(".", 2)[0] if k.endswith(".conv.weight") else k.rsplit(".", 1)[0]
        if owner in demod:
            continue  # written below, folded for `dst`
        if k.endswith(".norm.weight") or k.endswith(".norm.bias"):
            v = v[src] if k.startswith("enc.") else v[dst]
        out[k] = v.detach().float().contiguous()
    for n in sorted(demod):
        w, b = model.get_submodule(n).folded(dst)
        out[f"{n}.conv.weight"] = w.detach().float().contiguous()
        out[f"{n}.bias"] = b.detach().float().contiguous()
    return out


def per_domain_keys(model):
    """State-dict keys whose first axis is the domain: norm affines and demodulation styles/biases."""
    demod = {n for n, m in model.named_modules() if isinstance(m, DemodBlock)}
    norms = {n for n, m in model.named_modules() if isinstance(m, CondInstanceNorm)}
    return [k for k in model.state_dict() if k.rsplit(".", 1)[0] in norms
            or (k.rsplit(".", 1)[0] in demod and k.rsplit(".", 1)[1] in ("style", "bias"))]


def grow_domains(state, arch, domains, copy_from="anime"):
    """A checkpoint's generator state for `arch` extended to `domains` (a superset, same order
    first): every new domain starts as a copy of `copy_from`'s norms and styles, so it begins
    where that domain's translation is and the shared weights are untouched."""
    old = list(arch["domains"])
    if domains[:len(old)] != old:
        raise ValueError(f"new domains {domains} must start with the old ones {old}")
    src = old.index(copy_from)
    model = TwinGAN(arch)
    keys = set(per_domain_keys(model))
    out = {}
    for k, v in state.items():
        if k in keys:
            v = torch.cat([v] + [v[src:src + 1].clone() for _ in domains[len(old):]])
        out[k] = v
    return out, {**arch, "domains": list(domains)}


def load_generator(ck, averaged=True):
    """The generator of a training checkpoint, in eval mode: its weight average ("G_ema") when
    the run kept one and `averaged`, else the last step's weights. `G.weights` says which."""
    G = TwinGAN(ck["arch"])
    G.weights = "ema" if averaged and "G_ema" in ck else "last step"
    G.load_state_dict(ck["G_ema"] if G.weights == "ema" else ck["G"])
    return G.eval()


if __name__ == "__main__":
    m = TwinGAN()
    n = sum(p.numel() for p in m.parameters())
    print(f"TwinGAN {m.arch}: {n} params, {gflops(m):.3f} GFLOP per face at {m.arch['size']}^2")

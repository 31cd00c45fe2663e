"""Differentiable augmentation for the discriminators (DiffAugment, Zhao et al. 2020): the same
random colour, translation and cutout applied to real and translated images before every
discriminator call, in the generator's step too, so the discriminator cannot memorise the
3,300 anime faces and the generator is not pushed towards augmented-looking pictures."""
import torch
import torch.nn.functional as F


def colour(x):
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1, device=x.device) - 0.5)                       # brightness
    m = x.mean(1, keepdim=True)
    x = (x - m) * (torch.rand(b, 1, 1, 1, device=x.device) * 2) + m                # saturation
    m = x.mean((1, 2, 3), keepdim=True)
    return (x - m) * (torch.rand(b, 1, 1, 1, device=x.device) + 0.5) + m           # contrast


def translation(x, ratio=0.125):
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy[None] + ty).clamp(-1, h) + 1
    gx = (gx[None] + tx).clamp(-1, w) + 1
    padded = F.pad(x, (1, 1, 1, 1))
    idx = (gy * (w + 2) + gx).view(b, 1, -1).expand(-1, x.shape[1], -1)
    return padded.flatten(2).gather(2, idx).view_as(x)


def cutout(x, ratio=0.5):
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device) - ch // 2
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device) - cw // 2
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    inside = ((gy[None] - oy).abs() <= ch // 2) & ((gx[None] - ox).abs() <= cw // 2)
    return x * (~inside).unsqueeze(1).to(x.dtype)


POLICY = {"colour": colour, "translation": translation, "cutout": cutout}


def diff_augment(x, policy):
    """x: [B,3,H,W]; policy: names from POLICY, applied in order (empty: x unchanged)."""
    for name in policy:
        if name not in POLICY:
            raise ValueError(f"unknown augmentation {name!r}: expected one of {sorted(POLICY)}")
        x = POLICY[name](x)
    return x

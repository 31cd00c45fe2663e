"""Translation quality on the held-out split: kernel inception distance (KID) on SqueezeNet
features between translated held-out humans and held-out anime faces, against the same distance
for the untranslated humans (target: outputs <= 0.5 x inputs); cycle reconstruction error; and
a contact sheet (inputs, anime, reconstruction)."""
import cv2
import numpy as np
import torch

from brushcam_train.loss_net import SqueezeNetFeatures

from .data import to_batch
from .nets import HUMAN

FIRE9 = 12


@torch.no_grad()
def features(net, images, batch=32):
    """Global-average-pooled fire9 features (512-d) of [N,3,H,W] images in [0,1], at 224^2."""
    out, dev = [], net.mean.device
    for i in range(0, len(images), batch):
        x = torch.nn.functional.interpolate(images[i:i + batch].to(dev), size=(224, 224), mode="bilinear", align_corners=False)
        out.append(net(x, [FIRE9])[FIRE9].mean((2, 3)).cpu())
    return torch.cat(out).double()


def kid(a, b):
    """Unbiased MMD^2 with the cubic polynomial kernel (Binkowski et al. 2018), x1000."""
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    m, n = len(a), len(b)
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    mmd = ((kaa.sum() - kaa.diagonal().sum()) / (m * (m - 1)) + (kbb.sum() - kbb.diagonal().sum()) / (n * (n - 1))
           - 2 * kab.mean())
    return float(mmd) * 1000


def kid_ratio_spread(f_in, f_out, f_ref, draws=100, seed=0):
    """Standard deviation of the KID ratio over random halves of the held-out sets (the same
    humans for inputs and outputs), as KID is usually reported over subsets: how much of a
    difference between two checkpoints is sampling noise."""
    rng = np.random.default_rng(seed)
    m, n = len(f_in) // 2, len(f_ref) // 2
    if m < 2 or n < 2:
        return None
    ratios = []
    for _ in range(draws):
        i, j = rng.choice(len(f_in), m, replace=False), rng.choice(len(f_ref), n, replace=False)
        k_in = kid(f_in[i], f_ref[j])
        if k_in > 0:
            ratios.append(kid(f_out[i], f_ref[j]) / k_in)
    return float(np.std(ratios)) if len(ratios) > 1 else None


@torch.no_grad()
def translate(G, x, src, dst, batch=32):
    dev = next(G.parameters()).device
    return torch.cat([G(x[i:i + batch].to(dev), src, dst).cpu() for i in range(0, len(x), batch)])


@torch.no_grad()
def metrics(G, sets, loss_net=None, target="anime"):
    """Held-out numbers of the human -> `target` direction (KID against that domain's held-out set)."""
    G.eval()
    net = loss_net or SqueezeNetFeatures()
    t = G.arch["domains"].index(target)
    humans = to_batch([im for _, im in sets.human_held])
    anime = to_batch([im for _, im in sets.targets[target][1]])
    fake = translate(G, humans, HUMAN, t)
    back = translate(G, fake, t, HUMAN)
    fa, fh, ff = features(net, anime), features(net, humans), features(net, fake)
    k_in, k_out = kid(fh, fa), kid(ff, fa)
    spread = kid_ratio_spread(fh, ff, fa)
    return {"kid_inputs_x1000": round(k_in, 3), "kid_outputs_x1000": round(k_out, 3),
            "kid_ratio": round(k_out / k_in, 3) if k_in > 0 else None,
            "kid_ratio_half_std": round(spread, 3) if spread is not None else None,
            "cycle_l1": round(float((back - humans).abs().mean()), 4),
            "rec_human_l1": round(float((translate(G, humans, HUMAN, HUMAN) - humans).abs().mean()), 4),
            f"rec_{target}_l1": round(float((translate(G, anime, t, t) - anime).abs().mean()), 4),
            "held_out": {"human": len(humans), target: len(anime)}}


@torch.no_grad()
def contact_sheet(G, sets, path, n=8, target="anime"):
    """Rows: held-out inputs (London first, then selfies), their translation, the cycle back to human."""
    G.eval()
    t = G.arch["domains"].index(target)
    picks = sets.human_held[:n // 2] + sets.human_held[-(n - n // 2):]
    x = to_batch([im for _, im in picks])
    y = G(x, HUMAN, t)
    z = G(y, t, HUMAN)
    rows = [torch.cat(list(t), 2) for t in (x, y, z)]
    img = (torch.cat(rows, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    cv2.imwrite(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))

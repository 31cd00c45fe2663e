import os
import re

import numpy as np
import torch

import eval_anime as E
from brushcam_anime.nets import TwinGAN

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def track(cx, cy, size=200.0):
    return [{"cx": float(x), "cy": float(y), "size": size, "roll": 0.0, "state": "tracking"} for x, y in zip(cx, cy)]


def test_jitter_measures_noise_around_a_still_head_and_ignores_motion():
    rng = np.random.default_rng(0)
    n = 300
    still = E.jitter(track(320 + rng.normal(0, 2, n), 180 + rng.normal(0, 2, n)), 30)
    assert still["still_frames"] > 0.8 * n
    assert 1.6 < still["centre_px"] < 2.1     # the 15-frame average removes a little of sigma = 2
    assert E.jitter(track(320 + rng.normal(0, 0.5, n), 180 + 0 * rng.normal(0, 1, n)), 30)["centre_px"] < 0.5
    # a head moving 5 px a frame is not still: nothing to measure
    moving = E.jitter(track(np.arange(n) * 5.0, np.full(n, 180.0)), 30)
    assert moving["still_frames"] == 0 and moving["centre_px"] is None
    # frames without a crop split the runs; runs shorter than the window are skipped
    gappy = track(np.full(n, 320.0), np.full(n, 180.0))
    for i in range(0, n, 10):
        gappy[i] = None
    assert E.jitter(gappy, 30)["still_frames"] == 0


def test_ellipse_is_the_compositors():
    src = open(os.path.join(REPO, "src/engine/avatar/compositor.ts")).read()
    consts = {k: float(re.search(rf"const {k} = ([\d.]+)", src).group(1)) for k in ("MASK_INNER", "MASK_RX", "MASK_RY")}
    assert consts == {"MASK_INNER": E.MASK_INNER, "MASK_RX": E.MASK_RX, "MASK_RY": E.MASK_RY}
    a = E.ellipse_alpha(128)
    assert a[64, 64] == 1 and a[0, 0] == 0 and a[64, 0] == 0 and 0 < a[64, 10] < 1


def test_stability_on_a_clip(tmp_path):
    torch.manual_seed(0)
    G = TwinGAN().eval()
    n = 4
    crops = track(np.linspace(250, 256, n), np.full(n, 260.0), 240.0)
    still = track(np.full(n, 256.0), np.full(n, 260.0), 240.0)
    tracks = {"frames": n, "clips": {"d3": {"fps": 30, "size": [512, 512], "faces": [1] * n, "smooth": still, "raw": crops}}}
    t = E.stability(G, 128, tracks, ["d3"], n, 128)["d3"]
    assert t["temporal_pairs"] == n - 1
    assert t["temporal"]["input"] > 0 and t["temporal"]["smoothed"] > 0
    # the same network on a crop that moves with the head's noise flickers more than on a still crop
    assert t["temporal"]["raw"] > t["temporal"]["smoothed"]
    # the extension's path (face lock, a translation every STRIDE-th frame, held in between) is measured too
    assert t["temporal"]["product"] > 0

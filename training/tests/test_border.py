"""Clean edges: every shipped style network (and tier), run as the extension runs it at 640 px on
held-out clip frames, draws no border rows or columns that stand out from the picture more than
its interior lines do from each other (brushcam_train.border_tune.border_score)."""
import os

import pytest
import torch

from brushcam_train import border_tune
from brushcam_train.export import read_model, run_ops
from brushcam_train.fidelity import internal_size

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.join(REPO, "models", "style")
# Largest border_score allowed (worst edge over the frames): 1.0, no edge line stands out more
# than the strongest interior line does (the border differs from the interior no more than the
# interior varies). The stripes scored 2.2-2.8 on these frames (monet, van_gogh before
# brushcam_train.border_tune), the tuned networks 1.02-1.73 (worst edge per clip).
LIMIT = 1.0
# Shipped networks known to draw an edge line over the limit, with their worst score on these
# frames: listed here (strict expected failures) until they are tuned below it; a network not on
# this list that draws one fails. Border-tuned: monet, van_gogh (better, not yet there).
KNOWN = {"monet": 1.73, "van_gogh": 1.44, "composition_vii": 1.78, "composition_vii/tiny": 2.92,
         "great_wave": 2.47, "great_wave/tiny": 1.93, "van_gogh/tiny": 1.65, "starry_night": 2.67, "starry_night/tiny": 2.51,
         "the_scream": 3.09, "the_scream/tiny": 1.87, "udnie": 1.56, "udnie/tiny": 1.73}


def shipped():
    out = []
    for d in sorted(os.listdir(ROOT)):
        if os.path.exists(os.path.join(ROOT, d, "model.json")):
            out.append(d)
            out += [f"{d}/{t}" for t in sorted(os.listdir(os.path.join(ROOT, d))) if os.path.exists(os.path.join(ROOT, d, t, "model.json"))]
    return out


def test_border_score_sees_stripes_and_not_a_clean_picture():
    torch.manual_seed(0)
    # A smooth picture with texture: no line stands out.
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 160), indexing="ij")
    clean = torch.stack([0.5 + 0.3 * torch.sin(6 * xx + 3 * yy), 0.4 + 0.2 * yy, 0.6 - 0.2 * xx])[None]
    clean = clean + 0.02 * torch.rand_like(clean)
    assert max(border_tune.border_score(clean, band=16).values()) < 1.0
    striped = clean.clone()
    striped[..., :, 0:12:2] += 0.25     # stripes along the left edge
    s = border_tune.border_score(striped, band=16)
    assert s["left"] > 2 and s["right"] < 1.0


@pytest.fixture(scope="module")
def frames():
    # Frames whose own edges are clean (d0 is letterboxed, src_s18 and movie-hello have a hard
    # edge near one side: real lines in the picture, not the network's).
    f = border_tune.clip_frames(("d12", "d9", "d3"), h=360, w=640)
    if not f:
        pytest.skip("no held-out clips in ../shared/data/video/people")
    for name, x in f:
        assert max(border_tune.border_score(x).values()) < 1.0, name
    return f


def cases():
    return [pytest.param(f, marks=pytest.mark.xfail(strict=True, reason=f"known border line, worst {KNOWN[f]}"))
            if f in KNOWN else f for f in shipped()]


@pytest.mark.parametrize("folder", cases())
def test_shipped_style_has_clean_edges(folder, frames):
    meta, weights = read_model(os.path.join(ROOT, folder))
    m = int(meta["arch"].get("input_multiple", 4))
    worst = {}
    for name, x in frames:
        # The runtime's internal size for a 640x360 frame (multiple of 16 networks: 640x368).
        w, h = internal_size(x.shape[-1], x.shape[-2], 640, m)
        if (w, h) != tuple(x.shape[-1:-3:-1]):
            x = torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        with torch.no_grad():
            s = border_tune.border_score(run_ops(meta["ops"], weights, x))
        worst[name] = max(s.items(), key=lambda kv: kv[1])
    bad = {n: (e, round(v, 2)) for n, (e, v) in worst.items() if v > LIMIT}
    assert not bad, f"{folder}: border lines stand out (edge, score > {LIMIT}): {bad}"

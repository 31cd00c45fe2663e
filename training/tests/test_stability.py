"""The runtime stability option's reference (brushcam_train.stability) and its TypeScript fixture."""
import json
import os

import torch

from brushcam_train.stability import Stabilizer, parity_case, write_parity, displacements

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "stability-parity.json")


def test_fixture_is_what_the_reference_writes_now(tmp_path):
    fresh = write_parity(str(tmp_path / "p.json"))
    with open(FIXTURE) as f:
        committed = json.load(f)
    assert committed == json.loads(json.dumps(fresh)), \
        "stability.py changed: rerun `python3 -m brushcam_train.stability --write-parity ../test/fixtures/stability-parity.json`"


def test_finds_the_motion_of_the_parity_case():
    from brushcam_train.stability import match, motion_image
    x0, _, x1, _ = parity_case()
    idx, cost = match(motion_image(x1), motion_image(x0))
    # The pattern moved by (2, 4) px at block 2: (-1, -2) small pixels, away from the changed patch.
    found = torch.tensor(displacements())[idx]
    inner = found[2:-2, 2:48]
    assert (inner == torch.tensor([-1, -2])).all(dim=-1).float().mean() > 0.9


def test_calms_noise_on_a_still_scene_and_lets_a_cut_through():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 1, 1, generator=g).expand(1, 3, 40, 60).clone()
    base = torch.rand(1, 3, 40, 60, generator=g) * 0.5 + 0.25
    st = Stabilizer()
    outs, raws = [], []
    for t in range(8):
        y = (base + 0.05 * torch.randn(1, 3, 40, 60, generator=g)).clamp(0, 1)
        raws.append(y)
        outs.append(st(x, y))
    change = lambda seq: float(torch.stack([(b - a).abs().mean() for a, b in zip(seq[3:-1], seq[4:])]).mean())  # noqa: E731
    assert change(outs) < 0.6 * change(raws)
    cut = 1 - x
    y = torch.rand(1, 3, 40, 60, generator=g)
    assert float((st(cut, y) - y).abs().mean()) < 1e-3

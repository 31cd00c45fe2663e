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


def test_sub_pixel_refinement_brings_the_motion_closer():
    from brushcam_train.stability import costs, motion_image, refine, block
    h, w = 80, 320                                                   # block 2
    assert block(h, w) == 2
    # Texture at a few pixels' scale (smooth patterns leave block matching an aperture problem),
    # moved by whole pixels that are half a block off the block grid.
    g = torch.Generator().manual_seed(1)
    big = torch.nn.functional.interpolate(torch.rand(1, 3, (h + 8) // 3, (w + 8) // 3, generator=g), size=(h + 8, w + 8),
                                          mode="bilinear", align_corners=False)
    for sy, sx in ((1, 3), (1, 1)):
        x0, x1 = big[:, :, 4:4 + h, 4:4 + w], big[:, :, 4 - sy:4 - sy + h, 4 - sx:4 - sx + w]
        c = costs(motion_image(x1), motion_image(x0))
        cost, idx = c.min(0)
        oy, ox = refine(c, idx, cost)
        d = torch.tensor(displacements(), dtype=torch.float32)[idx]
        want = -torch.tensor([sy, sx], dtype=torch.float32) / 2
        inner = (slice(4, -4), slice(4, -4))
        whole = float((d[inner] - want).abs().mean())
        refined = float((torch.stack([d[..., 0] + oy, d[..., 1] + ox], -1)[inner] - want).abs().mean())
        assert refined < 0.9 * whole, (sy, sx, whole, refined)      # measured 0.54 vs 0.66, 0.45 vs 0.61
    # And the parity fixture's frames exercise the refinement (offsets off the integer grid).
    x0, _, x1, _ = parity_case()
    c = costs(motion_image(x1), motion_image(x0))
    cost, idx = c.min(0)
    oy, ox = refine(c, idx, cost)
    assert float(((oy.abs() > 0.05) | (ox.abs() > 0.05)).float().mean()) > 0.3


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

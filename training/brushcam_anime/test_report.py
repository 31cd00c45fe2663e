"""The translator on the untouched test split, once per shipped model.

  /usr/bin/python3 -m brushcam_anime.test_report --ckpt /work/runs/anime/anime_v4/ckpt.pt [--json out.json]

The test split is the last faces of each set by name (a config's [data] test_london, test_selfies,
test_anime): training, packing and the validation evaluation never read them, so this is the
number a run was not tuned on. It prints the same figures as the validation evaluation (KID ratio
with its spread over random halves, cycle and reconstruction errors)."""
import argparse
import json

import torch

from brushcam_train.loss_net import SqueezeNetFeatures

from .data import FaceSets
from .evaluate import metrics
from .nets import load_generator


def test_sets(cfg):
    """The config's test split, shaped like FaceSets' held-out parts (humans, and anime as the target)."""
    sets = FaceSets.for_config(cfg["data"], cfg["arch"]["size"], load_test=True)
    sets.human_held = sets.test_human
    sets.targets = {"anime": ([], sets.test_anime)}
    return sets


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--json", help="also write the numbers here")
    a = ap.parse_args(argv)
    ck = torch.load(a.ckpt, map_location="cpu")
    G = load_generator(ck)
    sets = test_sets(ck["config"])
    m = metrics(G, sets, SqueezeNetFeatures())
    out = {"ckpt": a.ckpt, "step": ck["step"], "weights": G.weights, "split": "test", **m}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

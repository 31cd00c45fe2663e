"""Pack the translator's face sets (aligned 128^2 crops, train and held-out, as JPEG) into one
.npz, for a machine that has no ../shared/data (a lent GPU: see training/gpu_anime.sh).

  /usr/bin/python3 -m brushcam_anime.pack --config configs_anime/anime_v2.toml --out ../build/gpu/anime_sets.npz"""
import argparse
import os

from .data import FaceSets
from .train import load_config


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, help="only the first N of each folder (tests)")
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality (75 keeps three domains, a checkpoint and the repo under 64 MiB)")
    a = ap.parse_args(argv)
    cfg = load_config(a.config)
    sets = FaceSets.for_config(cfg["data"], cfg["arch"]["size"], limit=a.limit)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    sets.save(a.out, quality=a.quality)
    print(f"packed {sets.counts()} -> {a.out} ({os.path.getsize(a.out) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()

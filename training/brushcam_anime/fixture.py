"""Writes test/fixtures/anime-tiny/: a narrow Twin-GAN (seeded random weights, not trained) in
the exported format, so the extension's tfjs parity test covers the translator's op list before
any trained model exists.   /usr/bin/python3 -m brushcam_anime.fixture"""
import os

import torch

from .export import REPO, write_model
from .nets import ANIME, DEFAULT_ARCH, HUMAN, TwinGAN

FOLDER = os.path.join(REPO, "test/fixtures/anime-tiny")


def make(folder=FOLDER):
    torch.manual_seed(4)
    G = TwinGAN({**DEFAULT_ARCH, "widths": [4, 8, 8, 12, 12]})
    with torch.no_grad():
        for k, v in G.state_dict().items():
            v.add_(0.2 * torch.randn_like(v))  # norms away from the identity: every domain row matters
    return write_model(folder, "anime-tiny", G, HUMAN, ANIME, extra={"title": "test fixture (untrained)"})


if __name__ == "__main__":
    make()
    print(f"wrote {FOLDER}")

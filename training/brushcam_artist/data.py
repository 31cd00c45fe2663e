"""Collections of an artist's works (the style side) with a fixed held-out split, and crops of them."""

import cv2
import numpy as np
import torch

from brushcam_train.data import list_images, load_rgb

HOLDOUT_EVERY = 5  # every 5th work (sorted by file name) is held out: retrieval queries, D check


def split(files, every=HOLDOUT_EVERY):
    """(train, heldout): file i is held out when i % every == every - 1."""
    train = [f for i, f in enumerate(files) if i % every != every - 1]
    held = [f for i, f in enumerate(files) if i % every == every - 1]
    return train, held


def collection(folder, part="train"):
    tr, ho = split(list_images(folder))
    return {"train": tr, "heldout": ho, "all": tr + ho}[part]


class CollectionSampler:
    """Random crops of collection works: scale so the short side is crop*U(1, scale_max), random
    crop, random horizontal flip. Images are cached in memory (256x256 each)."""

    def __init__(self, folder, crop, batch, seed=0, scale_max=1.6, part="train"):
        self.files = collection(folder, part)
        assert self.files, f"no images in {folder}"
        self.images = [load_rgb(f) for f in self.files]
        self.crop, self.batch, self.scale_max = crop, batch, scale_max
        self.rng = np.random.default_rng(seed)

    def _one(self):
        img = self.images[self.rng.integers(len(self.images))]
        h, w = img.shape[:2]
        short = self.crop * self.rng.uniform(1.0, self.scale_max)
        f = short / min(h, w)
        img = cv2.resize(img, (max(self.crop, round(w * f)), max(self.crop, round(h * f))), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        h, w = img.shape[:2]
        y, x = self.rng.integers(0, h - self.crop + 1), self.rng.integers(0, w - self.crop + 1)
        img = img[y:y + self.crop, x:x + self.crop]
        if self.rng.random() < 0.5:
            img = img[:, ::-1]
        return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / 255.0

    def next(self):
        return torch.from_numpy(np.stack([self._one() for _ in range(self.batch)]))

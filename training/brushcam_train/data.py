"""Content images and training batches of frame pairs with known motion."""
import glob
import os
import numpy as np
import cv2
import torch

cv2.setNumThreads(1)  # background training must stay on one core

from .loss_net import DATA
from . import motion

CONTENT_SETS = ("photos/landscapes", "photos/cq100", "faces/london", "faces/selfies")
TRAIN_CLIPS = ("video/scenes/tree.avi", "video/scenes/motion.mov", "video/people/movie-hello.mp4")


def list_images(folder):
    root = os.path.join(DATA, folder)
    files = []
    for ext in ("jpg", "jpeg", "png"):
        files += glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True)
    return sorted(files)


def load_rgb(path, max_side=None):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    if max_side and max(bgr.shape[:2]) > max_side:
        f = max_side / max(bgr.shape[:2])
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * f), round(bgr.shape[0] * f)), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def to_tensor(rgb):
    return torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / 255.0)


class PairSampler:
    """Yields batches (frame1, frame2, flow, mask) as tensors [B,3|2|1,crop,crop].

    Still images: each content set is drawn with equal probability (faces and scenes balanced),
    then an image from it, then `motion.random_pair`. With probability `real_fraction` a pair
    comes instead from DIS flow on the allowed training clips (random crop of a cached pair)."""

    def __init__(self, crop, batch, seed=0, sets=CONTENT_SETS, real_fraction=0.0, real_pairs=60, holdout=8):
        self.crop, self.batch = crop, batch
        self.rng = np.random.default_rng(seed)
        self.sets = {s: list_images(s) for s in sets}
        # the first `holdout` images of cq100 and faces/london are kept for evaluation
        for s in ("photos/cq100", "faces/london"):
            if s in self.sets:
                self.sets[s] = self.sets[s][holdout:]
        self.sets = {k: v for k, v in self.sets.items() if v}
        self.real_fraction = real_fraction
        self.real = []
        if real_fraction > 0:
            for clip in TRAIN_CLIPS:
                path = os.path.join(DATA, clip)
                if os.path.exists(path):
                    self.real += motion.dis_flow_pairs(path, max_pairs=real_pairs, stride=2, max_side=480)

    def _still(self):
        names = sorted(self.sets)
        files = self.sets[names[self.rng.integers(len(names))]]
        img = load_rgb(files[self.rng.integers(len(files))], max_side=768)
        return motion.random_pair(img, self.crop, self.rng)

    def _real(self):
        f1, f2, flow, mask = self.real[self.rng.integers(len(self.real))]
        h, w = f1.shape[:2]
        c = min(self.crop, h, w)
        y, x = self.rng.integers(0, h - c + 1), self.rng.integers(0, w - c + 1)
        sl = (slice(y, y + c), slice(x, x + c))
        out = (f1[sl].transpose(2, 0, 1) / 255.0, f2[sl].transpose(2, 0, 1) / 255.0,
               flow[sl].transpose(2, 0, 1), mask[sl][None])
        out = [np.ascontiguousarray(a, dtype=np.float32) for a in out]
        if c != self.crop:  # clip smaller than the crop: resize everything (flow scales too)
            k = self.crop / c
            rs = lambda a, interp: cv2.resize(a.transpose(1, 2, 0), (self.crop, self.crop), interpolation=interp).reshape(self.crop, self.crop, -1).transpose(2, 0, 1)
            out = [rs(out[0], cv2.INTER_LINEAR), rs(out[1], cv2.INTER_LINEAR), rs(out[2], cv2.INTER_LINEAR) * k, (rs(out[3], cv2.INTER_NEAREST) > 0.5).astype(np.float32)]
        return out

    def next(self):
        items = [self._real() if self.real and self.rng.random() < self.real_fraction else self._still()
                 for _ in range(self.batch)]
        return [torch.from_numpy(np.stack([it[i] for it in items]).astype(np.float32)) for i in range(4)]

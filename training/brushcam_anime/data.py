"""Face sets for the translator: aligned human crops and anime portraits, a fixed held-out split,
and batches of synthetically moved human crop pairs (for the temporal loss)."""
import glob
import os

import cv2
import numpy as np
import torch

from brushcam_train.loss_net import DATA
from brushcam_train import motion

from .align import aligned_crop, crop_from_eyes, read_pupils

cv2.setNumThreads(1)


def _load(path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def london_faces(size, data=DATA):
    """(name, aligned crop) for every London image with a .tem file, aligned from its pupils."""
    out = []
    for tem in sorted(glob.glob(os.path.join(data, "faces/london/**/*.tem"), recursive=True)):
        jpg = tem[:-4] + ".jpg"
        if not os.path.exists(jpg):
            continue
        rgb = _load(jpg)
        eyes = read_pupils(tem, rgb.shape[0])
        out.append((os.path.relpath(jpg, data), aligned_crop(rgb, crop_from_eyes(*eyes), size)))
    return out


def folder_faces(folder, size, limit=None, data=DATA, test=0, load_test=False):
    """(name, image resized to size^2) for a folder of already framed portraits (selfies, anime).
    `test`: the last `test` files (sorted) are the test split: left out, or the only ones read when
    `load_test`."""
    files = sorted(glob.glob(os.path.join(data, folder, "*.jpg")) + glob.glob(os.path.join(data, folder, "*.png")))
    rest, test_files = split_test(files, test)
    files = test_files if load_test else rest
    if limit:
        files = files[:limit]
    return [(os.path.relpath(f, data), cv2.resize(_load(f), (size, size), interpolation=cv2.INTER_AREA)) for f in files]


def split(items, holdout):
    """First `holdout` (sorted by name) for evaluation, the rest for training."""
    return items[holdout:], items[:holdout]


def split_test(items, n):
    """Last `n` (sorted by name) as the untouched test split, the rest for training and validation.
    The test split is never loaded by training, packing or the validation evaluation: only by
    `brushcam_anime.test_report`, once per shipped model."""
    return (items[:-n], items[-n:]) if n else (items, [])


PACK_PARTS = ("human_train", "human_held", "anime_train", "anime_held")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def extra_faces(folder, size, limit=None):
    """(name, image) for a rendered target domain (a folder of aligned PNGs, relative to the repo
    root: e.g. build/avatars/lorelei from tools/avatars/render-lorelei.mjs)."""
    path = folder if os.path.isabs(folder) else os.path.join(REPO, folder)
    files = sorted(glob.glob(os.path.join(path, "*.png")))
    if not files:
        raise FileNotFoundError(f"{path}: no PNGs (render them first: node tools/avatars/render-lorelei.mjs)")
    if limit:
        files = files[:limit]
    return [(os.path.relpath(f, REPO), cv2.resize(_load(f), (size, size), interpolation=cv2.INTER_AREA)) for f in files]


class FaceSets:
    """Human (London aligned + selfies) and anime images as uint8 arrays, train and held-out.
    `pack`: read them from a file `save()` wrote instead of the data folder (a machine without
    ../shared, e.g. a lent GPU)."""

    def __init__(self, size=128, limit=None, holdout=None, data=DATA, pack=None, extra=None, test=None,
                 load_test=False):
        """`extra`: {domain: folder} of further target domains (held out: holdout["extra"], default 100),
        kept in self.targets[domain] = (train, held) beside "anime".
        `test`: {"london": n, "selfies": n, "anime": n}: the last n of each set (sorted by name) are
        the untouched test split. They are dropped before anything else unless `load_test`, which
        keeps only them (self.test_human, self.test_anime) and nothing for training."""
        self.test_human, self.test_anime = [], []
        if pack:
            self._load_pack(pack, size, limit)
            return
        holdout = holdout or {"london": 8, "selfies": 100, "anime": 100}
        test = test or {}
        london, london_test = split_test(london_faces(size, data), test.get("london", 0))
        selfies = folder_faces("faces/selfies", size, limit, data, test.get("selfies", 0), load_test)
        anime = folder_faces("anime/faces", size, limit, data, test.get("anime", 0), load_test)
        if load_test:
            self.test_human, self.test_anime = london_test + selfies, anime
            self.human_train = self.human_held = self.anime_train = self.anime_held = []
            self.targets, self.london_share, self.n_london_train = {"anime": ([], [])}, 0.0, 0
            return
        if limit:
            london = london[:limit]
            holdout = {k: min(v, max(1, limit // 4)) for k, v in holdout.items()}
        lt, lh = split(london, holdout["london"])
        st, sh = split(selfies, holdout["selfies"])
        at, ah = split(anime, holdout["anime"])
        self.human_train, self.human_held = lt + st, lh + sh
        self.anime_train, self.anime_held = at, ah
        self.targets = {"anime": (at, ah)}
        for name, folder in (extra or {}).items():
            self.targets[name] = split(extra_faces(folder, size, limit), holdout.get("extra", 100))
        # London faces are few beside 3300 selfies: draw them at this rate so ages, genders and
        # skin tones of the London set are not drowned out.
        self.london_share = 0.3
        self.n_london_train = len(lt)

    @classmethod
    def for_config(cls, d, size, limit=None, pack=None, load_test=False):
        """The sets a run's [data] table names, split as it says (training, evaluation and export
        must hold out the same faces). `load_test`: only the untouched test split (`test_*` keys)."""
        test = {k: int(d.get(f"test_{k}", 0)) for k in ("london", "selfies", "anime")}
        if load_test and not any(test.values()):
            raise ValueError("this config has no test split ([data] test_london / test_selfies / test_anime)")
        return cls(size, limit=limit, pack=pack, extra=None if load_test else d.get("extra"), test=test,
                   load_test=load_test,
                   holdout={"london": d["holdout_london"], "selfies": d["holdout_selfies"], "anime": d["holdout_anime"],
                            "extra": d.get("holdout_extra", 100)})

    def save(self, path, quality=80):
        """All four parts as JPEG in one .npz. Quality 80: a 128^2 face is ~4.5 KB (mean |error| 2.8/255),
        so the sets (~30 MiB), a checkpoint and the repo fit the device tool's 64 MiB."""
        arrays = {"london_share": np.array(self.london_share), "n_london_train": np.array(self.n_london_train)}
        parts = [(part, getattr(self, part)) for part in PACK_PARTS]
        parts += [(f"extra_{name}_{part}", items) for name, (train, held) in self.targets.items() if name != "anime"
                  for part, items in (("train", train), ("held", held))]
        for key, items in parts:
            blobs = [cv2.imencode(".jpg", cv2.cvtColor(im, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
                     for _, im in items]
            arrays[key + "_names"] = np.array([n for n, _ in items])
            arrays[key + "_offsets"] = np.cumsum([0] + [len(b) for b in blobs])
            arrays[key + "_jpeg"] = np.frombuffer(b"".join(blobs), np.uint8)
        np.savez(path, **arrays)

    def _load_pack(self, path, size, limit):
        z = np.load(path)
        extra = sorted({k[len("extra_"):].rsplit("_", 2)[0] for k in z.files if k.startswith("extra_")})
        parts = list(PACK_PARTS) + [f"extra_{n}_{p}" for n in extra for p in ("train", "held")]
        for part in parts:
            names, off, buf = z[part + "_names"], z[part + "_offsets"], z[part + "_jpeg"]
            n = len(names) if not limit else min(len(names), limit)
            items = []
            for i in range(n):
                im = cv2.cvtColor(cv2.imdecode(buf[off[i]:off[i + 1]], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
                if im.shape[0] != size:
                    raise ValueError(f"{path}: packed at {im.shape[0]}px, the config wants {size}")
                items.append((str(names[i]), im))
            setattr(self, part, items)
        self.london_share = float(z["london_share"])
        self.n_london_train = min(int(z["n_london_train"]), len(self.human_train))
        self.targets = {"anime": (self.anime_train, self.anime_held)}
        for n in extra:
            self.targets[n] = (getattr(self, f"extra_{n}_train"), getattr(self, f"extra_{n}_held"))

    def counts(self):
        c = {"human_train": len(self.human_train), "human_held": len(self.human_held),
             "anime_train": len(self.anime_train), "anime_held": len(self.anime_held),
             "london_train": self.n_london_train}
        for name, (train, held) in self.targets.items():
            if name != "anime":
                c[f"{name}_train"], c[f"{name}_held"] = len(train), len(held)
        return c


def to_batch(images):
    return torch.from_numpy(np.stack([im.transpose(2, 0, 1) for im in images]).astype(np.float32) / 255.0)


class Sampler:
    """Batches: human pairs (frame1, frame2, flow, mask) moved like a head in front of a camera,
    and anime images (random horizontal flip)."""

    def __init__(self, sets, batch, seed=0, motion_strength=0.5):
        self.sets, self.batch = sets, batch
        self.rng = np.random.default_rng(seed)
        self.strength = motion_strength

    def _human(self):
        s = self.sets
        if s.n_london_train and self.rng.random() < s.london_share:
            return s.human_train[self.rng.integers(s.n_london_train)][1]
        return s.human_train[self.rng.integers(len(s.human_train))][1]

    def next(self, target="anime"):
        """A batch whose last item holds images of the target domain `target`."""
        size = self.sets.human_train[0][1].shape[0]
        pairs = [motion.random_pair(self._human(), size, self.rng, scale_range=(1.0, 1.12),
                                    strength=self.strength, elastic=0.5) for _ in range(self.batch)]
        f1, f2, flow, mask = (torch.from_numpy(np.stack(x)) for x in zip(*pairs))
        anime = []
        pool = self.sets.targets[target][0]
        for _ in range(self.batch):
            im = pool[self.rng.integers(len(pool))][1]
            anime.append(im[:, ::-1] if self.rng.random() < 0.5 else im)
        return f1, f2, flow, mask, to_batch(anime)

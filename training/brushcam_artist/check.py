"""Discriminator-style check of an artist model (in the spirit of the paper's deception rate).

A small classifier (logistic regression on the `stats` SqueezeNet features of brushcam_artist.group)
learns "work of this artist" (training-split works) vs "photo" (240 training photos: landscapes,
cq100 and faces beyond the held-out ones). It is then applied to images nobody trained on:
  held-out works of the artist (should score "work"),
  held-out photos (first 8 of photos/cq100 and faces/london, 8 frames of video/people/d0.mp4),
  the same photos stylised by the model.
Reported: accuracy on held-out works, and the share of photos called "work" before and after
stylisation (the deception rate; higher = stylised photos pass as the artist's works more often).
"""
import os

import cv2
import numpy as np
import torch

from brushcam_train.data import list_images, load_rgb
from brushcam_train.evaluate import stylize
from brushcam_train.loss_net import DATA, SqueezeNetFeatures
from .data import collection
from .group import image_features, ARTISTS

D0 = "video/people/d0.mp4"


def heldout_photos(n_frames=8):
    ims = [load_rgb(f, max_side=256) for f in list_images("photos/cq100")[:8] + list_images("faces/london")[:8]]
    cap = cv2.VideoCapture(os.path.join(DATA, D0))
    frames = []
    i = 0
    while len(frames) < n_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % 15 == 0:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            f = 256 / max(rgb.shape[:2])
            frames.append(cv2.resize(rgb, (round(rgb.shape[1] * f), round(rgb.shape[0] * f)), interpolation=cv2.INTER_AREA))
        i += 1
    return ims + frames


def training_photos(n=240, seed=0):
    rng = np.random.default_rng(seed)
    pool = (list_images("photos/landscapes") + list_images("photos/cq100")[8:] + list_images("faces/london")[8:])
    return [pool[i] for i in rng.choice(len(pool), n, replace=False)]


def fit_logreg(X, y, l2=1e-2, iters=300):
    X = torch.as_tensor(X, dtype=torch.float64)
    y = torch.as_tensor(y, dtype=torch.float64)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y) + l2 * (w ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return w.detach().numpy(), float(b)


class ArtistClassifier:
    def __init__(self, artist, net=None):
        self.net = net or SqueezeNetFeatures()
        works = collection(ARTISTS[artist], "train")
        photos = training_photos()
        feats = lambda files: np.stack([image_features(self.net, load_rgb(f, max_side=256)) for f in files])
        Xw, Xp = feats(works), feats(photos)
        X = np.concatenate([Xw, Xp])
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-8
        self.w, self.b = fit_logreg((X - self.mu) / self.sd, np.r_[np.ones(len(Xw)), np.zeros(len(Xp))])
        self.train_acc = float(np.mean(np.r_[self.predict_f(Xw) > 0.5, self.predict_f(Xp) < 0.5]))

    def predict_f(self, X):
        return 1 / (1 + np.exp(-(((X - self.mu) / self.sd) @ self.w + self.b)))

    def work_share(self, images):
        """Share of HxWx3 uint8 images classified as a work of the artist."""
        X = np.stack([image_features(self.net, im) for im in images])
        return float(np.mean(self.predict_f(X) > 0.5))


def deception(model, artist, clf=None, photos=None):
    clf = clf or ArtistClassifier(artist)
    photos = photos if photos is not None else heldout_photos()
    held = [load_rgb(f, max_side=256) for f in collection(ARTISTS[artist], "heldout")]
    styl = [stylize(model, p) for p in photos]
    return {"classifier_train_accuracy": round(clf.train_acc, 3),
            "heldout_works_called_work": round(clf.work_share(held), 3),
            "photos_called_work": round(clf.work_share(photos), 3),
            "stylised_photos_called_work": round(clf.work_share(styl), 3),
            "n_heldout_works": len(held), "n_photos": len(photos)}


class OpListModel(torch.nn.Module):
    """An exported models/style/<id>/ folder run by the reference op-list interpreter."""
    def __init__(self, folder):
        super().__init__()
        from brushcam_train.export import read_model
        self.meta, self.weights = read_model(folder)

    def forward(self, x):
        from brushcam_train.export import run_ops
        return run_ops(self.meta["ops"], self.weights, x)


def main(argv=None):
    """python3 -m brushcam_artist.check --artist van_gogh --model ../models/style/starry_night [...]"""
    import argparse
    import json
    from .export import Pad16
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--artist", required=True, choices=sorted(ARTISTS))
    ap.add_argument("--model", action="append", required=True, help="exported model folder(s)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    clf, photos = ArtistClassifier(a.artist), heldout_photos()
    for folder in a.model:
        m = OpListModel(folder)
        if m.meta["arch"].get("input_multiple", 4) > 4:
            m = Pad16(m)
        print(json.dumps({"artist": a.artist, "model": os.path.basename(os.path.normpath(folder)),
                          **deception(m, a.artist, clf, photos)}), flush=True)


if __name__ == "__main__":
    main()

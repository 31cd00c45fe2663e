"""Style grouping: find works related to a painting y0 by nearest neighbours on loss-network
statistics (Sanakoyeu et al. 2018 group a collection around a query painting; we use it to check
that the collections are coherent styles and to show which works y0 is closest to).

  /usr/bin/python3 -m brushcam_artist.group [--query paintings/starry_night.jpg] [-k 10]
      [--features stats|gram] [--out brushcam_artist/RETRIEVAL.md]

Features of an image (RGB, long side 256 px) from SqueezeNet 1.1 (brushcam_train.loss_net):
  stats  per-channel mean and standard deviation at relu1, fire3, fire5, fire7 (1664 values)
  gram   upper triangle of the Gram matrices at relu1 and fire3 (10336 values)
each layer's block is L2-normalised, then every dimension is standardised with the gallery's mean
and std, and neighbours are ranked by cosine similarity.

Evaluation: collections/monet and collections/van-gogh split by brushcam_artist.data.split (every
5th work held out, the same works training never sees). Each held-out work queries the gallery of
training-split works of both artists; precision@k = share of its k nearest neighbours by the same
artist, averaged over queries (per artist and overall). Chance = the artist's share of the gallery.
"""
import argparse
import sys
import os

import numpy as np
import torch

from brushcam_train.data import load_rgb, to_tensor
from brushcam_train.loss_net import DATA, SqueezeNetFeatures
from .data import collection

ARTISTS = {"monet": "collections/monet", "van_gogh": "collections/van-gogh"}
STATS_LAYERS = (1, 4, 7, 10)
GRAM_LAYERS = (1, 4)


def image_features(net, rgb, kind="stats"):
    """rgb HxWx3 uint8 -> 1-D feature vector (float64, each layer block L2-normalised)."""
    x = to_tensor(rgb)[None]
    layers = STATS_LAYERS if kind == "stats" else GRAM_LAYERS
    with torch.no_grad():
        f = net(x, layers)
    blocks = []
    for l in layers:
        a = f[l][0].flatten(1).double()                      # [C, HW]
        if kind == "stats":
            v = torch.cat([a.mean(1), a.std(1)])
        else:
            g = a @ a.T / a.shape[1]
            iu = torch.triu_indices(g.shape[0], g.shape[0])
            v = g[iu[0], iu[1]]
        blocks.append(v / (v.norm() + 1e-12))
    return torch.cat(blocks).numpy()


def load_256(path):
    return load_rgb(path, max_side=256)


def features_of(files, kind="stats", net=None):
    net = net or SqueezeNetFeatures()
    return np.stack([image_features(net, load_256(f), kind) for f in files])


def standardise(gallery, *others):
    mu, sd = gallery.mean(0), gallery.std(0) + 1e-8
    return [(a - mu) / sd for a in (gallery,) + others]


def cosine_rank(q, g):
    """q [Nq,D], g [Ng,D] -> (indices sorted by decreasing cosine similarity, similarities)."""
    qn = q / (np.linalg.norm(q, axis=1, keepdims=True) + 1e-12)
    gn = g / (np.linalg.norm(g, axis=1, keepdims=True) + 1e-12)
    sim = qn @ gn.T
    return np.argsort(-sim, axis=1, kind="stable"), sim


def precision_at_k(order, query_labels, gallery_labels, k):
    """Mean over queries of the share of the top-k gallery items whose label equals the query's.
    order: [Nq, Ng] gallery indices by rank; labels: sequences. Returns (mean, per-query array)."""
    gl = np.asarray(gallery_labels)
    top = gl[np.asarray(order)[:, :k]]
    per = (top == np.asarray(query_labels)[:, None]).mean(1)
    return float(per.mean()), per


def evaluate(kind="stats", ks=(1, 5, 10), net=None):
    net = net or SqueezeNetFeatures()
    g_files, g_lab, q_files, q_lab = [], [], [], []
    for a, folder in ARTISTS.items():
        tr, ho = collection(folder, "train"), collection(folder, "heldout")
        g_files += tr; g_lab += [a] * len(tr); q_files += ho; q_lab += [a] * len(ho)
    G = features_of(g_files, kind, net)
    Q = features_of(q_files, kind, net)
    G, Q = standardise(G, Q)
    order, _ = cosine_rank(Q, G)
    res = {"gallery": {a: g_lab.count(a) for a in ARTISTS}, "queries": {a: q_lab.count(a) for a in ARTISTS}, "p": {}}
    ql = np.asarray(q_lab)
    for k in ks:
        mean, per = precision_at_k(order, q_lab, g_lab, k)
        res["p"][k] = {"all": mean, **{a: float(per[ql == a].mean()) for a in ARTISTS}}
    return res, (g_files, g_lab, G)


def query(path, gallery, kind="stats", k=10, net=None):
    g_files, g_lab, G_std = gallery
    net = net or SqueezeNetFeatures()
    return _query_vec(image_features(net, load_256(path), kind), gallery, kind, k)


def _query_vec(v, gallery, kind, k):
    g_files, g_lab, G_raw = gallery
    G, q = standardise(G_raw, v[None])
    order, sim = cosine_rank(q, G)
    return [(g_files[i], g_lab[i], float(sim[0, i])) for i in order[0, :k]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--query", action="append", help="painting(s) y0, relative to the data folder "
                    "(default paintings/starry_night.jpg and one held-out work of each artist)")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--features", choices=("stats", "gram", "both"), default="both")
    ap.add_argument("--out", default=None, help="also write the printed report to this Markdown file")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    net = SqueezeNetFeatures()
    lines = ["# Style grouping: nearest neighbours on SqueezeNet statistics", "",
             "Written by `/usr/bin/python3 -m brushcam_artist.group " + " ".join(sys.argv[1:] if argv is None else argv) + "` (see its docstring for the method).", ""]
    kinds = ("stats", "gram") if a.features == "both" else (a.features,)
    galleries = {}
    for kind in kinds:
        res, gal = evaluate(kind, (1, 5, a.k), net)
        galleries[kind] = gal
        lines += [f"## precision@k by artist, features `{kind}`", "",
                  f"Gallery (training split): {res['gallery']}; held-out queries: {res['queries']}. "
                  f"Chance: monet {res['gallery']['monet'] / sum(res['gallery'].values()):.2f}, "
                  f"van_gogh {res['gallery']['van_gogh'] / sum(res['gallery'].values()):.2f}.", "",
                  "| k | all queries | monet queries | van_gogh queries |", "|---|---|---|---|"]
        for k, p in res["p"].items():
            lines.append(f"| {k} | {p['all']:.3f} | {p['monet']:.3f} | {p['van_gogh']:.3f} |")
        lines.append("")
    queries = a.query or ["paintings/starry_night.jpg", collection(ARTISTS["monet"], "heldout")[0],
                          collection(ARTISTS["van_gogh"], "heldout")[0]]
    for qp in queries:
        path = qp if os.path.isabs(qp) else os.path.join(DATA, qp)
        for kind in kinds:
            top = query(path, galleries[kind], kind, a.k, net)
            counts = {art: sum(1 for _, l, _ in top if l == art) for art in ARTISTS}
            lines += [f"## top-{a.k} neighbours of `{os.path.relpath(path, DATA)}` (`{kind}`): {counts}", "",
                      "| rank | work | artist | cosine |", "|---|---|---|---|"]
            lines += [f"| {i + 1} | `{os.path.relpath(f, DATA)}` | {l} | {s:.3f} |" for i, (f, l, s) in enumerate(top)]
            lines.append("")
    text = "\n".join(lines)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

"""KID ratio on the validation split for a training checkpoint or an exported avatar folder, so a
shipped model (exported; its run may be gone) and a new run's snapshot compare on the same faces.
Never the test split (brushcam_anime.test_report reads that, once per shipped model).

  cd training && /usr/bin/python3 -m brushcam_anime.validate (--ckpt C | --model ../models/anime/anime) \
      [--config configs_anime/anime_v4.toml]

The split is the config's [data] holdout_* (v4's by default: first 8 London, 100 selfies, 100 anime,
the same faces v3's validation used).

--clips adds the same ratio on what the extension translates in a call: the aligned crops of the
five people clips (video/people, never trained on) along the product's crop track (every 2nd of
their first 150 frames; `node bench/anime-tracks.mjs` from the repo root makes the tracks), against
the same held-out anime faces. Webcam footage is darker and flatter than phone selfies: a model can
score well on the selfie split and draw call frames badly (v3: 0.451 there, 0.794 here)."""
import json
import os
import sys
import tomllib

import numpy as np
import torch

from brushcam_train.loss_net import SqueezeNetFeatures

from .data import FaceSets, to_batch
from .evaluate import features, kid, kid_ratio_spread
from .features import clip_crops, model_arguments
from .nets import ANIME, HUMAN, load_generator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@torch.no_grad()
def kid_numbers(G, sets, net, batch=16):
    humans = to_batch([im for _, im in sets.human_held])
    anime = to_batch([im for _, im in sets.anime_held])
    fake = torch.cat([G(humans[i:i + batch], HUMAN, ANIME) for i in range(0, len(humans), batch)])
    fa, fh, ff = features(net, anime), features(net, humans), features(net, fake)
    k_in, k_out = kid(fh, fa), kid(ff, fa)
    return {"kid_inputs_x1000": round(k_in, 3), "kid_outputs_x1000": round(k_out, 3), "kid_ratio": round(k_out / k_in, 3),
            "kid_ratio_half_std": round(kid_ratio_spread(fh, ff, fa), 3), "faces": {"human": len(humans), "anime": len(anime)}}


CLIPS = ["d0", "d3", "d9", "d12", "src_s18"]


@torch.no_grad()
def clip_kid_numbers(G, sets, net, tracks, clips=CLIPS, frames=150, every=2, batch=16):
    """KID ratio of the translated people-clip crops against the held-out anime faces (see --clips)."""
    crops = [c for name in clips for c in list(clip_crops(tracks, name, G.arch["size"], frames))[::every]]
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
    anime = to_batch([im for _, im in sets.anime_held])
    fake = torch.cat([G(x[i:i + batch], HUMAN, ANIME) for i in range(0, len(x), batch)])
    fa, fh, ff = features(net, anime), features(net, x), features(net, fake)
    k_in = kid(fh, fa)
    return {"clips_kid_ratio": round(kid(ff, fa) / k_in, 3), "clips_kid_ratio_half_std": round(kid_ratio_spread(fh, ff, fa), 3),
            "clips_crops": len(x)}


def main(argv=None):
    ap = model_arguments(__doc__)
    ap.add_argument("--config", default=os.path.join(REPO, "training/configs_anime/anime_v4.toml"))
    ap.add_argument("--clips", action="store_true", help="also the ratio on the people clips' crops (see above)")
    ap.add_argument("--tracks", default=os.path.join(REPO, "build/anime-tracks/tracks.json"))
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    if a.model:
        sys.path.insert(0, os.path.join(REPO, "training"))
        from eval_anime import ExportedDirection
        G = ExportedDirection(a.model)
        step, weights = G.net.meta.get("trained_steps"), "exported"
    else:
        ck = torch.load(a.ckpt, map_location="cpu")
        G = load_generator(ck)
        step, weights = ck["step"], G.weights
    cfg = tomllib.load(open(a.config, "rb"))
    sets = FaceSets.for_config(cfg["data"], G.arch["size"])
    net = SqueezeNetFeatures()
    out = {"who": a.ckpt or a.model, "step": step, "weights": weights, "split": "validation", **kid_numbers(G, sets, net)}
    if a.clips:
        if not os.path.exists(a.tracks):
            raise SystemExit(f"{a.tracks} not found: run `node bench/anime-tracks.mjs` from the repo root first")
        out.update(clip_kid_numbers(G, sets, net, json.load(open(a.tracks))))
    print(json.dumps(out))


if __name__ == "__main__":
    main()

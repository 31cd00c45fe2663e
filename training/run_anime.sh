#!/bin/sh
# Background Twin-GAN training (resumable: run it again to continue from the last checkpoint).
#   [THREADS=2] sh run_anime.sh [config id, default anime_v3]
# Starts only when the style training (brushcam_train.train_style) is not running, so the two do
# not fight for the cores. Log: /work/runs/anime/<id>/nohup.log; train.log beside it.
set -eu
cd "$(dirname "$0")"
id=${1:-anime_v3}
threads=${THREADS:-1}
if pgrep -f brushcam_train.train_style >/dev/null; then
  echo "style training is still running; start this after it ends" >&2
  exit 1
fi
mkdir -p "/work/runs/anime/$id"
OMP_NUM_THREADS=$threads nohup nice -n 10 /usr/bin/python3 -m brushcam_anime.train --config "configs_anime/$id.toml" \
  --out "/work/runs/anime/$id" --threads "$threads" >>"/work/runs/anime/$id/nohup.log" 2>&1 &
echo "started $! -> /work/runs/anime/$id"

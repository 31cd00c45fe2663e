#!/bin/sh
# Background training of the artist styles (brushcam_artist, Sanakoyeu et al. 2018): monet, then
# van_gogh, in ONE process chain, 1 thread, low priority. Resumable: rerunning continues each run
# from /work/runs/artist/<id>/ckpt.pt (a finished run returns at once).
#   sh training/run_artist.sh              (returns immediately)
#   MINUTES=45 sh training/run_artist.sh   wall-clock cap per artist (default 45; checkpoint on stop)
# Logs: /work/runs/artist/run_artist.log (chain), /work/runs/artist/<id>/train.log (per run)
cd "$(dirname "$0")" || exit 1
RUNS=${RUNS:-/work/runs/artist}
MINUTES=${MINUTES:-45}
mkdir -p "$RUNS"
OMP_NUM_THREADS=1 nohup nice -n 10 sh -c '
  for id in monet van_gogh; do
    echo "start $id $(date -u)"
    OMP_NUM_THREADS=1 /usr/bin/python3 -m brushcam_artist.train --config configs_artist/$id.toml \
      --out "'"$RUNS"'/$id" --threads 1 --device auto --max-minutes '"$MINUTES"' || echo "run $id failed: $?"
  done
  echo "run_artist done $(date -u)"
' >> "$RUNS/run_artist.log" 2>&1 &
echo "started pid $! ; log $RUNS/run_artist.log"

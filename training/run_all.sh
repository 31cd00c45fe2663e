#!/bin/sh
# Background training of every shipped style, one run after another, on 1 thread at low priority.
# Resumable: rerunning continues each run from <out>/ckpt.pt (finished runs are skipped).
#   sh training/run_all.sh            (from the repo root; returns immediately)
# Logs: /work/runs/style/run_all.log and /work/runs/style/<id>/train.log
cd "$(dirname "$0")" || exit 1
RUNS=${RUNS:-/work/runs/style}
mkdir -p "$RUNS"
nohup nice -n 10 sh -c '
  for id in paintings5 paintings5_notemporal; do
    OMP_NUM_THREADS=1 /usr/bin/python3 -m brushcam_train.train_style --config configs/$id.toml \
      --out "'"$RUNS"'/$id" --threads 1 || echo "run $id failed: $?"
  done
  echo "run_all done $(date)"
' >> "$RUNS/run_all.log" 2>&1 &
echo "started pid $! ; log $RUNS/run_all.log"

#!/bin/sh
# Export every style of the shipped run from its latest checkpoint into models/style/<id>/,
# comparing temporal stability against the no-temporal baseline when that checkpoint exists.
#   sh training/export_all.sh          (from the repo root)
# Then: git add models/style && git commit -m "models/style: export"
cd "$(dirname "$0")" || exit 1
RUNS=${RUNS:-/work/runs/style}
exec nice -n 10 /usr/bin/python3 -m brushcam_train.export \
  --ckpt "$RUNS/paintings5/ckpt.pt" \
  --baseline "$RUNS/paintings5_notemporal/ckpt.pt" \
  --models ../models/style "$@"

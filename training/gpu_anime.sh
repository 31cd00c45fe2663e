#!/bin/sh
# The Twin-GAN on a lent GPU (the device tool), continuing the CPU run's checkpoint.
#   sh training/gpu_anime.sh prepare [id]            here: face sets + checkpoint -> build/gpu/ (~40 MiB;
#       with the repo's tracked files it must stay under the device tool's 64 MiB)
#   sh training/gpu_anime.sh train [id] [seconds] [batch]
#       the device command, with carry ["build/gpu"]; writes $OUT/run/{ckpt.pt,train.log,samples.png}
#   sh training/gpu_anime.sh fetch <files_at> [id]   here: the run's checkpoint back into /work/runs/anime/<id>
# The device machine has no ../shared: the sets travel packed (brushcam_anime.pack), and the
# held-out KID (which needs ../shared's SqueezeNet) is computed here after fetch, by export.py.
set -eu
cd "$(dirname "$0")"
what=${1:?prepare, train or fetch}
case "$what" in
  prepare)
    id=${2:-anime_v3}
    mkdir -p ../build/gpu
    /usr/bin/python3 -m brushcam_anime.pack --config "configs_anime/$id.toml" --out ../build/gpu/anime_sets.npz --quality 75
    # the networks without their optimiser states (Adam restarts there): a third of the size
    /usr/bin/python3 -c "import sys, torch; ck = torch.load(sys.argv[1], map_location='cpu'); \
torch.save({k: v for k, v in ck.items() if not k.startswith('opt_')}, sys.argv[2])" "/work/runs/anime/$id/ckpt.pt" ../build/gpu/ckpt.pt
    du -sh ../build/gpu ;;
  train)
    id=${2:-anime_v3}; seconds=${3:-480}; batch=${4:-32}
    mkdir -p "$OUT/run"
    [ -f ../build/gpu/ckpt.pt ] && cp ../build/gpu/ckpt.pt "$OUT/run/ckpt.pt"
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    python3 -m brushcam_anime.train --config "configs_anime/$id.toml" --out "$OUT/run" --device cuda \
      --pack ../build/gpu/anime_sets.npz --batch "$batch" --max-seconds "$seconds" --steps 1000000 --no-eval --threads 8
    ;;
  fetch)
    at=${2:?the files_at folder of the device run}; id=${3:-anime_v3}
    run="/work/runs/anime/$id"
    step=$(/usr/bin/python3 -c "import torch; print(torch.load('$run/ckpt.pt', map_location='cpu')['step'])")
    cp "$run/ckpt.pt" "$run/ckpt_cpu_$step.pt"
    cp "$at/run/ckpt.pt" "$run/ckpt.pt"
    { echo "# GPU run (training/gpu_anime.sh) from step $step:"; grep -v '^#' "$at/run/train.log"; } >>"$run/train.log"
    cp "$at/run/samples.png" "$run/samples.png" 2>/dev/null || true
    echo "resumed CPU state kept as $run/ckpt_cpu_$step.pt; now: $(/usr/bin/python3 -c "import torch; print(torch.load('$run/ckpt.pt', map_location='cpu')['step'])")" ;;
  *) echo "prepare, train or fetch" >&2; exit 2 ;;
esac

#!/bin/sh
# The Twin-GAN on a lent GPU (the device tool), continuing the CPU run's checkpoint.
#   sh training/gpu_anime.sh prepare [id]            here: face sets + checkpoint -> build/gpu/ (~40 MiB;
#       with the repo's tracked files it must stay under the device tool's 64 MiB)
#   sh training/gpu_anime.sh train [id] [seconds] [batch]
#       the device command, with carry ["build/gpu"]; writes $OUT/run/{ckpt.pt,train.log,samples.png} and
#       $OUT/ema.tar (the EMA snapshots); WORKERS (default 8) processes make the batches ahead, EXTRA
#       passes more arguments (e.g. "--set train.ema_snapshot_every=1000")
#   sh training/gpu_anime.sh fetch <files_at> [id]   here: the run's checkpoint back into /work/runs/anime/<id>
#   sh training/gpu_anime.sh prepare-fresh <id>       here: face sets + SqueezeNet (no checkpoint: a run from scratch)
#   sh training/gpu_anime.sh sweep <id> <seconds> <variant>...   the device command, carry ["build/gpu"]: one
#       run per variant ("name:section.key=value,section.key=value"), side by side on the one GPU, each with
#       held-out evaluation (SqueezeNet travels in build/gpu); brings back $OUT/<name>.pt (networks, no
#       optimiser states) and $OUT/<name>.tar (train.log, samples.png, ema_<step>.pt snapshots)
#   sh training/gpu_anime.sh fetch-sweep <files_at> <id> <name>...   here: into /work/runs/anime/<id>-<name>
# The device machine has no ../shared: the sets travel packed (brushcam_anime.pack), and the
# held-out KID (which needs ../shared's SqueezeNet) is computed here after fetch, by export.py.
# Sets at JPEG quality 68 keep the tracked tree + build/gpu under the tool's 64 MiB.
set -eu
cd "$(dirname "$0")"
what=${1:?prepare, train or fetch}
case "$what" in
  prepare)
    id=${2:-anime_v3}
    mkdir -p ../build/gpu
    /usr/bin/python3 -m brushcam_anime.pack --config "configs_anime/$id.toml" --out ../build/gpu/anime_sets.npz --quality 68
    # the networks without their optimiser states (Adam restarts there): a third of the size
    /usr/bin/python3 -c "import sys, torch; ck = torch.load(sys.argv[1], map_location='cpu'); \
torch.save({k: v for k, v in ck.items() if not k.startswith('opt_')}, sys.argv[2])" "/work/runs/anime/$id/ckpt.pt" ../build/gpu/ckpt.pt
    # the content loss's SqueezeNet (the device machine has no ../shared)
    mkdir -p ../build/gpu/loss-networks
    cp ../../shared/data/loss-networks/squeezenet1_1_imagenet_features.mat ../build/gpu/loss-networks/
    du -sh ../build/gpu ;;
  train)
    id=${2:-anime_v3}; seconds=${3:-480}; batch=${4:-32}
    mkdir -p "$OUT/run"
    export BRUSHCAM_DATA="$(cd ../build/gpu && pwd)" PYTHONUNBUFFERED=1
    [ -f ../build/gpu/ckpt.pt ] && cp ../build/gpu/ckpt.pt "$OUT/run/ckpt.pt"
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    ${PY:-python3} -m brushcam_anime.train --config "configs_anime/$id.toml" --out "$OUT/run" --device "${DEVICE:-cuda}" \
      --pack ../build/gpu/anime_sets.npz --batch "$batch" --max-seconds "$seconds" --steps 1000000 --no-eval \
      --threads 4 --workers "${WORKERS:-8}" ${EXTRA:-}
    # the EMA snapshots travel too: the held-out KID that picks among them is computed here after fetch
    (cd "$OUT/run" && ls ema_*.pt >/dev/null 2>&1 && tar cf "$OUT/ema.tar" ema_*.pt && rm -f ema_*.pt) || true
    ;;
  fetch)
    at=${2:?the files_at folder of the device run}; id=${3:-anime_v3}
    run="/work/runs/anime/$id"
    step=$(/usr/bin/python3 -c "import torch; print(torch.load('$run/ckpt.pt', map_location='cpu')['step'])")
    cp "$run/ckpt.pt" "$run/ckpt_cpu_$step.pt"
    cp "$at/run/ckpt.pt" "$run/ckpt.pt"
    { echo "# GPU run (training/gpu_anime.sh) from step $step:"; grep -v '^#' "$at/run/train.log"; } >>"$run/train.log"
    cp "$at/run/samples.png" "$run/samples.png" 2>/dev/null || true
    [ -f "$at/ema.tar" ] && tar xf "$at/ema.tar" -C "$run"
    echo "resumed CPU state kept as $run/ckpt_cpu_$step.pt; now: $(/usr/bin/python3 -c "import torch; print(torch.load('$run/ckpt.pt', map_location='cpu')['step'])")" ;;
  prepare-fresh)
    id=${2:?config id}
    mkdir -p ../build/gpu/loss-networks
    /usr/bin/python3 -m brushcam_anime.pack --config "configs_anime/$id.toml" --out ../build/gpu/anime_sets.npz --quality 85
    cp ../../shared/data/loss-networks/squeezenet1_1_imagenet_features.mat ../build/gpu/loss-networks/
    rm -f ../build/gpu/ckpt.pt
    du -sh ../build/gpu ;;
  sweep)
    id=${2:?config id}; seconds=${3:?seconds}; shift 3
    export BRUSHCAM_DATA="$(cd ../build/gpu && pwd)" PYTHONUNBUFFERED=1
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    # fail fast (a broken CUDA path costs seconds, not the lease)
    ${PY:-python3} -m brushcam_anime.train --config "configs_anime/$id.toml" --smoke --device "${DEVICE:-cuda}" --pack ../build/gpu/anime_sets.npz
    pids=""
    for v in "$@"; do
      name=${v%%:*}; sets=${v#*:}; args=""
      [ "$sets" = "$v" ] || for kv in $(echo "$sets" | tr ',' ' '); do args="$args --set $kv"; done
      mkdir -p "/tmp/sweep/$name"
      ${PY:-python3} -m brushcam_anime.train --config "configs_anime/$id.toml" --id "$id-$name" --out "/tmp/sweep/$name" \
        --device "${DEVICE:-cuda}" --pack ../build/gpu/anime_sets.npz --workers 4 --threads 1 --max-seconds "$seconds" $args \
        >"/tmp/sweep/$name/stdout.log" 2>&1 &
      pids="$pids $!"
    done
    for p in $pids; do wait "$p" || echo "a run failed (exit $?)"; done
    for v in "$@"; do
      name=${v%%:*}; d="/tmp/sweep/$name"
      tail -3 "$d/stdout.log"
      ${PY:-python3} -c "import sys, torch; ck = torch.load(sys.argv[1], map_location='cpu'); \
torch.save({k: v for k, v in ck.items() if not k.startswith('opt_')}, sys.argv[2])" "$d/ckpt.pt" "$OUT/$name.pt" || true
      (cd "$d" && tar cf "$OUT/$name.tar" train.log stdout.log samples.png ema_*.pt) || true
    done
    ls -la "$OUT" ;;
  fetch-sweep)
    at=${2:?the files_at folder of the device run}; id=${3:?config id}; shift 3
    for name in "$@"; do
      run="/work/runs/anime/$id-$name"; mkdir -p "$run"
      cp "$at/$name.pt" "$run/ckpt.pt"; tar xf "$at/$name.tar" -C "$run"
      echo "$run: step $(/usr/bin/python3 -c "import torch; print(torch.load('$run/ckpt.pt', map_location='cpu')['step'])")"
    done ;;
  *) echo "prepare, prepare-fresh, train, sweep, fetch or fetch-sweep" >&2; exit 2 ;;
esac

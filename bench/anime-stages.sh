#!/bin/sh
# Per-stage ms of the anime avatar at 640x360 (tfjs WASM + tasks-vision), see anime-stages.test.ts.
set -eu
cd "$(dirname "$0")/.."
npm run build >/dev/null
(cd training && /usr/bin/python3 -c "
import torch
from brushcam_anime.export import write_model
from brushcam_anime.nets import TwinGAN
torch.manual_seed(0); write_model('../build/anime-full', 'anime-full', TwinGAN())")
node -e "import('./test/support/fixtures.mjs').then((f) => f.clipCamera('../shared/data/video/people/d3.mp4'))"
mkdir -p build/d3f
ffmpeg -loglevel error -y -i build/fixtures/d3-640x360-10s.y4m -frames:v 60 build/d3f/%03d.png
npx wtr --config web-test-runner.config.mjs --files bench/anime-stages.test.ts 2>&1 | tr '\r' '\n' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | grep -aE "per frame|passed|failed" | sort -u

#!/usr/bin/env bash
# Installs what Brushcam needs from Debian when it is missing: Chromium (tests and demo),
# Firefox ESR (the Firefox end-to-end tests and bench rows), ffmpeg (fake-camera clips), Xvfb,
# Python + PyTorch for training and its tests, pytest-timeout (a time limit per test) and flake8
# (the Python linter `npm run lint:py` runs).
# Usage: scripts/install-system-deps.sh [--browser-only]
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ "${1:-}" != "--browser-only" ]; then
  # (the demo that --browser-only serves runs in Chromium)
  command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
  /usr/bin/python3 -c 'import torch, torchvision, cv2, scipy, numpy, PIL, pytest' >/dev/null 2>&1 ||
    need+=(python3-torch python3-torchvision python3-opencv python3-scipy python3-numpy python3-pil python3-pytest)
  /usr/bin/python3 -c 'import pytest_timeout' >/dev/null 2>&1 || need+=(python3-pytest-timeout)
  /usr/bin/python3 -m flake8 --version >/dev/null 2>&1 || need+=(python3-flake8)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "Installing from Debian: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"

#!/usr/bin/env bash
# Install litcore, its plugins and the test tools into the current Python.
# Idempotent: re-running only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
pip() { "$PY" -m pip "$@"; }

# torch first: sam2 builds against it. A bare `pip install torch` may pull a
# multi-GB CUDA wheel; this pin is the release the project is tested with.
if ! "$PY" -c "import torch, torchvision" >/dev/null 2>&1; then
  pip install -q "torch==2.14.1" "torchvision==0.29.1"
fi
# pip `sam2` builds a CUDA extension unless told not to, and needs torch at build time.
if ! "$PY" -c "import sam2" >/dev/null 2>&1; then
  SAM2_BUILD_CUDA=0 pip install -q --no-build-isolation "sam2==1.1.0"
fi
plugins=()
for dir in plugins/*/; do
  if [ -f "$dir/pyproject.toml" ]; then plugins+=(-e "$dir"); fi
done
pip install -q -e . "${plugins[@]}" "pytest>=8" "hypothesis>=6.100"
# the worked third-party example, installed from its own folder exactly as a third party would (not editable)
pip install -q ./examples/litcore-shapes-unet

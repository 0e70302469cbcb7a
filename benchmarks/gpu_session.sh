#!/usr/bin/env bash
# One GPU session in one command: loop timings (tiny SAM2 and the paper's
# SAM2.1-B+ size, both random weights: nothing to download) and a GPU run of
# the tiny SAM2 training recipe. Results land in $OUT (default /tmp/gpu_out).
#
#   TRAIN_MINUTES=5 bash benchmarks/gpu_session.sh     # TRAIN=0: timings only; BPLUS=0: tiny model only
#
# On a machine without litcore's dependencies, copy the pure-Python packages
# (sam2 omegaconf hydra antlr4 iopath) into ./.devsite first; they go on PYTHONPATH.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_out}
DEVICE=${DEVICE:-cuda}
TRAIN_MINUTES=${TRAIN_MINUTES:-5}
mkdir -p "$OUT"
if [ -d .devsite ]; then export PYTHONPATH="$PWD/.devsite${PYTHONPATH:+:$PYTHONPATH}"; fi
# entry points for the plugin registry (offline, no dependency resolution)
python3 -c "import litcore, litcore_vos_sam2" 2>/dev/null \
  || python3 -m pip install -q --no-deps --no-build-isolation --no-index -e . -e plugins/vos_sam2 >"$OUT/pip.log" 2>&1 \
  || echo "editable install failed (see pip.log)"
nvidia-smi -L 2>/dev/null; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"

python3 benchmarks/bench_loop.py --device "$DEVICE" --checkpoint null 2>&1 | tee "$OUT/bench_tiny.txt" | tail -4
[ "${BPLUS:-1}" = 1 ] && python3 benchmarks/bench_loop.py --device "$DEVICE" --checkpoint null --frames 8 \
  --config configs/sam2.1/sam2.1_hiera_b+.yaml 2>&1 | tee "$OUT/bench_bplus.txt" | tail -4

# issue 13, not yet measured on a GPU: the update at B+ size against the faithful one (one pass, native loss, the
# core's LoRA layers, rank dropout; bf16 autocast and torch.compile(mode="reduce-overhead") as probes), then bf16
# autocast and sam2's compiled VOS path for tracking (IoU against fp32), peak CUDA memory
[ "${FAST:-1}" = 1 ] && {
  python3 benchmarks/bench_update.py --device "$DEVICE" --checkpoint null --config configs/sam2.1/sam2.1_hiera_b+.yaml \
    --synthetic --samples 4 --fixed-steps 40 --settings faithful,one-pass,native-loss,fast,fast-nodropout,fast-native,fast-rankdrop,fast-native-bf16,fast-native-compiled,lit-auto \
    --json "$OUT/update_bplus_fixed40.json" 2>&1 | tail -3
  python3 benchmarks/bench_update.py --device "$DEVICE" --samples 12 --json "$OUT/update_tiny.json" 2>&1 | tail -3
  for opt in "autocast=bf16" "vos_optimized=true" "autocast=bf16 vos_optimized=true"; do
    python3 benchmarks/bench_tracking.py --device "$DEVICE" --checkpoint null --config configs/sam2.1/sam2.1_hiera_b+.yaml \
      --videos 1 --frames 24 --options $opt --json "$OUT/tracking_bplus_${opt// /_}.json" 2>&1 | tail -4
  done
}

[ "${TRAIN:-1}" = 1 ] && python3 plugins/vos_sam2/training/train_tiny.py --out /tmp/tiny_gpu --device "$DEVICE" --steps auto \
  --max-minutes "$TRAIN_MINUTES" --batch 8 --image-batch 32 --prerender "${PRERENDER:-1200}" --workers 14 \
  --log-every 100 --save-every 100000 --export "$OUT/sam2_tiny_gpu.pt" 2>&1 | tee "$OUT/train.txt" | grep -v "^step" 
cp /tmp/tiny_gpu/log.jsonl "$OUT/train_log.jsonl" 2>/dev/null
# files coming back from a lent machine are capped at 16 MiB each: ship the 18 MB export in parts
[ -f "$OUT/sam2_tiny_gpu.pt" ] && split -b 15m -d "$OUT/sam2_tiny_gpu.pt" "$OUT/sam2_tiny_gpu.pt.part" \
  && rm "$OUT/sam2_tiny_gpu.pt"
tail -3 "$OUT/train.txt"

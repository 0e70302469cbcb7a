"""Where one update's time goes: cProfile of the paper's update on one real correction (tiny SAM2, CPU).

    python benchmarks/profile_update.py [--steps 40] [--top 35]

Prints the wall time of a fixed-step update (no early stopping) and the
profile sorted by cumulative time; docs/performance.md quotes the split
(two decodes, backward, AdamW).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import bench_update as bu  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--impl", default="auto", help="LoRA implementation: auto, native or peft")
    ap.add_argument("--fast", action="store_true", help="the one-pass step instead of the paper's two passes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from litcore.plugins import build_registry

    reg = build_registry()
    model = reg.create("model", "sam2")
    sample = bu.collect(model, reg, 1, None)[0]["image"]
    model.loss_size = bu._loss_size(model, "image")
    adapter = reg.create("adapter", "lora", impl=args.impl)
    adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    policy = reg.create("policy", "every", fast=args.fast, max_steps=args.steps, patience=10**6,
                        zero_check_step=10**6)
    policy.update(adapter, model, sample)  # warm-up
    adapter.reset()
    start = time.perf_counter()
    report = policy.update(adapter, model, sample)
    print(f"{report.steps} steps: {time.perf_counter() - start:.3f} s")
    adapter.reset()
    prof = cProfile.Profile()
    prof.enable()
    policy.update(adapter, model, sample)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()

"""The memory-attention cache of the SAM2 plugin (`--model-opt memory_cache`): time of corrected runs, on and off.

    python benchmarks/bench_memory_cache.py [--videos 2] [--methods baseline,lit-lora] [--json PATH]

Each method runs over the same generated `hard` videos (one process, one
thread) with the cache on and off, interleaved; the process CPU time of each
run is measured, and the records are compared: they must be identical (the
cache is exact), else the benchmark fails. A click re-decodes its frame, and
stock SAM2 recomputes the frame's memory attention for every click.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from litcore.experiment import Experiment, ExperimentSpec


def run(method: str, videos: int, cache: bool) -> tuple[float, list]:
    spec = ExperimentSpec(model="sam2", dataset="synth", method=method, model_options={"memory_cache": cache},
                          dataset_options={"split": "hard", "videos": videos})
    exp = Experiment(spec)
    start = time.process_time()
    records = [_untimed(rec.to_json()) for rec in exp.records()]
    return time.process_time() - start, records


def _untimed(d):
    """A record without its wall-clock fields (the only thing allowed to differ)."""
    if isinstance(d, dict):
        return {k: _untimed(v) for k, v in d.items() if "seconds" not in k}
    return [_untimed(v) for v in d] if isinstance(d, list) else d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=2)
    ap.add_argument("--methods", default="baseline,lit-lora")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for method in args.methods.split(","):
        off, stock = run(method, args.videos, False)
        on, cached = run(method, args.videos, True)
        if cached != stock:
            raise SystemExit(f"{method}: the cached run's records differ from stock SAM2's")
        clicks = sum(int(r.get("clicks") or 0) for r in stock if isinstance(r, dict))
        rows.append({"method": method, "videos": args.videos, "clicks": clicks, "cpu_s_stock": round(off, 2),
                     "cpu_s_cached": round(on, 2), "speedup": round(off / on, 2), "records_identical": True})
        print(f"| {method} | {args.videos} | {clicks} | {off:.1f} | {on:.1f} | {off / on:.2f}x | identical |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""Does `dropout_draw=fast` learn like torch's draw? User corrections on the train splits, both draws.

    python benchmarks/bench_draw_equivalence.py --out /tmp/draws [--cells sam2:lit-lora,shapes:lit-auto]
        [--seeds 0,1,2] [--json benchmarks/results/draw_equivalence_train.json]

The fast draw only acts on LoRA inputs of at least `FAST_DRAW_MIN` elements,
which the embedded models never reach (the tiny SAM2's 8 x 8 image tokens, the
example U-Net's 48 x 48 maps), so on their data the default gives torch's
draw and the same numbers. To see the draw itself act on learning, every cell
here lowers that threshold to 0 (in this process: the runs use the local
executor) and runs the same `lit run` twice, with `dropout_draw=torch` and
`dropout_draw=fast`, once per `--seed` (counts of a few dozen corrections move
by one or two with any change of random draws; the sum over seeds is what is
compared). Only train splits: the default is chosen on them (the 5% rule of
docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import litcore.adapters.dropout_draw as dropout_draw
from litcore.cli import main as lit_main
from litcore.results import load_summary

CELLS = {  # name -> the `lit run` options of the run, without method, draw and --out
    "sam2": ["--model", "sam2", "--dataset", "synth", "--dataset-opt", "split=train", "--dataset-opt", "videos=6"],
    "shapes": ["--model", "shapes-unet", "--dataset", "shapes", "--dataset-opt", "split=train"],
}
DRAWS = ("torch", "fast")


def run_cell(data: str, method: str, draw: str, seed: int, out: Path) -> dict:
    run_dir = out / f"{data}-{method}-{draw}-seed{seed}"
    args = ["run", *CELLS[data], "--method", method, "--adapter-opt", f"dropout_draw={draw}", "--seed", str(seed),
            "--out", str(run_dir), "--quiet", "--threads", "1", "--overwrite"]
    start = time.perf_counter()
    code = lit_main(args)
    if code not in (0, None):
        raise SystemExit(f"lit {' '.join(args)} exited {code}")
    totals = load_summary(run_dir)["totals"]
    return {"user_corrections": totals["user_corrections"], "updates": totals["updates"],
            "episodes": totals["episodes"], "wall_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for the run directories")
    ap.add_argument("--cells", default="sam2:lit-lora,sam2:lit-auto,shapes:lit-lora,shapes:lit-auto",
                    help="comma-separated data:method pairs (data: " + ", ".join(CELLS) + ")")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated --seed values; each cell sums over them")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    dropout_draw.FAST_DRAW_MIN = 0  # the fast draw on every LoRA input, so that it acts at all here
    out = Path(args.out)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    for cell in args.cells.split(","):
        data, _, method = cell.partition(":")
        if data not in CELLS or not method:
            raise SystemExit(f"--cells: {cell!r} is not data:method with data one of {', '.join(CELLS)}")
        row = {"data": data, "method": method, "seeds": seeds}
        for draw in DRAWS:
            runs = [run_cell(data, method, draw, seed, out) for seed in seeds]
            row[draw] = {"user_corrections": sum(r["user_corrections"] for r in runs),
                         "per_seed": [r["user_corrections"] for r in runs], "runs": runs}
        a, b = row["torch"]["user_corrections"], row["fast"]["user_corrections"]
        row["change"] = (b - a) / a if a else None
        results.append(row)
        print(json.dumps(row), flush=True)
    print(f"| train split | method | torch's draw (seeds {args.seeds}) | fast draw | change |\n|---|---|---|---|---|")
    for r in results:
        change = "-" if r["change"] is None else f"{100 * r['change']:+.1f}%"
        t, f = r["torch"], r["fast"]
        print(f"| {r['data']} | {r['method']} | {t['user_corrections']} ({' + '.join(map(str, t['per_seed']))}) | "
              f"{f['user_corrections']} ({' + '.join(map(str, f['per_seed']))}) | {change} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"fast_draw_min": 0, "cells": results}, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())

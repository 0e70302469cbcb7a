"""Paired comparison of update policies on the same corrections (how the calibrated constants were chosen).

Runs one LIT experiment (driven by `--drive`); at every update, each candidate
policy trains a copy of the adapter, from the state the driving run has at
that moment, on the same correction. Written per update to JSON lines; the
summary gives, per candidate, how often the update fits its correction (best
training score >= --fit), the mean best score, steps and seconds. Only the
driving policy's update is kept, so the run itself is an ordinary LIT run.

    python3 scripts/compare_step_sizes.py --model sam2 --dataset synth --dataset-opt split=train \\
        --dataset-opt videos=4 --max-corrections 3 --out lit-runs/paired-train.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from litcore.cli.commands import parse_options
from litcore.experiment import Experiment, ExperimentSpec
from litcore.plugins import build_registry

CANDIDATES = {
    "fixed-1e-4": ("every", {}), "fixed-1e-3": ("every", {"lr": 1e-3}), "fixed-1e-2": ("every", {"lr": 1e-2}),
    "auto": ("calibrated", {}), "auto-growth2": ("calibrated", {"growth": 2.0}),
    "auto-max3e-3": ("calibrated", {"max_lr": 3e-3}), "auto-fit0.8": ("calibrated", {"min_best_score": 0.8}),
    "auto-fit1": ("calibrated", {"min_best_score": 1.0}),
    "auto-growth10": ("calibrated", {"growth": 10.0}), "auto-start1e-3": ("calibrated", {"lr": 1e-3}),
    "auto-max3e-2": ("calibrated", {"max_lr": 3e-2}),
}


class Paired:
    """Wraps the driving policy; before each of its updates, every candidate trains a throwaway copy."""

    def __init__(self, drive, candidates, log: Path) -> None:
        self.drive, self.candidates, self.log = drive, candidates, log

    def __getattr__(self, name):
        return getattr(self.drive, name)

    def update(self, adapter, learner, sample):
        start = {k: v.clone() for k, v in adapter.state_dict().items()}
        updates = adapter.updates
        row = {}
        for name, pol in self.candidates.items():
            adapter.load_state_dict(start)
            r = pol.update(adapter, learner, sample)
            row[name] = {"best": r.best_score, "final": r.final_score, "steps": r.steps, "seconds": r.seconds,
                         "lr_max": max(r.lrs)}
            adapter.updates = updates
        adapter.load_state_dict(start)
        with open(self.log, "a") as f:
            f.write(json.dumps(row) + "\n")
        return self.drive.update(adapter, learner, sample)


def summarize(log: Path, fit: float) -> dict:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line]
    out = {}
    for name in rows[0] if rows else []:
        vals = [r[name] for r in rows]
        out[name] = {"updates": len(vals), "fit_percent": 100 * sum(v["best"] >= fit for v in vals) / len(vals),
                     "best_mean": statistics.mean(v["best"] for v in vals),
                     "steps_mean": statistics.mean(v["steps"] for v in vals),
                     "seconds_mean": statistics.mean(v["seconds"] for v in vals)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--dataset-opt", action="append", default=[])
    p.add_argument("--groups", default=None)
    p.add_argument("--drive", default="auto", choices=sorted(CANDIDATES))
    p.add_argument("--candidates", default="fixed-1e-3,fixed-1e-2,auto,auto-fit1",
                   help=f"comma-separated, from: {', '.join(CANDIDATES)}")
    p.add_argument("--max-corrections", type=int, default=None)
    p.add_argument("--fit", type=float, default=0.5)
    p.add_argument("--out", required=True, help="JSON lines, one per update (appended); summary printed")
    p.add_argument("--summary-only", action="store_true")
    args = p.parse_args()
    log = Path(args.out)
    if not args.summary_only:
        reg = build_registry()
        pol, opts = CANDIDATES[args.drive]
        spec = ExperimentSpec(model=args.model, dataset=args.dataset, adapter="lora", policy=pol, policy_options=opts,
                              dataset_options=parse_options(args.dataset_opt), max_corrections=args.max_corrections,
                              groups=args.groups.split(",") if args.groups else None)
        exp = Experiment(spec, reg)
        cands = {n: reg.create("policy", *CANDIDATES[n][:1], **CANDIDATES[n][1]) for n in args.candidates.split(",")}
        exp.trainer.policy = Paired(exp.trainer.policy, cands, log)
        for _ in exp.records():
            pass
    print(json.dumps(summarize(log, args.fit), indent=2))


if __name__ == "__main__":
    main()

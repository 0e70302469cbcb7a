"""Flags shared by `lit run`, `lit demo` and `lit bench`: where groups run, what to do with an old `--out`.

Also how a finished run with failures is reported: one line per failure on
stderr and a non-zero exit, so `--keep-going` never hides a failure.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Iterable

from litcore.executors import EXECUTORS, Executor, make_executor

EXIT_FAILURES = 1   # the run finished, but some episodes failed (usage and input errors exit 2)


def add_executor_arguments(p: argparse.ArgumentParser, jobs_help: str, jobs_default: int | None = None) -> None:
    g = p.add_argument_group("execution (docs/executors.md)")
    g.add_argument("--executor", choices=EXECUTORS,
                   help="where groups run: local (this process), process (--jobs worker processes), "
                        "ray (a Ray cluster); default: process if --jobs > 1, else local")
    g.add_argument("--jobs", type=int, default=jobs_default, help=jobs_help)
    g.add_argument("--address", help="Ray cluster to join (auto, ray://HOST:10001); default: start a local one")
    g.add_argument("--cpus-per-worker", type=float, default=1.0, help="Ray: CPUs each worker reserves")
    g.add_argument("--gpus-per-worker", type=float, default=0.0,
                   help="Ray: GPUs each worker reserves (fractions share a GPU, e.g. 0.5)")


def add_existing_arguments(p: argparse.ArgumentParser, what: str = "--out") -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--resume", action="store_true",
                   help=f"continue the run in {what}: keep finished episodes, rerun unfinished and failed ones")
    g.add_argument("--overwrite", action="store_true",
                   help=f"replace the run in {what}, clearing every artefact of it (records, masks, J&F)")


def existing_mode(args: argparse.Namespace) -> str:
    return "resume" if getattr(args, "resume", False) else "overwrite" if getattr(args, "overwrite", False) \
        else "refuse"


def executor_from_args(args: argparse.Namespace, registry: Any = None) -> Executor:
    import torch

    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs must be at least 1, not {jobs}")
    return make_executor(args.executor, jobs=jobs, threads=torch.get_num_threads(), address=args.address,
                         cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker,
                         registry=registry)


def report_failures(failures: Iterable[Any], stream=None) -> int:
    """Print `lit: failed: <run>: <episode>: <error>` per failure; the exit code of the command."""
    stream = stream or sys.stderr
    n = 0
    for f in failures:
        line = f.line() if hasattr(f, "line") else f"{f['episode_id']}: {f['error']}"
        print(f"lit: failed: {' '.join(line.split())}", file=stream)
        n += 1
    return EXIT_FAILURES if n else 0

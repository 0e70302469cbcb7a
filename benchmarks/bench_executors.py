"""Wall time of one small grid on each executor: local, Ray with 1 and 2 workers, process with 2.

    python benchmarks/bench_executors.py [--videos 4] [--methods baseline,lit-lora]
                                         [--executors ray1,ray2,local,process2] [--out FILE.json]

The grid (the embedded tiny SAM2 on generated `hard` videos, one run per
method) goes through `litcore.dispatch.execute` as one pool of work, exactly
as `lit bench` sends it. Ray is a local cluster started here with 2 CPUs
(`ray.init(num_cpus=2)`); its start-up is timed separately, actor start-up
(importing torch, building the model) is inside each timing. Every executor's
records are checked to be identical to those of the first one timed. Numbers depend on the
machine and its load; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "core"))


def run_grid(executor, out: Path, methods: list[str], videos: int, registry) -> float:
    from litcore.dispatch import RunRequest, execute
    from litcore.experiment import Experiment, ExperimentSpec

    base = ExperimentSpec(model="sam2", dataset="synth", dataset_options={"split": "hard", "videos": videos})
    requests = []
    for m in methods:
        spec = replace(base, method=m)
        requests.append(RunRequest(out / m, spec, lambda s=spec: Experiment(s, registry), existing="overwrite"))
    start = time.perf_counter()
    execute(requests, executor)
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=4)
    p.add_argument("--methods", default="baseline,lit-lora")
    p.add_argument("--executors", default="ray1,ray2,local,process2",
                   help="which to time, in order: ray1, ray2 (Ray workers), local, process2 (2 processes)")
    p.add_argument("--out", help="also write the numbers to this JSON file")
    args = p.parse_args()
    import ray
    import torch

    from litcore.executors import make_executor
    from litcore.plugins import build_registry
    from runtools import records

    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    methods = args.methods.split(",")
    wanted = args.executors.split(",")
    registry = build_registry()
    tmp = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    times: dict[str, float] = {}
    try:
        if any(w.startswith("ray") for w in wanted):
            start = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            times["ray start-up"] = time.perf_counter() - start
        for name in wanted:
            if name.startswith("ray"):
                exe = make_executor("ray", jobs=int(name[3:]))
            elif name == "local":
                exe = make_executor("local", registry=registry)
            else:
                exe = make_executor("process", jobs=int(name[len("process"):]))
            times[name] = run_grid(exe, tmp / name, methods, args.videos, registry)
            exe.close()
            print(f"{name}: {times[name]:.1f} s", flush=True)
        if ray.is_initialized():
            ray.shutdown()
        for name in wanted[1:]:
            for m in methods:
                assert records(tmp / name / m) == records(tmp / wanted[0] / m), f"{name}/{m} differs"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {"videos": args.videos, "methods": methods, "seconds": times, "records identical": True,
              "load average (1 min) at the end": os.getloadavg()[0]}
    if "ray1" in times and "ray2" in times:
        result["speed-up ray 2 vs 1 workers"] = times["ray1"] / times["ray2"]
    if "local" in times and "process2" in times:
        result["speed-up process 2 vs local"] = times["local"] / times["process2"]
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

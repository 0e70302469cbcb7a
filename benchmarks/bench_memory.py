"""Peak memory of a LIT run against the baseline on the same video, at several video lengths.

    python benchmarks/bench_memory.py [--frames 48,192] [--json benchmarks/results/memory.json]

Each (method, length) runs in its own fresh process (peak RSS only grows), on
one object of the generated `hard` video 0 cut or extended to that length, with
the default policy. The number to read is LIT - baseline at the same length:
the adapter, its optimiser and the cached correction features; it should not
grow with the video (the engine keeps only the latest frame's features).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

def child(method: str, frames: int, policy_opts: str) -> None:
    import torch

    torch.set_num_threads(1)
    from litcore.loop import EpisodeRecord, LiveTrainer
    from litcore.plugins import build_registry
    from litcore.vos.episodes import video_object_episodes
    from litcore.vos.synth import make_video

    reg = build_registry()
    model = reg.create("model", "sam2")
    video = make_video("hard", 0, num_frames=frames)
    opts = json.loads(policy_opts)
    m = reg.get("method", method).factory()  # any registered method: its adapter, policy and their options
    trainer = LiveTrainer(model, reg.create("oracle", "vos-clicks"), reg.create("adapter", m.adapter, **m.adapter_options),
                          reg.create("policy", m.policy, **{**m.policy_options, **opts}))
    episode = next(video_object_episodes([video]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    metrics = {}
    for rec in trainer.run([episode]):
        if isinstance(rec, EpisodeRecord):
            metrics = rec.metrics
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    cuda = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    print(json.dumps({"method": method, "frames": frames, "peak_rss_mb": peak / 1024, "rss_before_run_mb": before / 1024,
                      "peak_cuda_mb": None if cuda is None else cuda / 2**20,
                      "user_corrections": metrics.get("user_corrections")}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", default="48,192")
    ap.add_argument("--methods", default="baseline,lit-lora")
    ap.add_argument("--policy-opts", default="{}", help="JSON policy options, e.g. '{\"fast\": false}'")
    ap.add_argument("--json", default=None)
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "FRAMES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.policy_opts)
        return
    rows = []
    for frames in [int(f) for f in args.frames.split(",")]:
        for method in args.methods.split(","):
            out = subprocess.run([sys.executable, __file__, "--child", method, str(frames),
                                  "--policy-opts", args.policy_opts], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    base = {r["frames"]: r["peak_rss_mb"] for r in rows if r["method"] == "baseline"}
    for r in rows:
        r["extra_over_baseline_mb"] = r["peak_rss_mb"] - base.get(r["frames"], float("nan"))
    result = {"rows": rows, "policy_options": json.loads(args.policy_opts)}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

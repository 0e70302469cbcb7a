"""Tracking speed options against fp32: frames/s and how much the masks change (IoU vs fp32).

    python benchmarks/bench_tracking.py [--videos 2] [--options autocast=bf16] [--json ...]
    python benchmarks/bench_tracking.py --device cuda --options autocast=bf16 vos_optimized=true   # GPU

Each option set builds its own model (same weights) and tracks one object of
each generated `hard` video with no corrections; every frame's mask is
compared with the fp32 model's mask of the same frame. Frames/s are the best of
two passes (the first pass also pays any compilation).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch


def _masks(model, episodes) -> tuple[list[np.ndarray], float]:
    best, masks = float("inf"), []
    for _ in range(2):
        masks, start, n = [], time.perf_counter(), 0
        for ep in episodes:
            session = model.session(ep)
            for item in session.items():
                masks.append(np.asarray(item.prediction, dtype=bool))
                n += 1
            session.close()
        best = min(best, (time.perf_counter() - start) / n)
    return masks, 1.0 / best


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="default")
    ap.add_argument("--config", default="default")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--videos", type=int, default=2)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--options", nargs="*", default=["autocast=bf16"], help="model options against fp32")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from litcore.cli.commands import parse_options
    from litcore.plugins import build_registry
    from litcore.vos.episodes import video_object_episodes
    from litcore.vos.synth import make_video

    reg = build_registry()
    ckpt = None if args.checkpoint == "null" else args.checkpoint
    videos = [make_video("hard", v, num_frames=args.frames) for v in range(args.videos)]
    episodes = [next(video_object_episodes([v])) for v in videos]
    base = reg.create("model", "sam2", config=args.config, checkpoint=ckpt, device=args.device)
    ref, ref_fps = _masks(base, episodes)
    opts = parse_options(args.options)
    model = reg.create("model", "sam2", config=args.config, checkpoint=ckpt, device=args.device, **opts)
    masks, fps = _masks(model, episodes)
    ious = [_iou(a, b) for a, b in zip(ref, masks)]
    out = {"options": opts, "frames": len(ious), "fp32_fps": ref_fps, "option_fps": fps, "speedup": fps / ref_fps,
           "iou_vs_fp32_mean": statistics.mean(ious), "iou_vs_fp32_min": min(ious),
           "frames_iou_below_0.9": sum(i < 0.9 for i in ious), "device": args.device,
           "model": {k: v for k, v in model.describe().items() if k in ("config", "image_size", "weights")}}
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

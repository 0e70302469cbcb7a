"""Speed of the LIT loop's pieces on this machine, as ratios measured in one run.

    python benchmarks/bench_loop.py [--checkpoint default|null] [--out docs/performance.md]

Measures, on the tiny SAM2 (128 px unless --image-size):
- tracking: frames/s of plain propagation;
- one adapter update (a fixed 40 steps, no early stop) for LoRA and for full
  fine-tuning of the decoder transformer (LIT-FT), and their ratio;
- the same propagation with 1 vs 2 torch threads.
Numbers depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch


def _video(frames: int, size: int):
    from litcore.vos.synth import make_video

    return make_video("easy", 0, height=size, width=size, num_frames=frames)


def time_propagation(model, video, repeats: int = 2) -> float:
    from litcore.vos.episodes import video_object_episodes

    ep = next(video_object_episodes([video]))
    best = float("inf")
    for _ in range(repeats):
        session = model.session(ep)
        start = time.perf_counter()
        n = sum(1 for _ in session.items())
        best = min(best, (time.perf_counter() - start) / n)
        session.close()
    return 1.0 / best


def time_update(model, registry, adapter_name: str, video, steps: int = 40) -> tuple[float, int]:
    from litcore.loop import LiveTrainer
    from litcore.vos.episodes import video_object_episodes

    policy = registry.create("policy", "every", max_steps=steps, patience=10**6, zero_check_step=10**6)
    tr = LiveTrainer(model, registry.create("oracle", "vos-clicks"), registry.create("adapter", adapter_name), policy)
    ep = next(video_object_episodes([video]))
    session = model.session(ep)
    items = session.items()
    next(items)
    item = next(items)
    sample = session.training_sample(item)
    report = policy.update(tr.adapter, model, sample)
    session.close()
    return report.seconds, tr.adapter.num_parameters()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default="default")
    ap.add_argument("--config", default="default", help="e.g. configs/sam2.1/sam2.1_hiera_b+.yaml (random weights "
                    "with --checkpoint null: timings of the paper's model size without downloading it)")
    ap.add_argument("--image-size", type=int, default=None)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=None, help="write a Markdown section to this file")
    args = ap.parse_args()
    from litcore.plugins import build_registry

    reg = build_registry()
    ckpt = None if args.checkpoint == "null" else args.checkpoint
    model = reg.create("model", "sam2", config=args.config, checkpoint=ckpt, image_size=args.image_size,
                       device=args.device)
    size = model.predictor.image_size
    video = _video(args.frames, size)
    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        results[f"fps_threads{threads}"] = time_propagation(model, video)
    torch.set_num_threads(1)
    for name in ("lora", "full"):  # untimed warm-up: first backward/optimizer kernels (GPU) and allocations
        time_update(model, reg, name, video, steps=3)
    lora_s, lora_p = time_update(model, reg, "lora", video)
    full_s, full_p = time_update(model, reg, "full", video)
    results.update(lora_update_s=lora_s, lora_params=lora_p, full_update_s=full_s, full_params=full_p,
                   lora_step_ms=1000 * lora_s / 40, full_over_lora=full_s / lora_s,
                   threads2_over_threads1_fps=results["fps_threads2"] / results["fps_threads1"],
                   machine=f"{platform.machine()} {torch.get_num_threads()}t, {platform.processor() or 'cpu'}",
                   image_size=size, checkpoint=str(ckpt), config=args.config, device=args.device,
                   gpu=torch.cuda.get_device_name() if args.device.startswith("cuda") else None)
    print(json.dumps(results, indent=2))
    if args.out:
        lines = [
            f"| measure (tiny SAM2, {size} px, CPU) | value |", "|---|---|",
            f"| tracking, 1 thread | {results['fps_threads1']:.1f} frames/s |",
            f"| tracking, 2 threads / 1 thread | {results['threads2_over_threads1_fps']:.2f}x |",
            f"| LoRA update, 40 steps ({lora_p:,} params) | {lora_s:.2f} s ({results['lora_step_ms']:.0f} ms/step) |",
            f"| LIT-FT update, 40 steps ({full_p:,} params) | {full_s:.2f} s |",
            f"| LIT-FT / LoRA update time | {results['full_over_lora']:.2f}x |",
        ]
        Path(args.out).write_text(Path(args.out).read_text().split("<!-- bench -->")[0] + "<!-- bench -->\n"
                                  + "\n".join(lines) + "\n") if Path(args.out).exists() else None


if __name__ == "__main__":
    main()

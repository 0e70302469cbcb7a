"""How fast can one LoRA step at SAM2's real decoder size be on this CPU? Its FLOPs over the matmul rate.

    OMP_NUM_THREADS=2 python benchmarks/bench_floor.py [--repeats 8] [--json FILE]

Counts the floating-point operations of one training step (forward and
backward of the loss; torch's FlopCounterMode, which counts matmuls,
convolutions and attention, not elementwise work) for the paper's update (a
training pass at the 1024^2 loss, then a second decode to score) and for the
one-pass update at the decoder's 256^2 output, with the standard decoder at
the B+ size (random weights). Dividing by the rate this machine reaches on
the step's own dominant product (4,096 image tokens x 256 -> 128) gives a
floor: no implementation of the same arithmetic gets below it, so
faithful / floor bounds the speed-up per step that work on the step alone can
give (docs/performance.md). It also times the one-pass step as it is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).parent))
import bench_update as bu  # noqa: E402

CONFIG = "configs/sam2.1/sam2.1_hiera_b+.yaml"


def matmul_gflops(threads: int, repeats: int) -> float:
    """The best rate of the step's dominant product, (4096 x 256) @ (256 x 128), in GFLOP/s.

    The best, not the median, of many short runs: a floor is what the machine can do, and a neighbour's
    load on a shared VM only ever slows a run down."""
    torch.set_num_threads(threads)
    a, b = torch.randn(4096, 256), torch.randn(256, 128)
    for _ in range(5):
        a @ b
    times = []
    for _ in range(repeats * 10):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * 4096 * 256 * 128 / min(times) / 1e9


def step_flops(model, module, sample, two_pass: bool) -> dict[str, int]:
    """FLOPs of one step: the training pass (forward + backward) and, for the paper's update, the scoring decode.

    After one uncounted pass, as in every step but an update's first (`reuse_base` has its outputs then)."""
    model.loss(module, [sample]).backward()
    with FlopCounterMode(display=False) as train:
        model.loss(module, [sample]).backward()
    out = {"train": int(train.get_total_flops())}
    if two_pass:
        with torch.no_grad(), FlopCounterMode(display=False) as score:
            model.score(module, sample)
        out["score"] = int(score.get_total_flops())
    out["total"] = sum(out.values())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--json")
    args = ap.parse_args()
    from litcore.loop import seed_everything
    from litcore.plugins import build_registry

    reg = build_registry()
    model = reg.create("model", "sam2", config=CONFIG, checkpoint=None, device="cpu")
    samples = bu.synthetic(model, 1)[0]
    adapter = reg.create("adapter", "lora")
    seed_everything(0)
    module = adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    module.train()
    flops = {}
    for name, size, two_pass in (("faithful", "image", True), ("one-pass, 256^2 loss", "native", False)):
        model.loss_size = bu._loss_size(model, size)
        flops[name] = step_flops(model, module, samples[size], two_pass)
    rates = {t: matmul_gflops(t, args.repeats) for t in (1, 2)}
    model.loss_size = bu._loss_size(model, "native")
    torch.set_num_threads(2)
    times = []
    for k in range(args.repeats + 2):
        start = time.perf_counter()
        model.loss(module, [samples["native"]]).backward()
        if k >= 2:
            times.append(time.perf_counter() - start)
    step_ms = 1000 * statistics.median(times)
    result = {"config": CONFIG, "flops": flops, "matmul_gflops": rates, "one_pass_step_ms_2threads": step_ms,
              "floor_ms": {name: {t: 1000 * f["total"] / (rate * 1e9) for t, rate in rates.items()}
                           for name, f in flops.items()}}
    print(json.dumps(result, indent=1))
    fast = result["floor_ms"]["one-pass, 256^2 loss"][2]
    print(f"one-pass step: {flops['one-pass, 256^2 loss']['total'] / 1e9:.2f} GFLOP, floor {fast:.0f} ms at "
          f"{rates[2]:.0f} GFLOP/s (2 threads); as it runs: {step_ms:.0f} ms (forward + backward, no optimiser)")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()

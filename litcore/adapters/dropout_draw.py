"""A faster CPU draw of LoRA's input-dropout mask: each element kept with probability 1 - p, as
before, from another generator.

Why: torch's CPU `bernoulli_` costs ~10 ns per element and does not speed up
with threads. At SAM2's real size, 8 LoRA layers of the decoder see the
4,096 x 256 image tokens, so drawing their masks took ~30% of a training step
on 2 cores (docs/performance.md). numpy's SFC64 draws 16-bit integers at
~2 ns each; an element is kept when its integer is below
round((1 - p) * 65536), which is 1 - p to within 2^-17 (p = 0.1: 0.899994).

Each mask is seeded from torch's default generator, so `torch.manual_seed`
(and `--seed`) fixes it like every other random choice. The masks differ from
`F.dropout`'s, so `dropout_draw=fast` is not bitwise the same as peft's
layers; `dropout_draw=torch` is. Inputs below `FAST_DRAW_MIN` elements and
tensors off the CPU (CUDA's dropout is fast) keep torch's draw.
"""

from __future__ import annotations

import math

import numpy as np
import torch

DRAWS = ("auto", "torch", "fast")  # auto (the LoRA adapter's default): fast in the core's layers
# below this many elements F.dropout is as fast (seeding a generator per call costs ~20 us)
FAST_DRAW_MIN = 1 << 16
_LEVELS = 1 << 16


def keep_threshold(keep: float) -> int:
    """The 16-bit integer below which an element is kept."""
    return min(_LEVELS, max(0, round(keep * _LEVELS)))


def keep_mask(shape: torch.Size | tuple[int, ...], keep: float) -> torch.Tensor:
    """A CPU bool tensor of `shape`; each element True with probability `keep` (to within 2^-17)."""
    seed = int(torch.randint(0, 2**62, (1,)))
    bits = np.random.Generator(np.random.SFC64(seed)).integers(0, _LEVELS, size=math.prod(shape), dtype=np.uint16)
    return torch.from_numpy(bits < keep_threshold(keep)).view(tuple(shape))


def uses_fast_draw(x: torch.Tensor) -> bool:
    """Whether the fast draw applies to this input: on the CPU and large enough to gain."""
    return x.device.type == "cpu" and x.numel() >= FAST_DRAW_MIN

"""LoRA layers without peft: W x + b + s * B A dropout(x), as one flat forward.

Why: on a small decoder an update step is bound by Python calls, not
arithmetic, and peft's generic layer (adapter-name dispatch, merge and variant
checks, three sub-module calls) costs as much per call as the layer's own
matrix products. These layers hold the same tensors under the same names as
peft's (`<layer>.base_layer.weight`, `<layer>.lora_A.default.weight`, ...), are
initialised in the same order from the same random stream (A: Kaiming-uniform,
a = sqrt(5); B: zeros) and run the same operations in the same order, so
adapter files, seeds and results carry over between `impl=native` and
`impl=peft` (tests/core/test_lora_native.py checks all three).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from litcore.adapters.base_memo import BaseMemo
from litcore.adapters.dropout_draw import keep_mask, uses_fast_draw

ADAPTER = "default"  # peft's adapter name, kept so that state dicts match
CONVS: tuple[type[nn.Module], ...] = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
NATIVE: tuple[type[nn.Module], ...] = (nn.Linear, *CONVS)
# where dropout acts: on the input x (peft, the reference code) or on the rank-r code A x, which for a
# layer over 4,096 image tokens draws 64x fewer random numbers (docs/performance.md measures both)
DROPOUT_AT = ("input", "rank")
LAYER_DRAWS = ("torch", "fast")  # how the input dropout's mask is drawn (litcore.adapters.dropout_draw)


class _LoraLayer(nn.Module):
    """The shared parts: the frozen base layer, A, B, dropout and the scale alpha / r."""

    def __init__(self, base: nn.Module, a: nn.Module, b: nn.Module, dropout: float, scaling: float,
                 dropout_at: str = "input", dropout_draw: str = "torch", reuse_base: bool = False) -> None:
        super().__init__()
        if dropout_at not in DROPOUT_AT:
            raise ValueError(f"lora: dropout_at={dropout_at!r} is not one of {', '.join(DROPOUT_AT)}")
        if dropout_draw not in LAYER_DRAWS:  # the adapter resolves its "auto"
            raise ValueError(f"lora: dropout_draw={dropout_draw!r} is not one of {', '.join(LAYER_DRAWS)}")
        self.at_input = dropout_at == "input"
        self.fast_draw = dropout_draw == "fast"
        self.base_layer = base
        self.lora_dropout = nn.ModuleDict({ADAPTER: nn.Dropout(p=dropout) if dropout > 0 else nn.Identity()})
        self.lora_A = nn.ModuleDict({ADAPTER: a})
        self.lora_B = nn.ModuleDict({ADAPTER: b})
        nn.init.kaiming_uniform_(a.weight, a=math.sqrt(5))
        nn.init.zeros_(b.weight)
        self.scaling = float(scaling)
        self.p = float(dropout)
        # direct references for the forward (not registered twice: plain attributes)
        self.__dict__["_a"], self.__dict__["_b"] = a, b
        self.__dict__["_memo"] = BaseMemo() if reuse_base else None

    def _base_output(self, x: torch.Tensor, compute) -> tuple[torch.Tensor, bool]:
        """(the base layer's output, whether it may be changed in place): `reuse_base` reuses it (base_memo)."""
        if self._memo is None:
            return compute(), True
        return self._memo.output(self.base_layer, x, compute)

    @property
    def weight(self) -> torch.Tensor:  # code that reads `layer.weight` (SAM2 does) still finds the base's
        return self.base_layer.weight

    @property
    def bias(self) -> torch.Tensor | None:
        return self.base_layer.bias

    def _dropped(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout on the layer's input (peft's and the reference code's place)."""
        return F.dropout(x, self.p, self.training) if self.p > 0 and self.at_input else x

    def _rank_dropped(self, h: torch.Tensor) -> torch.Tensor:
        """`dropout_at=rank`: dropout on A x (r features per token instead of the input's width)."""
        return h if self.at_input or self.p == 0 else F.dropout(h, self.p, self.training)

    def _fast_drop(self, x: torch.Tensor) -> bool:
        """`dropout_draw=fast` on this input: the mask from `litcore.adapters.dropout_draw`."""
        return self.fast_draw and self.at_input and self.p > 0 and self.training and uses_fast_draw(x)

    def _kept(self, x: torch.Tensor) -> torch.Tensor:
        """x where the fast mask keeps it, else 0; the 1 / (1 - p) goes on the rank-r output."""
        return torch.where(keep_mask(x.shape, 1.0 - self.p), x, 0.0)

    def _low_rank_input(self, x: torch.Tensor) -> torch.Tensor:
        if self._fast_drop(x):
            return F.linear(self._kept(x), self._a.weight) * (1.0 / (1.0 - self.p))
        return self._rank_dropped(F.linear(self._dropped(x), self._a.weight))

    def extra_repr(self) -> str:
        where = "input" if self.at_input else "rank"
        draw = ", fast draw" if self.fast_draw else ""
        reuse = ", reuses base" if self._memo is not None else ""
        return f"r={self._a.weight.shape[0]}, scaling={self.scaling}, dropout={self.p} at {where}{draw}{reuse}"


class LoraLinear(_LoraLayer):
    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float, dropout_at: str = "input",
                 dropout_draw: str = "torch", reuse_base: bool = False) -> None:
        a = nn.Linear(base.in_features, rank, bias=False)
        b = nn.Linear(rank, base.out_features, bias=False)
        super().__init__(base, a.to(base.weight.device), b.to(base.weight.device), dropout, alpha / rank, dropout_at,
                         dropout_draw, reuse_base)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = self.base_layer
        result, owned = self._base_output(x, lambda: F.linear(x, base.weight, base.bias))
        low = F.linear(self._low_rank_input(x), self._b.weight)
        low = low if self.scaling == 1.0 else low * self.scaling  # x * 1.0 (alpha = rank) is skipped, as exact
        # in place when the output is ours: linear's backward does not need it
        return result.add_(low) if owned else result + low


class LoraConv(_LoraLayer):
    """A: a conv of the base's kernel, stride and padding into `rank` channels; B: a 1x1 conv out."""

    def __init__(self, base: nn.Module, rank: int, alpha: float, dropout: float, dropout_at: str = "input",
                 dropout_draw: str = "torch", reuse_base: bool = False) -> None:
        kind = type(base)
        ones = (1,) * (base.weight.ndim - 2)
        a = kind(base.in_channels, rank, base.kernel_size, base.stride, base.padding, bias=False)
        b = kind(rank, base.out_channels, ones, ones, groups=base.groups, bias=False)
        super().__init__(base, a.to(base.weight.device), b.to(base.weight.device), dropout, alpha / rank, dropout_at,
                         dropout_draw, reuse_base)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self._b(self._low_rank(x))
        low = low if self.scaling == 1.0 else low * self.scaling
        result, owned = self._base_output(x, lambda: self.base_layer(x))
        return result.add_(low) if owned else result + low

    def _low_rank(self, x: torch.Tensor) -> torch.Tensor:
        if self._fast_drop(x):
            return self._a(self._kept(x)) * (1.0 / (1.0 - self.p))
        return self._rank_dropped(self._a(self._dropped(x)))


def wrap(layer: nn.Module, rank: int, alpha: float, dropout: float, dropout_at: str = "input",
         dropout_draw: str = "torch", reuse_base: bool = False) -> _LoraLayer:
    """The LoRA layer for `layer` (one of NATIVE)."""
    kind = LoraLinear if isinstance(layer, nn.Linear) else LoraConv
    return kind(layer, rank, alpha, dropout, dropout_at, dropout_draw, reuse_base)


def inject(module: nn.Module, names: list[str], rank: int, alpha: float, dropout: float,
           dropout_at: str = "input", dropout_draw: str = "torch", reuse_base: bool = False) -> nn.Module:
    """Replace each named sub-module of `module` by its LoRA layer, in `module.named_modules()` order
    (peft's order, so the random initialisation matches it); returns `module`."""
    order = [n for n, _ in module.named_modules() if n in set(names)]
    for name in order:
        parent_name, _, child = name.rpartition(".")
        parent = module.get_submodule(parent_name) if parent_name else module
        layer = wrap(getattr(parent, child), rank, alpha, dropout, dropout_at, dropout_draw, reuse_base)
        setattr(parent, child, layer)
    return module

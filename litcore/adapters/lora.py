"""LoRA on any torch module (Linear, Conv1d/2d/3d, Embedding layers): W x + b + s * B A dropout(x).

Two implementations of the same layers, chosen by `impl`:
- ``native`` (`litcore.adapters.lora_layers`): a flat forward per layer, no
  peft import; Linear and Conv layers.
- ``peft``: peft's ``inject_adapter_in_model``, which works on plain
  ``nn.Module`` trees (SAM2's decoder, open_clip's vision tower) without a
  transformers model around them; every layer type in SUPPORTED.
- ``auto`` (default): native when every target is a Linear or Conv, else peft.
Both keep the base layers' biases (the paper's W = W0 + BA), name their
tensors alike and draw the same initial weights from the same seed.

Two speed options of the core's layers (docs/performance.md): `dropout_draw`
(numpy's draw of large dropout masks on the CPU, `litcore.adapters.dropout_draw`)
and `reuse_base` (a frozen layer's output reused while its input repeats,
`litcore.adapters.base_memo`; exact).
"""

from __future__ import annotations

import re
from typing import Any

from torch import nn

from litcore.adapters.base import Adapter, AdapterError, matching_modules, no_match
from litcore.adapters.dropout_draw import DRAWS
from litcore.adapters.lora_layers import DROPOUT_AT, NATIVE, inject

IMPLS = ("auto", "native", "peft")


# the layer types peft's LoRA handles (peft.tuners.lora.layer dispatch)
SUPPORTED: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Embedding)


class LoraAdapter(Adapter):
    """Low-rank adapters on the modules whose names match `targets`."""

    name = "lora"

    def __init__(self, rank: int = 4, alpha: float = 4.0, dropout: float = 0.1, impl: str = "auto",
                 dropout_at: str = "input", dropout_draw: str = "auto", reuse_base: bool = True) -> None:
        super().__init__()
        if rank < 1:
            raise AdapterError(f"lora: rank must be >= 1, got {rank}")
        if impl not in IMPLS:
            raise AdapterError(f"lora: impl={impl!r} is not one of {', '.join(IMPLS)}")
        if dropout_at not in DROPOUT_AT:
            raise AdapterError(f"lora: dropout_at={dropout_at!r} is not one of {', '.join(DROPOUT_AT)}")
        if dropout_draw not in DRAWS:
            raise AdapterError(f"lora: dropout_draw={dropout_draw!r} is not one of {', '.join(DRAWS)}")
        for option, value, default in (("dropout_at", dropout_at, "input"), ("dropout_draw", dropout_draw, "auto")):
            if value not in (default, "torch") and impl == "peft":
                raise AdapterError(f"lora: {option}={value} needs the core's layers (impl=native or auto), "
                                   "not impl=peft")
        self.rank, self.alpha, self.dropout, self.impl = int(rank), float(alpha), float(dropout), impl
        if not (isinstance(reuse_base, bool) or reuse_base in (0, 1)):
            raise AdapterError(f"lora: reuse_base={reuse_base!r} must be true or false")
        self.dropout_at, self.dropout_draw, self.reuse_base = dropout_at, dropout_draw, bool(reuse_base)

    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:
        if targets is None:
            raise AdapterError("lora: the task gave no default targets; pass --adapter-targets")
        names = matching_modules(module, targets)
        if not names:
            raise no_match("lora", module, targets)
        subs = dict(module.named_modules())
        for n in names:  # a silent skip would train less than the user asked for
            if not isinstance(subs[n], SUPPORTED):
                raise AdapterError(
                    f"lora: target {n!r} is a {type(subs[n]).__name__}, which cannot take a LoRA; "
                    f"supported: {', '.join(t.__name__ for t in SUPPORTED)} (narrow the pattern {targets!r})")
        self._base_layers = [subs[n] for n in names]  # references (both keep them as their base layers)
        self.targets = names
        native = all(isinstance(subs[n], NATIVE) for n in names)
        asked = [o for o, on in (("impl=native", self.impl == "native"),
                                 (f"dropout_at={self.dropout_at}", self.dropout_at != "input"),
                                 (f"dropout_draw={self.dropout_draw}", self.dropout_draw == "fast")) if on]
        if asked and not native:
            odd = next(n for n in names if not isinstance(subs[n], NATIVE))
            what = asked[0]
            raise AdapterError(f"lora: {what} takes Linear and Conv layers; target {odd!r} is a "
                               f"{type(subs[odd]).__name__} (leave {what} out, and impl=auto sends it to peft)")
        self.active_impl = "native" if self.impl == "native" or (self.impl == "auto" and native) else "peft"
        # auto: the fast draw wherever the core's layers run (peft's layers draw their own masks)
        self.active_draw = "fast" if self.active_impl == "native" and self.dropout_draw != "torch" else "torch"
        if self.active_impl == "native":
            model = inject(module, names, self.rank, self.alpha, self.dropout, self.dropout_at, self.active_draw,
                           self.reuse_base)
        else:
            model = self._inject_peft(module, names)
        for n, p in model.named_parameters():
            p.requires_grad_("lora_" in n)
        return model

    def _inject_peft(self, module: nn.Module, linear: list[str]) -> nn.Module:
        from peft import LoraConfig, inject_adapter_in_model

        # one anchored regex of the exact names: peft full-matches a str pattern, whereas a list/set
        # of names also matches any module whose name merely *ends* with one of them
        # (`wrapper.block.attn.q_proj` for `block.attn.q_proj`), which would leak LoRA elsewhere
        exact = "(?:" + "|".join(re.escape(n) for n in linear) + ")"
        config = LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=self.dropout,
                            target_modules=exact, bias="none")
        return inject_adapter_in_model(config, module)

    def _changed_weights(self) -> list:
        """The frozen weights of the targeted layers: the W that W + BA changes."""
        return [layer.weight for layer in self._base_layers]

    def describe(self) -> dict[str, Any]:
        impl = getattr(self, "active_impl", self.impl)
        return {**super().describe(), "rank": self.rank, "alpha": self.alpha, "dropout": self.dropout,
                "dropout_at": self.dropout_at, "dropout_draw": getattr(self, "active_draw", self.dropout_draw),
                "reuse_base": self.reuse_base and impl != "peft", "impl": impl,
                "targets": getattr(self, "targets", [])}

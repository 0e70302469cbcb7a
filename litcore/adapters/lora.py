"""LoRA through peft's low-level API, on any torch module (Linear, Conv1d/2d/3d, Embedding layers).

peft's ``inject_adapter_in_model`` works on plain ``nn.Module`` trees (SAM2's
decoder, open_clip's vision tower) without a transformers model around them,
and keeps the base layers' biases (W x + b + s * B A x), which the paper's
W = W0 + BA formulation implies.
"""

from __future__ import annotations

import re
from typing import Any

from torch import nn

from litcore.adapters.base import Adapter, AdapterError, matching_modules, no_match


# the layer types peft's LoRA handles (peft.tuners.lora.layer dispatch)
SUPPORTED: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Embedding)


class LoraAdapter(Adapter):
    """Low-rank adapters on the modules whose names match `targets`."""

    name = "lora"

    def __init__(self, rank: int = 4, alpha: float = 4.0, dropout: float = 0.1) -> None:
        super().__init__()
        if rank < 1:
            raise AdapterError(f"lora: rank must be >= 1, got {rank}")
        self.rank, self.alpha, self.dropout = int(rank), float(alpha), float(dropout)

    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:
        from peft import LoraConfig, inject_adapter_in_model

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
        self._base_layers = [subs[n] for n in names]  # references (peft keeps them as its base layers)
        linear = names
        # one anchored regex of the exact names: peft full-matches a str pattern, whereas a list/set
        # of names also matches any module whose name merely *ends* with one of them
        # (`wrapper.block.attn.q_proj` for `block.attn.q_proj`), which would leak LoRA elsewhere
        exact = "(?:" + "|".join(re.escape(n) for n in linear) + ")"
        config = LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=self.dropout,
                            target_modules=exact, bias="none")
        model = inject_adapter_in_model(config, module)
        for n, p in model.named_parameters():
            p.requires_grad_("lora_" in n)
        self.targets = linear
        return model

    def _changed_weights(self) -> list:
        """The frozen weights of the targeted layers: the W that W + BA changes."""
        return [layer.weight for layer in self._base_layers]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "rank": self.rank, "alpha": self.alpha,
                "dropout": self.dropout, "targets": getattr(self, "targets", [])}

"""Full fine-tuning of the targeted modules (the paper's LIT-FT ablation)."""

from __future__ import annotations

from typing import Any

from torch import nn

from litcore.adapters.base import Adapter, AdapterError, matching_modules, no_match


class FullFineTune(Adapter):
    """Every parameter inside the targeted modules becomes trainable."""

    name = "full"

    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:
        if targets is None:
            for p in module.parameters():
                p.requires_grad_(True)
            self.targets: list[str] = [""]
            return module
        names = matching_modules(module, targets)
        if not names:
            raise no_match("full", module, targets)
        subs = dict(module.named_modules())
        for n in names:
            for p in subs[n].parameters():
                p.requires_grad_(True)
        self.targets = names
        return module

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "targets": getattr(self, "targets", [])}

"""The adapter interface: attach to a copy, reset, count, save and load.

Adapters always work on a *copy* of the task's adaptable module: the base
model keeps producing its own predictions and the adapted copy only offers
revisions (the LIT protocol), and resetting never has to undo anything in the
base model.
"""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn


class AdapterError(ValueError):
    """Bad targets, a state dict of another shape, or use before `attach`."""


def matching_modules(module: nn.Module, patterns: str | Iterable[str]) -> list[str]:
    """Names of sub-modules whose full dotted name matches one of the regexes."""
    pats = [patterns] if isinstance(patterns, str) else list(patterns)
    compiled = []
    for p in pats:
        try:
            compiled.append(re.compile(p))
        except re.error as e:
            raise AdapterError(f"adapter targets: {p!s} is not a regular expression ({e})") from None
    return [name for name, _ in module.named_modules() if name and any(c.fullmatch(name) for c in compiled)]


def no_match(adapter: str, module: nn.Module, targets: str | Iterable[str], shown: int = 8) -> AdapterError:
    """The one-line error for targets that match nothing, with some of the names there are to match."""
    pats = [targets] if isinstance(targets, str) else list(targets)
    names = [n for n, _ in module.named_modules() if n]
    more = f", ... ({len(names)} in all)" if len(names) > shown else ""
    return AdapterError(f"{adapter}: no module of {type(module).__name__} matches {', '.join(pats)} (a target is a "
                        f"regex over whole dotted names, e.g. {', '.join(names[:shown])}{more})")


def rms(tensors: Iterable[torch.Tensor]) -> float | None:
    """The root mean square over all elements of `tensors` together; None when there are none (or all zero)."""
    total, count = 0.0, 0
    for t in tensors:
        total += float(t.detach().double().pow(2).sum())
        count += t.numel()
    return (total / count) ** 0.5 if count and total > 0 else None


class Adapter(ABC):
    """Trainable parameters attached to a copy of a module."""

    name: str = "adapter"

    @property
    def target_kind(self) -> str:
        """Which kind of default targets to ask the task for (a LoRA pool wants LoRA's)."""
        return self.name

    def __init__(self) -> None:
        self.module: nn.Module | None = None
        self.updates = 0
        self._initial: dict[str, torch.Tensor] = {}

    # -- lifecycle -------------------------------------------------------
    def attach(self, module: nn.Module, targets: str | list[str] | None = None) -> nn.Module:
        """Copy `module`, make the targeted parts trainable, remember the initial state."""
        copied = copy.deepcopy(module)
        for p in copied.parameters():
            p.requires_grad_(False)
        self.module = self._prepare(copied, targets)
        if self.num_parameters() == 0:
            raise AdapterError(f"{self.name}: targets {targets!r} made no parameter trainable")
        self._initial = {k: v.detach().clone() for k, v in self.state_dict().items()}
        self._weight_scale = rms(self._changed_weights())  # once: the policy asks at every update
        self.updates = 0
        return self.module

    @abstractmethod
    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:
        """Make the targeted parts of `module` trainable (in place) and return it."""

    def reset(self) -> None:
        """Back to the state right after `attach` (same initial weights every episode)."""
        if self.module is not None:
            self.load_state_dict(self._initial)
        self.updates = 0

    @property
    def trained(self) -> bool:
        """True once the adapter has been updated since the last reset."""
        return self.updates > 0

    def candidates(self) -> list["Adapter"]:
        """Adapters that may propose a revision now (a pool has several)."""
        return [self] if self.trained else []

    def for_update(self, best: "Adapter | None", best_score: float | None) -> "Adapter":
        """The adapter to train on a user correction, given the best proposal's score."""
        return self

    # -- parameters ------------------------------------------------------
    def _require(self) -> nn.Module:
        if self.module is None:
            raise AdapterError(f"{self.name}: call attach() first")
        return self.module

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self._require().parameters() if p.requires_grad]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def weight_scale(self) -> float | None:
        """RMS of the weights this adapter changes, as they were at `attach` (None: nothing to measure).

        Why: Adam moves every parameter by about its step size per step, so the
        same step size is a large relative change for small weights and a small
        one for large weights; `calibrated` (anchor=weights) scales its step
        sizes by this.
        """
        return getattr(self, "_weight_scale", None)

    def _changed_weights(self) -> list[torch.Tensor]:
        """The weights `weight_scale` measures: here the trainable matrices and kernels (ndim >= 2) at
        attach, i.e. what full fine-tuning changes (not biases or norms); LoRA names its frozen layers."""
        return [t for t in self._initial.values() if t.ndim >= 2]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Only the adapter's own (trainable) tensors, keyed by parameter name."""
        return {n: p.detach() for n, p in self._require().named_parameters() if p.requires_grad}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        params = {n: p for n, p in self._require().named_parameters() if p.requires_grad}
        if set(state) != set(params):
            missing = sorted(set(params) - set(state))[:3]
            extra = sorted(set(state) - set(params))[:3]
            raise AdapterError(f"{self.name}: state dict does not match (missing {missing}, unexpected {extra})")
        with torch.no_grad():
            for n, p in params.items():
                if state[n].shape != p.shape:
                    raise AdapterError(f"{self.name}: {n} has shape {tuple(state[n].shape)}, expected {tuple(p.shape)}")
                p.copy_(state[n])

    def save(self, path: str | Path) -> None:
        torch.save({"adapter": self.name, "state": self.state_dict()}, Path(path))

    def load(self, path: str | Path) -> None:
        from litcore.weights import load_weights

        blob = load_weights(path, "adapter weights")
        if not isinstance(blob, dict) or blob.get("adapter") != self.name:
            raise AdapterError(f"{path}: holds a {blob.get('adapter') if isinstance(blob, dict) else None!r} adapter, "
                               f"not {self.name!r}")
        self.load_state_dict(blob["state"])

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "parameters": self.num_parameters() if self.module is not None else 0}


class NoAdapter(Adapter):
    """The baseline: nothing is trainable and no revision is ever offered."""

    name = "none"

    def attach(self, module: nn.Module, targets: str | list[str] | None = None) -> None:  # type: ignore[override]
        self.module = None
        return None

    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:
        return module

    def reset(self) -> None:
        self.updates = 0

    @property
    def trained(self) -> bool:
        return False

    def candidates(self) -> list[Adapter]:
        return []

    def num_parameters(self) -> int:
        return 0

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "parameters": 0}

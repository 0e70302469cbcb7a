"""A pool of adapters (the paper's "3 LoRAs" ablation).

Every trained member proposes; the oracle keeps the best proposal (an oracle
choice: in a real tool the user would pick among candidates). After a user
correction a new member is spawned when even the best proposal scored at most
`spawn_below` and the pool is not full; otherwise the best member is refined.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from litcore.adapters.base import Adapter, AdapterError
from litcore.adapters.lora import LoraAdapter


class AdapterPool(Adapter):
    name = "lora-pool"

    def __init__(self, size: int = 3, spawn_below: float = 0.4,
                 member: Callable[..., Adapter] = LoraAdapter, **member_options: Any) -> None:
        super().__init__()
        if size < 1:
            raise AdapterError(f"lora-pool: size must be >= 1, got {size}")
        self.size, self.spawn_below = int(size), float(spawn_below)
        self.members = [member(**member_options) for _ in range(self.size)]
        self.active = 0

    @property
    def target_kind(self) -> str:
        return self.members[0].target_kind

    def attach(self, module: nn.Module, targets: str | list[str] | None = None) -> nn.Module:
        for m in self.members:  # each member draws its own initial weights from the seeded RNG
            m.attach(module, targets)
        self.module = self.members[0].module
        self.active = 0
        return self.module

    def _prepare(self, module: nn.Module, targets: str | list[str] | None) -> nn.Module:  # pragma: no cover
        raise NotImplementedError

    def reset(self) -> None:
        for m in self.members:
            m.reset()
        self.active = 0

    @property
    def updates(self) -> int:  # type: ignore[override]
        return sum(m.updates for m in self.members)

    @updates.setter
    def updates(self, value: int) -> None:
        pass  # counted by the members

    @property
    def trained(self) -> bool:
        return any(m.trained for m in self.members)

    def candidates(self) -> list[Adapter]:
        return [m for m in self.members[: self.active] if m.trained]

    def for_update(self, best: Adapter | None, best_score: float | None) -> Adapter:
        """Spawn a member when the best proposal was poor (or none exists), else refine the best."""
        if self.active == 0 or ((best_score is None or best_score <= self.spawn_below) and self.active < self.size):
            self.active += 1
            return self.members[self.active - 1]
        return best if best is not None else self.members[self.active - 1]

    def num_parameters(self) -> int:
        return sum(m.num_parameters() for m in self.members)

    def state_dict(self):
        return {f"{i}.{k}": v for i, m in enumerate(self.members) for k, v in m.state_dict().items()}

    def load_state_dict(self, state) -> None:
        for i, m in enumerate(self.members):
            prefix = f"{i}."
            m.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})

    def weight_scale(self) -> float | None:
        """The members share targets, so the first one's scale is every member's."""
        return self.members[0].weight_scale() if self.members else None

    def trainable_parameters(self):
        return [p for m in self.members for p in m.trainable_parameters()]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "parameters": self.num_parameters(), "size": self.size,
                "spawn_below": self.spawn_below, "member": self.members[0].describe()}

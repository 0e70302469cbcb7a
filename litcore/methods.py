"""Named methods: an adapter, an update policy and a loop mode under one name.

`--method lit-lora` is shorthand for `--adapter lora --policy every`; a plugin
can register its own method (say, a new adapter with the policy it needs)
through ``litcore_register_methods``, and the paper's methods register
through the same hook (`litcore/builtins.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODES = ("propose", "replace")


@dataclass(frozen=True)
class Method:
    """What a method name stands for; options are defaults that `--adapter-opt`/`--policy-opt` override."""

    adapter: str
    policy: str = "every"
    mode: str = "propose"
    adapter_options: dict[str, Any] = field(default_factory=dict)
    policy_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"method mode {self.mode!r}; choose from {', '.join(MODES)}")

    def __call__(self) -> "Method":  # registered entries are factories; a method is its own
        return self

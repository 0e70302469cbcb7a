"""What a task plugin implements: episodes, a model that opens sessions on them.

The loop in :mod:`litcore.loop` is written only against these interfaces, so
the same function drives video segmentation and image classification.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from litcore.types import Action, Item


@dataclass
class Episode:
    """The unit at whose start the adapter is reset.

    For VOS: one object of one video. For classification: one class stream.
    `group` aggregates episodes in reports (the video a VOS object belongs to).
    `payload` is task-specific and opaque to the core.
    """

    episode_id: str
    group: str
    payload: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


class Dataset(Protocol):
    """A source of episodes, in a deterministic order."""

    task: str

    def groups(self) -> list[str]:
        """Names of the groups (videos, class streams) in run order."""
        ...

    def episodes(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> Iterator[Episode]:
        """Yield episodes, optionally restricted to some groups (videos) and objects."""
        ...


class Learner(Protocol):
    """How an adapted module is trained and scored on correction samples."""

    def loss(self, module: Any, samples: list[Any]) -> Any:
        """Differentiable training loss (a scalar tensor) of `module` on a batch of samples."""
        ...

    def score(self, module: Any, sample: Any) -> float:
        """Quality of `module` on one sample, higher is better (IoU, accuracy); drives early stopping."""
        ...


class Session(ABC):
    """A model working through one episode.

    `items()` yields the model's base prediction for each item in order; while
    the generator is suspended on an item the loop may call `apply`, `revise`
    and `accept` for that item, and those calls must affect later items (a VOS
    correction changes the memory that later frames read).
    """

    @abstractmethod
    def items(self) -> Iterator[Item]:
        ...

    @abstractmethod
    def apply(self, item: Item, action: Action) -> Any:
        """Apply one user action to the current item; return the refined prediction."""

    def revise(self, item: Item, module: Any) -> Any | None:
        """The adapted module's proposal for the current item, or None if it has none."""
        return None

    def accept(self, item: Item, prediction: Any) -> None:
        """Make an accepted proposal the item's output (and the model's memory of it)."""

    def install(self, module: Any) -> None:
        """Use `module` instead of the model's own for the rest of the episode ("replace" mode)."""
        raise NotImplementedError(f"{type(self).__name__} does not support replace mode")

    @abstractmethod
    def training_sample(self, item: Item) -> Any:
        """A training sample for the adapter built from the corrected item."""

    def close(self) -> None:
        """Release per-episode state (GPU memory, caches)."""


class TaskModel(ABC):
    """A backbone wrapped for one task; it is also the Learner for its adapters."""

    task: str = "task"
    default_oracle: str = ""
    group_noun: str = "group"  # what a dataset group is to a user ("video", "stream"): tables and plots say it
    score_name: str = "score"  # what the oracle's mean score is called in output ("J" for VOS, "accuracy")
    prediction_kind: str | None = None  # "binary-mask", "label", ...: which oracles can review it

    def default_adapter_options(self, adapter: str) -> dict[str, Any]:
        """Options this backbone wants for an adapter kind (e.g. a LoRA rank); the user's override them."""
        return {}

    def default_policy_options(self, policy: str) -> dict[str, Any]:
        """Options this backbone wants for an update policy (e.g. a step size); the user's override them."""
        return {}

    @abstractmethod
    def adaptable_module(self) -> Any:
        """The module adapters copy and train (e.g. SAM2's mask decoder)."""

    def adapter_targets(self, adapter: str) -> str | list[str] | None:
        """Default module-name pattern each adapter kind should target, None = adapter decides."""
        return None

    @abstractmethod
    def session(self, episode: Episode) -> Session:
        """Open a session on one episode."""

    @abstractmethod
    def loss(self, module: Any, samples: list[Any]) -> Any:
        ...

    @abstractmethod
    def score(self, module: Any, sample: Any) -> float:
        ...

    def describe(self) -> dict[str, Any]:
        """Facts recorded in the run manifest (config, checkpoint, device)."""
        return {}

"""Records of what happened, per item and per episode, and the per-episode seeding.

They live with the interactive session, which fills them; `litcore.loop`
re-exports them for the writers and every older import.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch


@dataclass
class StepRecord:
    """What happened on one item. `score` is the base prediction's, `final_score` the kept one's."""

    episode_id: str
    group: str
    index: int
    name: str
    checked: bool
    outcome: str                    # unchecked | ok | auto | user
    score: float | None = None
    final_score: float | None = None
    confidence: float | None = None
    proposal_score: float | None = None
    correction: str | None = None   # kind of the last user action ("click", "mask", "label")
    clicks: int = 0
    actions: list[str] = field(default_factory=list)
    update: dict[str, Any] | None = None
    kind: str = "step"
    # wall-clock log of a person's session ([{"t": unix seconds, "event": "click", ...}]); None for simulated users
    events: list[dict[str, Any]] | None = None
    # the prediction kept for this item (base, accepted proposal or corrected) and the model's own
    # (base) one; not serialised: mask exporters and visualisations read them from the stream
    output: Any = field(default=None, repr=False, compare=False)
    base_output: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items()
                if k not in ("output", "base_output") and not (k == "events" and v is None)}


@dataclass
class EpisodeRecord:
    """Emitted once an episode is finished: its metrics and wall time."""

    episode_id: str
    group: str
    metrics: dict[str, Any]
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "episode"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def derive_seed(seed: int, key: str) -> int:
    """A per-episode seed that does not depend on the order episodes run in."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)

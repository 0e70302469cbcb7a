"""Stateful per-episode statistics (torchmetrics-style update/compute/reset).

They consume the loop's step records, so any consumer (the writer, a progress
bar, a notebook) can aggregate without re-implementing the counting rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CorrectionStats:
    """Counts of the paper's Table 1: corrections, clicks, masks, automatic fixes, J.

    A *user correction* is one intervention on one item (1-3 clicks, possibly
    followed by a full mask); it counts once whatever its actions. Automatic
    corrections (an accepted adapter proposal) are not user interactions.
    """

    higher_is_better = {"user_corrections": False, "clicks": False, "auto_corrections": True, "J": True}
    checked: int = 0
    user_corrections: int = 0
    auto_corrections: int = 0
    clicks: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    update_seconds: list[float] = field(default_factory=list)
    update_steps: list[int] = field(default_factory=list)
    updates_unfit: int = 0          # updates whose adapter still failed its own correction
    proposals: int = 0
    scores: list[float] = field(default_factory=list)

    def update(self, record: Any) -> None:
        if not record.checked:
            return
        self.checked += 1
        self.scores.append(record.final_score)
        if record.proposal_score is not None:
            self.proposals += 1
        if record.outcome == "auto":
            self.auto_corrections += 1
        elif record.outcome == "user":
            self.user_corrections += 1
            self.clicks += record.clicks
            self.by_type[record.correction] = self.by_type.get(record.correction, 0) + 1
        if record.update is not None:
            self.update_seconds.append(record.update["seconds"])
            self.update_steps.append(record.update["steps"])
            self.updates_unfit += record.update.get("fit") is False

    def compute(self) -> dict[str, Any]:
        n_upd = len(self.update_seconds)
        return {
            "checked": self.checked,
            "user_corrections": self.user_corrections,
            "clicks": self.clicks,
            "point_corrections": self.by_type.get("click", 0),
            "mask_corrections": self.by_type.get("mask", 0),
            "corrections_by_type": dict(sorted(self.by_type.items())),
            "auto_corrections": self.auto_corrections,
            "proposals": self.proposals,
            "updates": n_upd,
            "updates_unfit": self.updates_unfit,
            "update_seconds_mean": sum(self.update_seconds) / n_upd if n_upd else 0.0,
            "update_seconds_total": sum(self.update_seconds),
            "update_steps_mean": sum(self.update_steps) / n_upd if n_upd else 0.0,
            "J": sum(self.scores) / len(self.scores) if self.scores else float("nan"),
        }

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

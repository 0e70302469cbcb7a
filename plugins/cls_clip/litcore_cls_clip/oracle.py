"""The simulated user for classification: checks the top-1 label, names the true class.

One wrong top-1 prediction costs one user correction (a single final
`LabelAction`), whatever the model proposed before; the adapted model's
proposal is checked by the same `review`, so it is accepted only when right.
"""

from __future__ import annotations

from typing import Any

from litcore.types import Action, LabelAction, Review


class ClassLabelOracle:
    """Accepts a prediction iff it is the true label (score 1.0, else 0.0)."""

    name = "cls-label"

    def __init__(self, tau: float | None = None) -> None:
        if tau is not None:
            raise ValueError("the cls-label oracle accepts exactly the correct top-1 label; --tau does not apply")

    def review(self, prediction: Any, target: Any) -> Review:
        correct = int(prediction) == int(target)
        return Review(score=1.0 if correct else 0.0, accepted=correct)

    def next_action(self, prediction: Any, target: Any, taken: list[Action]) -> Action | None:
        if any(isinstance(a, LabelAction) for a in taken):
            return None
        return LabelAction(label=int(target))

"""The feedback oracle: a simulated user who reviews and corrects predictions."""

from __future__ import annotations

from typing import Any, Protocol

from litcore.types import Action, Review


class FeedbackOracle(Protocol):
    """Reviews predictions against ground truth and proposes correction actions.

    The oracle only decides *what the user does*; the session applies each
    action to the model. The loop asks for actions until a review is accepted
    or a `final` action (e.g. a full mask) was taken.
    """

    name: str

    def review(self, prediction: Any, target: Any) -> Review:
        """Score a prediction and say whether the user would accept it."""
        ...

    def next_action(self, prediction: Any, target: Any, taken: list[Action]) -> Action | None:
        """The next correction given the current prediction and the actions already taken."""
        ...

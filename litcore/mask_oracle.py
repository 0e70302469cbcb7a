"""Simulated user for any binary-mask task: clicks at the centre of the largest error, then a full mask.

This follows the RITM / LIT protocol (protocol.md section 2) so that click
counts are comparable with the paper: the click goes where the error region is
"thickest", which is what a human would most likely click on. It takes any
prediction of kind ``binary-mask`` (VOS objects, shapes, cells...).
"""

from __future__ import annotations

import numpy as np

from litcore.masks import iou, next_click
from litcore.types import Action, Click, MaskAction, Review


class ClickThenMaskOracle:
    """Up to `max_clicks` error-centre clicks, then the ground-truth mask once.

    The oracle only proposes actions; the loop decides when to stop asking
    (as soon as a review is accepted), which keeps the oracle stateless.
    """

    name = "mask-clicks"
    prediction_kind = "binary-mask"

    def __init__(self, tau: float = 0.5, max_clicks: int = 3) -> None:
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not (0.0 < float(tau) <= 1.0):
            raise ValueError(f"tau must be a number in (0, 1], got {tau!r}")
        if isinstance(max_clicks, bool) or not isinstance(max_clicks, (int, np.integer)) or max_clicks < 0:
            raise ValueError(f"max_clicks must be an integer >= 0, got {max_clicks!r}")
        self.tau = float(tau)
        self.max_clicks = int(max_clicks)

    def review(self, prediction: np.ndarray, target: np.ndarray) -> Review:
        """IoU of the prediction (void ignored), accepted when it reaches tau."""
        score = iou(np.asarray(prediction, dtype=bool), target)
        return Review(score=score, accepted=score >= self.tau)

    def next_action(self, prediction: np.ndarray, target: np.ndarray, taken: list[Action]) -> Action | None:
        """The next correction given what was already done on this item."""
        if any(isinstance(a, MaskAction) for a in taken):
            return None
        n_clicks = sum(1 for a in taken if isinstance(a, Click))
        if n_clicks < self.max_clicks:
            click = next_click(prediction, target)
            if click is not None:
                return click
        return MaskAction(mask=np.asarray(target))


def click_oracle(tau: float = 0.5, max_clicks: int = 3) -> ClickThenMaskOracle:
    """Registered factory of `mask-clicks` (and its VOS alias `vos-clicks`)."""
    return ClickThenMaskOracle(tau=tau, max_clicks=max_clicks)

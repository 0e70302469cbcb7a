"""Simulated user for VOS: clicks at the centre of the largest error, then a full mask.

This follows the RITM / LIT protocol (protocol.md section 2) so that our click
counts are comparable with the paper: the click goes where the error region is
"thickest", which is what a human would most likely click on.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt

from litcore.types import Action, Click, MaskAction, Review
from litcore.vos.masks import iou, target_to_bool


def _error_centre(region: np.ndarray) -> tuple[float, int, int]:
    """(max distance to the region's boundary, row, col) of the region's most interior pixel.

    The 1-px False padding makes the image border count as a boundary, as in
    RITM, so a click is never pushed against the frame edge.
    """
    if not region.any():
        return 0.0, -1, -1
    dist = distance_transform_edt(np.pad(region, 1, constant_values=False))[1:-1, 1:-1]
    flat = int(np.argmax(dist))
    row, col = divmod(flat, region.shape[1])
    return float(dist[row, col]), row, col


def next_click(pred: np.ndarray, target: np.ndarray) -> Click | None:
    """The next corrective click for `pred` against `target`, None if there is no error.

    Void pixels count as background here (as in the reference code), so a
    prediction covering void can earn a negative click.
    """
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"next_click: prediction shape {pred.shape} differs from target shape {target.shape}")
    gt = target_to_bool(target)
    fn_d, fn_r, fn_c = _error_centre(gt & ~pred)
    fp_d, fp_r, fp_c = _error_centre(~gt & pred)
    if fn_d == 0.0 and fp_d == 0.0:
        return None
    if fn_d > fp_d:
        return Click(x=fn_c, y=fn_r, positive=True)
    return Click(x=fp_c, y=fp_r, positive=False)  # ties go negative


class ClickThenMaskOracle:
    """Up to `max_clicks` error-centre clicks, then the ground-truth mask once.

    The oracle only proposes actions; the loop decides when to stop asking
    (as soon as a review is accepted), which keeps the oracle stateless.
    """

    name = "vos-clicks"

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
        """The next correction given what was already done on this frame/object."""
        if any(isinstance(a, MaskAction) for a in taken):
            return None
        n_clicks = sum(1 for a in taken if isinstance(a, Click))
        if n_clicks < self.max_clicks:
            click = next_click(prediction, target)
            if click is not None:
                return click
        return MaskAction(mask=np.asarray(target))

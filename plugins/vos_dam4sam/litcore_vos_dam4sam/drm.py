"""DAM4SAM's distractor-resolving-memory (DRM) admission rule, on plain numpy masks.

Why separate: the rule is the heart of DAM4SAM and must be testable on
constructed masks without a model. A frame is admitted when the tracker is
confident and the object's size is stable (the cheap gate), and an
alternative decoder candidate reaches clearly outside the target's box (a
nearby look-alike: the distractor test). Everything is at video resolution,
as in the original.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import ndimage

_EIGHT = np.ones((3, 3), dtype=int)  # 8-connectivity


@dataclass(frozen=True)
class DrmRule:
    """The paper's constants (hard-coded in DAM4SAM's wrapper; named here)."""

    iou_gate: float = 0.8         # predicted IoU of the best candidate must exceed this
    area_min: float = 0.8         # area / recent median must lie in [area_min, area_max]
    area_max: float = 1.2
    min_gap: int = 5              # admit only if more than this many frames since the last admission
    bbox_iou_thresh: float = 0.7  # distractor when bbox IoU(target, target + blob) <= this
    median_window: int = 10       # median over the last 10 non-empty sizes ...
    history: int = 300            # ... within the last 300 frames


def bbox(mask: np.ndarray) -> np.ndarray | None:
    """(x1, y1, x2, y2) with exclusive ends, or None for an empty mask."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], float)


def bbox_iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected blob of a boolean mask (empty in, empty out)."""
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if n == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == (int(np.argmax(sizes)) + 1)


def size_ratio(area: int, history: Sequence[int], rule: DrmRule = DrmRule()) -> float:
    """`area` over the median of recent non-empty sizes; -1 when undefined.

    `history` is oldest-first and already ends with `area` (the current frame
    counts, as in DAM4SAM).
    """
    hist = list(history)[-rule.history:]
    if len(hist) <= 1 or area <= 0:
        return -1.0
    nonempty = [a for a in hist if a >= 1][-rule.median_window:]
    return float(area) / float(np.median(nonempty))


def passes_gate(best_iou: float, area: int, history: Sequence[int], frames_since_last: int | None,
                rule: DrmRule = DrmRule()) -> bool:
    """Confident, non-empty, stable size and not too soon after the last admission."""
    ratio = size_ratio(area, history, rule)
    return (best_iou > rule.iou_gate and area >= 1 and rule.area_min <= ratio <= rule.area_max
            and (frames_since_last is None or frames_since_last > rule.min_gap))


def distractor_present(mask: np.ndarray, alternatives: Sequence[np.ndarray], rule: DrmRule = DrmRule()) -> bool:
    """An alternative whose largest blob outside the mask moves the box enough (bbox IoU <= thresh)."""
    target = bbox(mask)
    if target is None:
        return False
    scores = []
    for alt in alternatives:
        outside = np.logical_and(alt, ~mask)
        if not outside.any():
            continue
        merged = np.logical_or(largest_component(outside), mask)
        scores.append(bbox_iou(target, bbox(merged)))
    return bool(scores) and min(scores) <= rule.bbox_iou_thresh


def admit(mask: np.ndarray, alternatives: Sequence[np.ndarray], best_iou: float, history: Sequence[int],
          frames_since_last: int | None, rule: DrmRule = DrmRule()) -> bool:
    """The full rule; the cheap gate runs first so the component labelling is rare."""
    area = int(mask.sum())
    return passes_gate(best_iou, area, history, frames_since_last, rule) and distractor_present(mask, alternatives, rule)

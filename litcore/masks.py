"""Task-neutral binary-mask helpers: IoU, error-centre clicks, mask checks.

Any task whose predictions are binary masks (video objects, shapes, cells,
medical slices) shares these, so they live outside `litcore.vos`. Targets are
0/1 arrays where 255 (`VOID`) marks pixels no metric looks at; a boolean
target is accepted too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.ndimage import distance_transform_edt

from litcore.errors import LitcoreError
from litcore.types import Click

VOID = 255


class MaskShapeError(LitcoreError, ValueError):
    """A prediction or mask that does not fit its target (shape, dimensions, dtype)."""


def target_to_bool(target: np.ndarray) -> np.ndarray:
    """Foreground of a target: void (255) counts as background."""
    t = np.asarray(target)
    if t.dtype == bool:
        return t
    return (t > 0) & (t != VOID)


def iou(pred: np.ndarray, target: np.ndarray) -> float:
    """IoU of a boolean prediction against a 0/1/255 target, ignoring void.

    Both empty (outside void) is a perfect answer, so it scores 1.0: an absent
    object correctly predicted absent must not look like a failure.
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise MaskShapeError(f"iou: prediction shape {pred.shape} differs from target shape {target.shape}")
    valid = target != VOID if target.dtype != bool else np.ones(target.shape, bool)
    p = pred.astype(bool) & valid
    g = target_to_bool(target)
    union = int(np.count_nonzero(p | g))
    if union == 0:
        return 1.0
    return float(np.count_nonzero(p & g)) / union


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Inclusive (x0, y0, x1, y1) box of a boolean mask, None if it is empty."""
    m = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(m.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(m.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def check_binary_mask(mask: Any, shape: tuple[int, ...], *, what: str = "mask") -> np.ndarray:
    """`mask` as a boolean (H, W) array of `shape`, or a one-line error naming `what`."""
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise MaskShapeError(f"{what}: expected a 2-D mask, got shape {arr.shape}")
    if tuple(arr.shape) != tuple(shape):
        raise MaskShapeError(f"{what}: mask has shape {arr.shape}, expected {tuple(shape)}")
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer) and not np.issubdtype(arr.dtype, np.floating):
        raise MaskShapeError(f"{what}: mask of dtype {arr.dtype} is not numeric")
    return arr.astype(bool) if arr.dtype != bool else arr


def error_centre(region: np.ndarray) -> tuple[float, int, int]:
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
        raise MaskShapeError(f"next_click: prediction shape {pred.shape} differs from target shape {target.shape}")
    gt = target_to_bool(target)
    fn_d, fn_r, fn_c = error_centre(gt & ~pred)
    fp_d, fp_r, fp_c = error_centre(~gt & pred)
    if fn_d == 0.0 and fp_d == 0.0:
        return None
    if fn_d > fp_d:
        return Click(x=fn_c, y=fn_r, positive=True)
    return Click(x=fp_c, y=fp_r, positive=False)  # ties go negative

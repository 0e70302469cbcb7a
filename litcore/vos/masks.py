"""Mask primitives shared by the VOS loaders, oracles and writers.

Label maps are uint8 index images (pixel = object id, 0 background, 255 void).
The readers here refuse anything that is not an index image because an RGB
mask has lost its ids (re-quantising colours scrambles them), and silently
guessing would corrupt the ground truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from litcore.errors import DataError
from litcore.vos.video import VOID

# Modes whose pixel values *are* the indices we want.
_INDEX_MODES = ("P", "L", "1")


class MaskFormatError(DataError, ValueError):
    """A mask file that cannot be read as an index (label) image."""


def target_to_bool(target: np.ndarray) -> np.ndarray:
    """Foreground of a target: void (255) counts as background."""
    t = np.asarray(target)
    return (t > 0) & (t != VOID)


def iou(pred: np.ndarray, target: np.ndarray) -> float:
    """IoU of a boolean prediction against a 0/1/255 target, ignoring void.

    Both empty (outside void) is a perfect answer, so it scores 1.0: an absent
    object correctly predicted absent must not look like a failure.
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"iou: prediction shape {pred.shape} differs from target shape {target.shape}")
    valid = target != VOID
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


def davis_palette() -> bytes:
    """PASCAL-VOC colormap (768 bytes): bits of the index are spread over R, G, B."""
    out = bytearray()
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            shift = 7 - j
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        out += bytes((r, g, b))
    return bytes(out)


def read_label_png(path: str | Path) -> np.ndarray:
    """Label map (H, W) uint8 from a mode P/L/1 PNG; the palette is ignored."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()  # decode now so truncated files fail here, not later
            mode = img.mode
            arr = np.asarray(img) if mode in _INDEX_MODES else None
    except (OSError, SyntaxError, ValueError) as e:  # UnidentifiedImageError is an OSError
        raise MaskFormatError(f"cannot read mask {path}: {e}") from e
    if arr is None:
        raise MaskFormatError(
            f"mask {path} has mode {mode!r}; a palette/indexed PNG (mode P or L) is expected, "
            "because colour masks lose their object ids"
        )
    return np.array(arr, dtype=np.uint8)  # mode "1" gives bools -> 0/1


def read_binary_png(path: str | Path) -> np.ndarray:
    """Boolean mask from a per-object PNG (0/1 or 0/255): any non-zero is object."""
    return read_label_png(path) > 0


def write_label_png(path: str | Path, labels: np.ndarray) -> None:
    """Write a label map as a mode-P PNG with the DAVIS palette (what evaluators read)."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"label map for {path} must be 2-D, got shape {labels.shape}")
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError(f"label map for {path} has values outside 0..255")
        labels = labels.astype(np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.frombytes("P", (labels.shape[1], labels.shape[0]), np.ascontiguousarray(labels).tobytes())
    img.putpalette(davis_palette())
    img.save(path)

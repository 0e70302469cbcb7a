"""Label-map PNG I/O shared by the VOS loaders and writers (IoU and clicks: `litcore.masks`).

Label maps are uint8 index images (pixel = object id, 0 background, 255 void).
The readers here refuse anything that is not an index image because an RGB
mask has lost its ids (re-quantising colours scrambles them), and silently
guessing would corrupt the ground truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from litcore.errors import DataError
from litcore.masks import bbox, iou, target_to_bool  # noqa: F401  (task-neutral; re-exported)
from litcore.vos.video import VOID

# Modes whose pixel values *are* the indices we want.
_INDEX_MODES = ("P", "L", "1")


class MaskFormatError(DataError, ValueError):
    """A mask file that cannot be read as an index (label) image."""


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


def unreadable_image(path: Path, exc: BaseException) -> str:
    """Why an image file failed to open, in words that do not depend on Pillow's version."""
    try:
        if path.stat().st_size == 0:
            return "is an empty file (0 bytes)"
    except OSError:
        return "cannot be opened"
    if isinstance(exc, UnidentifiedImageError):
        return "is not an image file (unknown format)"
    return "is truncated or corrupt"


def read_label_png(path: str | Path) -> np.ndarray:
    """Label map (H, W) uint8 from a mode P/L/1 PNG; the palette is ignored."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()  # decode now so truncated files fail here, not later
            mode = img.mode
            arr = np.asarray(img) if mode in _INDEX_MODES else None
    except (OSError, SyntaxError, ValueError) as e:  # UnidentifiedImageError is an OSError
        raise MaskFormatError(f"mask {path} {unreadable_image(path, e)}") from e
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

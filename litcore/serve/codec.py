"""Masks as COCO RLE and images as PNG, with every client-sent value checked.

Encoding uses pycocotools. Decoding a client's RLE is done here in numpy,
never by pycocotools' C decoder: it trusts the counts, and counts that sum to
more than the image would write past its buffer. A bad RLE is a
:class:`BadInput` naming the field, which the app turns into a 400.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image


class BadInput(ValueError):
    """A client-sent value that cannot be used; `field` names it (e.g. `mask.counts`)."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.status = field, status


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """A boolean (H, W) mask as COCO compressed RLE: {"size": [h, w], "counts": str}."""
    from pycocotools import mask as coco

    rle = coco.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode("ascii")}


def _counts_from_string(s: str, field: str) -> list[int]:
    """pycocotools' compressed counts (6-bit chars, deltas after the second run), checked char by char."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            if p >= len(s):
                raise BadInput(field, "truncated compressed counts")
            c = ord(s[p]) - 48
            if not 0 <= c < 64:
                raise BadInput(field, f"character {s[p]!r} at {p} is not compressed RLE")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if k > 7:
                raise BadInput(field, "run length too large")
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def decode_rle(rle: Any, size: tuple[int, int], field: str = "mask") -> np.ndarray:
    """A client's RLE (compressed string or list of ints, column-major) as a boolean (h, w) mask.

    `size` is the image's (height, width); any other size is refused.
    """
    if not isinstance(rle, dict):
        raise BadInput(field, "expected an object {size: [h, w], counts: ...}")
    got = rle.get("size")
    if not (isinstance(got, (list, tuple)) and len(got) == 2 and all(isinstance(v, int) for v in got)):
        raise BadInput(f"{field}.size", "expected [height, width]")
    h, w = size
    if list(got) != [h, w]:
        raise BadInput(f"{field}.size", f"{list(got)} is not the image size [{h}, {w}]")
    raw = rle.get("counts")
    if isinstance(raw, str):
        counts = _counts_from_string(raw, f"{field}.counts")
    elif isinstance(raw, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        counts = list(raw)
    else:
        raise BadInput(f"{field}.counts", "expected a compressed RLE string or a list of integers")
    if any(c < 0 for c in counts):
        raise BadInput(f"{field}.counts", "negative run length")
    if sum(counts) != h * w:
        raise BadInput(f"{field}.counts", f"runs cover {sum(counts)} pixels, the image has {h * w}")
    values = np.arange(len(counts)) % 2 == 1
    flat = np.repeat(values, counts)
    return flat.reshape(w, h).T.copy()


def png_bytes(image: Any) -> bytes:
    """PNG of an RGB array / PIL image."""
    img = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
    """A mask as a grey+alpha PNG: object 255 opaque, background 0 transparent."""
    m = np.asarray(mask, dtype=bool)
    la = np.zeros(m.shape + (2,), np.uint8)
    la[m] = 255
    return png_bytes(Image.fromarray(la, mode="LA"))

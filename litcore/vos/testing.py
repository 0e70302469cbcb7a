"""Tiny synthetic clips for tests of VOS plugins (shipped so third-party plugins can reuse them)."""

from __future__ import annotations

import numpy as np

from litcore.vos.video import ArrayVideo


def moving_boxes(name: str = "toy", frames: int = 6, h: int = 48, w: int = 64, seed: int = 0, *,
                 width: int = 20, wrap: int | None = None, second_box: tuple[int, int, int, int] = (30, 42, 40, 56),
                 second_color: tuple[int, int, int] = (40, 200, 40)) -> ArrayVideo:
    """Object 1 (red box) moves right 2 px a frame; object 2 appears on frame 2.

    `wrap` bounds the horizontal travel (x = 4 + 2t mod wrap) instead of drifting
    from x = 6; a reddish `second_color` makes object 2 a look-alike distractor.
    """
    rng = np.random.default_rng(seed)
    imgs, labs = [], []
    for t in range(frames):
        img = (rng.random((h, w, 3)) * 60).astype(np.uint8)
        lab = np.zeros((h, w), np.uint8)
        x = 6 + 2 * t if wrap is None else 4 + (2 * t) % wrap
        lab[8:24, x:x + width] = 1
        if t >= 2:
            y0, y1, x0, x1 = second_box
            lab[y0:y1, x0:x1] = 2
        img[lab == 1] = (200, 40, 40)
        img[lab == 2] = second_color
        imgs.append(img)
        labs.append(lab)
    return ArrayVideo(name, imgs, labs)

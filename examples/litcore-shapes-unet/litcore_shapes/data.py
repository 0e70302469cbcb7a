"""Generated shape streams: each stream is a target shape and, on some frames, look-alikes in another colour.

Only the colour tells the target from its look-alikes, and it changes from
stream to stream, so the base model cannot know it: the user's corrections can.
"""

from __future__ import annotations

import zlib

import numpy as np

from litcore.task import Episode

SPLITS = ("train", "test")


def _shape(kind: int, size: int, cy: float, cx: float, r: float) -> np.ndarray:
    y, x = np.mgrid[:size, :size].astype(np.float32)
    dy, dx = (y - cy) / r, (x - cx) / r
    return [dy**2 + dx**2 <= 1, np.maximum(abs(dy), abs(dx)) <= 0.8, abs(dy) + abs(dx) <= 1.1,
            (dy <= 0.7) & (abs(dx) <= (dy + 0.9) * 0.6)][kind]


def make_stream(split: str, index: int, frames: int = 24, size: int = 48, seed: int = 0):
    """(images (T, H, W, 3) uint8, masks (T, H, W) uint8); the same arrays on every call and machine."""
    rng = np.random.default_rng([seed, zlib.crc32(split.encode()), index])
    kind, bg = int(rng.integers(4)), rng.uniform(0, 90, 3)
    colours = rng.uniform(60, 255, (2, 3))
    pos, vel = rng.uniform(14, size - 14, 2), rng.uniform(-2.5, 2.5, 2)
    images, masks = [], []
    for t in range(frames):
        pos = pos + vel
        vel = np.where((pos < 12) | (pos > size - 12), -vel, vel)
        img = bg + rng.normal(0, 12, (size, size, 3))
        target = _shape(kind, size, *pos, rng.uniform(6, 9))
        for _ in range(int(rng.integers(1, 3)) if t > 0 and rng.random() < 0.5 else 0):
            other = _shape(kind, size, *rng.uniform(8, size - 8, 2), rng.uniform(6, 10)) & ~target
            img[other] = colours[1] + rng.normal(0, 8, 3)
        img[target] = colours[0] + rng.normal(0, 8, 3)
        images.append(np.clip(img, 0, 255).astype(np.uint8))
        masks.append(target.astype(np.uint8))
    return np.stack(images), np.stack(masks)


class ShapesDataset:
    """`streams` streams of `frames` frames; each stream is one episode and its own group."""

    task = "shapes"

    def __init__(self, root: str | None = None, split: str = "test", streams: int = 8, frames: int = 24,
                 size: int = 48, seed: int = 0) -> None:
        if split not in SPLITS:
            raise ValueError(f"dataset 'shapes': split {split!r}; choose from {', '.join(SPLITS)}")
        self.split, self.streams, self.frames, self.size, self.seed = split, streams, frames, size, seed

    def groups(self) -> list[str]:
        return [f"{self.split}-{i:02d}" for i in range(self.streams)]

    def episodes(self, *, groups=None, objects=None):
        for i, name in enumerate(self.groups()):
            if (groups is None or name in groups) and (objects is None or name in objects):
                yield Episode(name, name, make_stream(self.split, i, self.frames, self.size, self.seed))

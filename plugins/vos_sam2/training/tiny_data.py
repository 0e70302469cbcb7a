"""Clips, augmentation and simulated prompts for training the tiny SAM 2 from scratch.

Everything random draws from one numpy Generator owned by the trainer, so a
run is reproducible from its seed and resumable from the saved generator state.
Videos come from any `make_video(split, index, height=, width=)` callable
(the synthetic benchmark in production, a stand-in in tests).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch

from litcore.vos.clicks import next_click

IMG_MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # SAM 2's (ImageNet) normalisation
IMG_STD = np.array([0.229, 0.224, 0.225], np.float32)
VOID = 255


@dataclass
class Clip:
    """B clips of T frames, one target object each, time-major like SAM 2's training batches."""

    images: torch.Tensor  # (T, B, 3, H, W) float, normalised
    targets: np.ndarray  # (T, B, H, W) uint8: 1 object, 0 background, 255 void


class VideoSource:
    """Videos of one split drawn from a window of indices that slides with the step.

    Rendering a synthetic video costs about as much as a training step, so
    videos are reused: step s draws from indices [int(s * advance), + window),
    i.e. each video serves ~window / advance steps. The window (and so the
    data) depends only on the step and the Generator, never on the cache, so a
    resumed run sees the same videos after re-rendering them.
    """

    def __init__(self, make_video: Callable, split: str, size: int, window: int = 64, advance: float = 0.5):
        self.make_video, self.split, self.size = make_video, split, size
        self.window, self.advance = window, advance
        self._cache: OrderedDict[int, object] = OrderedDict()
        self._pinned: dict[int, object] = {}

    def prerender(self, count: int, workers: int) -> None:
        """Render videos 0..count-1 now, in parallel, and keep them (same videos as on demand)."""
        from concurrent.futures import ProcessPoolExecutor

        render = partial(_render, self.make_video, self.split, self.size)
        with ProcessPoolExecutor(max(1, workers)) as pool:
            self._pinned.update(enumerate(pool.map(render, range(count), chunksize=4)))

    def get(self, index: int):
        if index in self._pinned:
            return self._pinned[index]
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        video = self.make_video(self.split, index, height=self.size, width=self.size)
        self._cache[index] = video
        if len(self._cache) > self.window + 16:
            self._cache.popitem(last=False)
        return video

    def sample(self, rng: np.random.Generator, length: int, base: int, min_pixels: int = 24
               ) -> tuple[np.ndarray, np.ndarray]:
        """One (frames (T,H,W,3), target (T,H,W)) clip whose object is visible on its first frame."""
        for _ in range(100):
            video = self.get(base + int(rng.integers(self.window)))
            stride = 2 if len(video) >= 2 * length and rng.random() < 0.2 else 1
            span = (length - 1) * stride + 1
            if len(video) < span:
                continue
            start = int(rng.integers(len(video) - span + 1))
            idx = list(range(start, start + span, stride))
            first = video.labels(idx[0])
            if first is None:
                continue
            objs = [o for o in video.object_ids if np.count_nonzero(first == o) >= min_pixels]
            if not objs:
                continue
            obj = int(rng.choice(objs))
            masks = [video.object_mask(i, obj) for i in idx]
            if any(m is None for m in masks):
                continue
            return np.stack([video.image(i) for i in idx]), np.stack(masks)
        raise RuntimeError(f"no clip of {length} frames with a visible object in {self.split!r} after 100 draws")


def _render(make_video: Callable, split: str, size: int, index: int):
    return make_video(split, index, height=size, width=size)


def augment(rng: np.random.Generator, frames: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clip-consistent flips, time reversal and colour jitter (per-frame flicker on top)."""
    if rng.random() < 0.5:
        frames, target = frames[:, :, ::-1], target[:, :, ::-1]
    if rng.random() < 0.2:
        frames, target = frames[:, ::-1], target[:, ::-1]
    if rng.random() < 0.2 and np.count_nonzero(target[-1] == 1) >= 24:
        frames, target = frames[::-1], target[::-1]
    x = frames.astype(np.float32) / 255.0
    if rng.random() < 0.1:
        x = x[..., rng.permutation(3)]
    grey = x.mean(axis=-1, keepdims=True)
    x = grey + (x - grey) * rng.uniform(0.7, 1.3)  # saturation
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = mean + (x - mean) * rng.uniform(0.75, 1.25)  # contrast
    x = x * rng.uniform(0.75, 1.25) * rng.uniform(0.95, 1.05, size=(len(x), 1, 1, 1))  # brightness + flicker
    return np.clip(x, 0.0, 1.0), np.ascontiguousarray(target)


def to_model_images(x: np.ndarray) -> torch.Tensor:
    """(..., H, W, 3) floats in [0, 1] -> (..., 3, H, W) normalised as SAM 2's frame loader does."""
    x = (x - IMG_MEAN) / IMG_STD
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, -3), dtype=np.float32))


def sample_batch(source: VideoSource, rng: np.random.Generator, batch: int, length: int, step: int) -> Clip:
    base = int(step * source.advance)
    frames, targets = zip(*(augment(rng, *source.sample(rng, length, base)) for _ in range(batch)))
    images = to_model_images(np.stack(frames, axis=1))  # (T, B, H, W, 3) -> (T, B, 3, H, W)
    return Clip(images, np.stack(targets, axis=1))


# ---- simulated prompts (pixel coordinates of the model input, x right, y down) ----

def _points(coords: list[list[tuple[float, float]]], labels: list[list[int]]) -> dict[str, torch.Tensor]:
    return {
        "point_coords": torch.tensor(coords, dtype=torch.float32).reshape(len(coords), -1, 2),
        "point_labels": torch.tensor(labels, dtype=torch.int32).reshape(len(labels), -1),
    }


def first_click(rng: np.random.Generator, target: np.ndarray) -> tuple[float, float]:
    """A positive click: the object's most interior point (the LIT oracle) or a uniform object pixel."""
    obj = target == 1
    if rng.random() < 0.5:
        c = next_click(np.zeros_like(obj), target)
        if c is not None:
            return float(c.x), float(c.y)
    ys, xs = np.nonzero(obj)
    if len(xs) == 0:  # absent object: a click anywhere (label stays positive, as a confused user)
        return float(rng.integers(target.shape[1])), float(rng.integers(target.shape[0]))
    k = int(rng.integers(len(xs)))
    return float(xs[k]), float(ys[k])


def correction_click(rng: np.random.Generator, pred: np.ndarray, target: np.ndarray) -> tuple[float, float, int]:
    """(x, y, label) fixing `pred`: the error-centre click of the protocol, sometimes a uniform error pixel."""
    gt = target == 1
    if rng.random() < 0.7:
        c = next_click(pred, target)
        if c is not None:
            return float(c.x), float(c.y), int(c.positive)
    err = (gt != pred) & (target != VOID)
    ys, xs = np.nonzero(err)
    if len(xs) == 0:
        x, y = first_click(rng, target)
        return x, y, 1
    k = int(rng.integers(len(xs)))
    return float(xs[k]), float(ys[k]), int(gt[ys[k], xs[k]])


def box_prompt(rng: np.random.Generator, target: np.ndarray) -> list[tuple[float, float]]:
    """The object's box with up to 10% jitter per side (labels 2, 3 = top-left, bottom-right)."""
    ys, xs = np.nonzero(target == 1)
    h, w = target.shape
    if len(xs) == 0:
        return [(0.0, 0.0), (float(w - 1), float(h - 1))]
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    jx, jy = 0.1 * (x1 - x0 + 1), 0.1 * (y1 - y0 + 1)
    x0, x1 = x0 + rng.uniform(-jx, jx), x1 + rng.uniform(-jx, jx)
    y0, y1 = y0 + rng.uniform(-jy, jy), y1 + rng.uniform(-jy, jy)
    x0, x1 = np.clip(sorted((x0, x1)), 0, w - 1)
    y0, y1 = np.clip(sorted((y0, y1)), 0, h - 1)
    return [(float(x0), float(y0)), (float(x1), float(y1))]


def initial_prompts(rng: np.random.Generator, targets: np.ndarray, kind: str) -> dict[str, torch.Tensor]:
    """Batched first prompts of one `kind` ('click' or 'box') so every row has the same point count."""
    if kind == "click":
        return _points([[first_click(rng, t)] for t in targets], [[1] for _ in targets])
    return _points([box_prompt(rng, t) for t in targets], [[2, 3] for _ in targets])


def add_corrections(
    rng: np.random.Generator, prompts: dict[str, torch.Tensor] | None, preds: np.ndarray, targets: np.ndarray
) -> dict[str, torch.Tensor]:
    """Append one correction click per row to `prompts` (None = start a fresh click list)."""
    new = [correction_click(rng, p, t) for p, t in zip(preds, targets)]
    coords = torch.tensor([[(x, y)] for x, y, _ in new], dtype=torch.float32)
    labels = torch.tensor([[lab] for _, _, lab in new], dtype=torch.int32)
    if prompts is None:
        return {"point_coords": coords, "point_labels": labels}
    return {
        "point_coords": torch.cat([prompts["point_coords"], coords], dim=1),
        "point_labels": torch.cat([prompts["point_labels"], labels], dim=1),
    }

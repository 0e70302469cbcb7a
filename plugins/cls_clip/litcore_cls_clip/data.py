"""Classification data as LIT episodes: class streams (default) or one shuffled stream.

Why class streams: the paper's CLIP numbers (about 13 corrections on CUB,
Cars and SUN397) fit "user corrections per class stream" (a class's ~30-50
test images at CLIP's zero-shot accuracy), the analogue of "per video". A
stream's order is shuffled with a seed derived from (seed, stream id), so it
does not depend on which other streams run. ``stream="all"`` is the harder
variant: the whole test set, shuffled, as one episode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from litcore.errors import DataError
from litcore.loop import derive_seed
from litcore.task import Episode

STREAMS = ("class", "all")
ALL = "all"


@dataclass(frozen=True)
class ImageRef:
    """One test image: a file, or a function that draws it (synthetic data)."""

    name: str
    label: int
    path: Path | None = None
    make: Callable[[], Image.Image] | None = None

    def load(self) -> Image.Image:
        if self.make is not None:
            return self.make().convert("RGB")
        if self.path is None or not self.path.is_file():
            raise DataError(f"image {self.path} not found")
        try:
            with Image.open(self.path) as im:
                return im.convert("RGB")
        except OSError as exc:
            raise DataError(f"cannot read image {self.path}: {exc}") from exc


@dataclass
class ClassStream:
    """Payload of a classification episode: every class (for prompts) and the stream's images."""

    classes: list[str]
    templates: tuple[str, ...]
    images: list[ImageRef]


def stream_id(label: int, name: str) -> str:
    """A stable, shell-friendly group name: ``001.Black_footed_Albatross``."""
    return f"{label + 1:03d}." + (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "class")


def check_templates(templates) -> tuple[str, ...]:
    out = tuple([templates] if isinstance(templates, str) else templates)
    bad = [t for t in out if not isinstance(t, str) or "{}" not in t]
    if not out or bad:
        raise ValueError(f"prompt templates must be strings containing '{{}}' for the class name, got {bad or out}")
    return out


def require_file(path: Path, what: str = "file") -> Path:
    """The path itself, or a DataError naming it (missing dataset files are the usual mistake)."""
    if not path.is_file():
        raise DataError(f"{what} {path} not found")
    return path


def read_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in require_file(path).read_text().splitlines() if ln.strip()]


class ClassificationDataset:
    """Images with labels plus readable class names, served as LIT episodes."""

    task = "classification"

    def __init__(self, name: str, classes: list[str], images: list[ImageRef], templates, *, stream: str = "class",
                 seed: int = 0, max_per_stream: int | None = None) -> None:
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; choose from {', '.join(STREAMS)}")
        if len(classes) < 2:
            raise DataError(f"{name}: need at least 2 classes, found {len(classes)}")
        self.name, self.classes, self.images = name, list(classes), list(images)
        self.templates = check_templates(templates)
        self.stream, self.seed = stream, int(seed)
        self.max_per_stream = None if max_per_stream is None else int(max_per_stream)
        self._ids = [stream_id(i, c) for i, c in enumerate(self.classes)]

    def groups(self) -> list[str]:
        if self.stream == ALL:
            return [ALL]
        present = {ref.label for ref in self.images}
        return [g for i, g in enumerate(self._ids) if i in present]

    def _stream(self, group: str) -> list[ImageRef]:
        if group == ALL:
            refs = self.images
        else:
            label = self._ids.index(group)
            refs = [r for r in self.images if r.label == label]
        order = np.random.default_rng(derive_seed(self.seed, f"{self.name}:{group}")).permutation(len(refs))
        refs = [refs[i] for i in order]
        return refs if self.max_per_stream is None else refs[: self.max_per_stream]

    def episodes(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> Iterator[Episode]:
        if objects:
            raise ValueError("classification streams have no objects; select class streams with --groups")
        names = self.groups()
        if groups:
            unknown = [g for g in groups if g not in names]
            if unknown:
                more = "..." if len(names) > 8 else ""
                raise KeyError(f"unknown class stream(s) {unknown}; available: {names[:8]}{more}")
            names = [n for n in names if n in groups]
        for group in names:
            refs = self._stream(group)
            meta = {"dataset": self.name, "images": len(refs), "stream": self.stream}
            if group != ALL:
                meta["class"] = self.classes[self._ids.index(group)]
            yield Episode(group, group, ClassStream(self.classes, self.templates, refs), meta)

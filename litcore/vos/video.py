"""Videos as the VOS plugins see them: ordered frames, lazily loaded, with sparse ground truth.

A `Video` hides where frames come from (a DAVIS-style folder, an in-memory
synthetic clip) so trackers, oracles and writers never touch file layouts.
Annotations are *label maps*: uint8 arrays where the pixel value is the object
id, 0 is background and 255 (`VOID`) is ignored by every metric.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

VOID = 255


class Video(ABC):
    """An ordered list of frames, each with an optional label map."""

    name: str

    @property
    @abstractmethod
    def frame_names(self) -> list[str]:
        """Frame stems in temporal order (used to name output files)."""

    @abstractmethod
    def image(self, index: int) -> np.ndarray:
        """RGB uint8 array (H, W, 3) of frame `index` (position, not the file number)."""

    @abstractmethod
    def labels(self, index: int) -> np.ndarray | None:
        """uint8 label map (H, W) of frame `index`, or None where the frame is not annotated."""

    @property
    @abstractmethod
    def size(self) -> tuple[int, int]:
        """(height, width) shared by every frame and label map."""

    @property
    @abstractmethod
    def object_ids(self) -> list[int]:
        """Ids of the objects annotated anywhere in the video, ascending, never 0 or VOID."""

    def __len__(self) -> int:
        return len(self.frame_names)

    def annotated_indices(self) -> list[int]:
        """Positions of frames that carry ground truth."""
        return [i for i in range(len(self)) if self.labels(i) is not None]

    def object_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        """Target of one object on one frame: uint8 with 1 = object, 0 = background, 255 = void.

        None where the frame has no ground truth, and also where every pixel
        is void: such a frame has nothing to score (docs/protocol.md), and
        scoring it would give a free IoU of 1.
        """
        lab = self.labels(index)
        if lab is None or (lab == VOID).all():
            return None
        out = (lab == obj_id).astype(np.uint8)
        out[lab == VOID] = VOID
        return out

    def first_appearance(self, obj_id: int) -> int | None:
        """First annotated frame where the object has at least one pixel."""
        for i in self.annotated_indices():
            if np.any(self.labels(i) == obj_id):
                return i
        return None


@dataclass
class ArrayVideo(Video):
    """A video held in memory (synthetic benchmarks, tests)."""

    name: str
    frames: list[np.ndarray]
    label_maps: list[np.ndarray | None]
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError(f"video {self.name!r} has no frames")
        if len(self.label_maps) != len(self.frames):
            raise ValueError(
                f"video {self.name!r}: {len(self.frames)} frames but {len(self.label_maps)} label maps"
            )
        if not self.names:
            self.names = [f"{i:05d}" for i in range(len(self.frames))]
        h, w = self.frames[0].shape[:2]
        for i, (img, lab) in enumerate(zip(self.frames, self.label_maps)):
            if img.shape[:2] != (h, w):
                raise ValueError(f"video {self.name!r}: frame {self.names[i]} is {img.shape[:2]}, expected {(h, w)}")
            if lab is not None and lab.shape != (h, w):
                raise ValueError(f"video {self.name!r}: mask {self.names[i]} is {lab.shape}, expected {(h, w)}")

    @property
    def frame_names(self) -> list[str]:
        return self.names

    def image(self, index: int) -> np.ndarray:
        return self.frames[index]

    def labels(self, index: int) -> np.ndarray | None:
        return self.label_maps[index]

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.frames[0].shape[:2])  # type: ignore[return-value]

    @property
    def object_ids(self) -> list[int]:
        ids: set[int] = set()
        for lab in self.label_maps:
            if lab is not None:
                ids.update(int(v) for v in np.unique(lab))
        ids.discard(0)
        ids.discard(VOID)
        return sorted(ids)

"""DAVIS-2017-format datasets (also SA-V style per-object folders) as `Video`s.

Everything is lazy: frame headers are read for sizes, pixels only on demand,
so opening a large benchmark costs a directory listing. Every error names the
file, folder or video at fault, because a broken benchmark folder should be
fixable from the message alone.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from litcore.errors import DataError
from litcore.vos.masks import MaskFormatError, read_binary_png, read_label_png, unreadable_image, write_label_png
from litcore.vos.video import VOID, Video

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
_TRAILING_DIGITS = re.compile(r"(\d+)$")


class DatasetError(DataError):
    """A dataset folder that does not have the expected layout or content."""


def frame_number(path: Path) -> int:
    """Temporal position key of a frame file: the integer in its stem's trailing digits.

    Works for `00012`, `frame00012` (VOST) and 8-digit LVOS names alike.
    """
    m = _TRAILING_DIGITS.search(path.stem)
    if m is None:
        raise DatasetError(f"frame file {path} has no trailing digits in its name; cannot order it")
    return int(m.group(1))


def _visible(folder: Path) -> list[Path]:
    """Entries of a folder minus hidden ones (`.DS_Store`, macOS `._00000.jpg` forks)."""
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _sorted_frames(frames_dir: Path) -> list[Path]:
    files = [p for p in _visible(frames_dir) if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    if not files:
        raise DatasetError(f"no frames (*.jpg, *.jpeg, *.png) in {frames_dir}")
    seen: dict[int, Path] = {}
    for p in files:
        n = frame_number(p)
        if n in seen:
            raise DatasetError(f"frames {seen[n]} and {p} have the same number {n}")
        seen[n] = p
    return [seen[n] for n in sorted(seen)]


class FolderVideo(Video):
    """One video folder: frames in `frames_dir`, masks in `annotations_dir`.

    Masks are either palette PNGs `<stem>.png` or per-object folders
    `<obj_id>/<stem>.png` (SA-V). Folder id 0 would collide with background,
    so if it occurs all ids are shifted by +1; `id_map` gives the original.
    """

    def __init__(self, frames_dir: str | Path, annotations_dir: str | Path,
                 name: str | None = None, cache_size: int = 16) -> None:
        self.frames_dir = Path(frames_dir)
        self.annotations_dir = Path(annotations_dir)
        self.name = name if name is not None else self.frames_dir.name
        if not self.frames_dir.is_dir():
            raise DatasetError(f"video {self.name!r}: frame folder {self.frames_dir} does not exist")
        if not self.annotations_dir.is_dir():
            raise DatasetError(f"video {self.name!r}: annotation folder {self.annotations_dir} does not exist")
        self._frames = _sorted_frames(self.frames_dir)
        self._stems = [p.stem for p in self._frames]
        index_of = {s: i for i, s in enumerate(self._stems)}
        self._cache: OrderedDict[int, tuple[np.ndarray, dict[int, np.ndarray]]] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._frame_ids: dict[int, frozenset[int]] = {}
        self._size: tuple[int, int] | None = None

        entries = _visible(self.annotations_dir)
        pngs = sorted(p for p in entries if p.is_file() and p.suffix.lower() == ".png")
        dirs = sorted(p for p in entries if p.is_dir())
        if pngs and dirs:
            raise DatasetError(f"annotation folder {self.annotations_dir} mixes mask files and per-object folders")
        self.per_object = bool(dirs)
        # frame index -> palette mask path, or -> {internal id: mask path}
        self._palette: dict[int, Path] = {}
        self._objects: dict[int, dict[int, Path]] = {}
        self.id_map: dict[int, int] = {}
        if self.per_object:
            self._scan_objects(dirs, index_of)
        else:
            for p in pngs:
                self._palette[self._match(p, index_of)] = p
        self._annotated = sorted(self._objects if self.per_object else self._palette)

    def _match(self, mask: Path, index_of: dict[str, int]) -> int:
        if mask.stem not in index_of:
            raise DatasetError(f"mask {mask} has no matching frame (missing frame {mask.stem}.* in {self.frames_dir})")
        return index_of[mask.stem]

    def _scan_objects(self, dirs: list[Path], index_of: dict[str, int]) -> None:
        original: dict[int, Path] = {}
        for d in dirs:
            if not d.name.isdigit():
                raise DatasetError(f"per-object folder {d} is not named by an integer object id")
            oid = int(d.name)
            if oid in original:
                raise DatasetError(f"per-object folders {original[oid]} and {d} have the same id {oid}")
            original[oid] = d
        shift = 1 if 0 in original else 0
        for oid, d in sorted(original.items()):
            internal = oid + shift
            if internal >= VOID:
                raise DatasetError(f"per-object folder {d}: id {oid} does not fit below the void label {VOID}")
            self.id_map[internal] = oid
            for p in sorted(q for q in _visible(d) if q.suffix.lower() == ".png"):
                self._objects.setdefault(self._match(p, index_of), {})[internal] = p

    # -- Video interface -------------------------------------------------
    @property
    def frame_names(self) -> list[str]:
        return list(self._stems)

    @property
    def size(self) -> tuple[int, int]:
        if self._size is None:
            self._size = self._frame_size(0)
        return self._size

    def _frame_size(self, index: int) -> tuple[int, int]:
        path = self._frames[index]
        try:
            with Image.open(path) as img:
                w, h = img.size
        except (OSError, SyntaxError, ValueError) as e:
            raise DatasetError(f"video {self.name!r}: frame {path} {unreadable_image(path, e)}") from e
        return h, w

    def image(self, index: int) -> np.ndarray:
        path = self._frames[index]
        try:
            with Image.open(path) as img:
                arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
        except (OSError, SyntaxError, ValueError) as e:
            raise DatasetError(f"video {self.name!r}: frame {path} {unreadable_image(path, e)}") from e
        if arr.shape[:2] != self.size:
            (h, w), (h0, w0) = arr.shape[:2], self.size
            raise DatasetError(f"video {self.name!r}: frame {path} is {h}x{w} (HxW) but frame {self._frames[0]} "
                               f"is {h0}x{w0}")
        return arr

    def annotated_indices(self) -> list[int]:
        return list(self._annotated)

    def _read_mask(self, path: Path, index: int, binary: bool) -> np.ndarray:
        try:
            mask = read_binary_png(path) if binary else read_label_png(path)
        except MaskFormatError as e:
            raise DatasetError(f"video {self.name!r}: {e}") from e
        expected = self._frame_size(index)
        if mask.shape != expected:
            raise DatasetError(
                f"video {self.name!r}: mask {path} is {mask.shape[0]}x{mask.shape[1]} (HxW) but frame "
                f"{self._frames[index]} is {expected[0]}x{expected[1]}"
            )
        return mask

    def _load(self, index: int) -> tuple[np.ndarray, dict[int, np.ndarray]] | None:
        """(label map, per-object bool masks) of a frame, via the LRU cache."""
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        if self.per_object:
            files = self._objects.get(index)
            if files is None:
                return None
            objs = {oid: self._read_mask(p, index, binary=True) for oid, p in files.items()}
            lab = np.zeros(self._frame_size(index), dtype=np.uint8)
            for oid in sorted(objs, reverse=True):  # lower ids overwrite higher ones
                lab[objs[oid]] = oid
            ids = frozenset(o for o, m in objs.items() if m.any())
        else:
            path = self._palette.get(index)
            if path is None:
                return None
            lab = self._read_mask(path, index, binary=False)
            objs = {}
            ids = frozenset(int(v) for v in np.unique(lab)) - {0, VOID}
        self._frame_ids[index] = ids
        entry = (lab, objs)
        self._cache[index] = entry
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)  # least recently used
        return entry

    def labels(self, index: int) -> np.ndarray | None:
        entry = self._load(index)
        return None if entry is None else entry[0].copy()

    def object_mask(self, index: int, obj_id: int) -> np.ndarray | None:
        if not self.per_object:
            return super().object_mask(index, obj_id)
        entry = self._load(index)
        if entry is None or obj_id not in entry[1]:
            return None  # no file for this object here: no ground truth, not "absent"
        return entry[1][obj_id].astype(np.uint8)

    def _ids_of(self, index: int) -> frozenset[int]:
        if index not in self._frame_ids:
            self._load(index)
        return self._frame_ids.get(index, frozenset())

    @property
    def object_ids(self) -> list[int]:
        if self.per_object:
            return sorted(self.id_map)  # every object folder is an annotated object
        ids: set[int] = set()
        for i in self._annotated:
            ids |= self._ids_of(i)
        return sorted(ids)

    def first_appearance(self, obj_id: int) -> int | None:
        for i in self._annotated:
            if obj_id in self._ids_of(i):
                return i
        return None


class DavisDataset:
    """A DAVIS-layout root: `JPEGImages/`, `Annotations/` and optional `ImageSets/` lists.

    DAVIS's own `480p` resolution subfolder is used when present, so the
    official download and flat synthetic trees open the same way.
    """

    def __init__(self, root: str | Path, split: str | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DatasetError(f"dataset root {self.root} does not exist")
        self.frames_root = self._subfolder("JPEGImages")
        self.annotations_root = self._subfolder("Annotations")
        self.split = split
        if split is None:
            names = [p.name for p in _visible(self.frames_root) if p.is_dir()]
        else:
            names = self._read_split(split)
        self._names = sorted(set(names))

    def _subfolder(self, kind: str) -> Path:
        path = self.root / kind
        if not path.is_dir():
            raise DatasetError(f"dataset root {self.root} has no {kind}/ folder (expected {path})")
        return path / "480p" if (path / "480p").is_dir() else path

    def _read_split(self, split: str) -> list[str]:
        candidates = [self.root / "ImageSets" / f"{split}.txt", self.root / "ImageSets" / "2017" / f"{split}.txt"]
        for path in candidates:
            if path.is_file():
                lines = path.read_text().splitlines()
                return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
        tried = ", ".join(str(p) for p in candidates)
        raise DatasetError(f"split {split!r}: no list file found (tried {tried})")

    def video_names(self) -> list[str]:
        return list(self._names)

    def video(self, name: str) -> FolderVideo:
        if name not in self._names:
            shown = ", ".join(self._names[:5]) + (", ..." if len(self._names) > 5 else "")
            where = f"split {self.split!r}" if self.split else str(self.frames_root)
            raise DatasetError(f"unknown video {name!r} in {where}; available: {shown or 'none'}")
        frames = self.frames_root / name
        if not frames.is_dir():
            raise DatasetError(f"video {name!r} is listed but its frame folder {frames} does not exist")
        return FolderVideo(frames, self.annotations_root / name, name=name)

    def videos(self, names: list[str] | None = None) -> Iterator[FolderVideo]:
        for name in self._names if names is None else names:
            yield self.video(name)


def write_davis(video: Video, root: str | Path) -> None:
    """Write a video as a flat DAVIS tree (JPEG frames, palette masks of annotated frames)."""
    root = Path(root)
    frames_dir = root / "JPEGImages" / video.name
    ann_dir = root / "Annotations" / video.name
    frames_dir.mkdir(parents=True, exist_ok=True)
    ann_dir.mkdir(parents=True, exist_ok=True)  # even with no annotation, the video stays loadable
    for i, stem in enumerate(video.frame_names):
        Image.fromarray(np.asarray(video.image(i), dtype=np.uint8)).convert("RGB").save(
            frames_dir / f"{stem}.jpg", quality=95)
        lab = video.labels(i)
        if lab is not None:
            write_label_png(ann_dir / f"{stem}.png", lab)

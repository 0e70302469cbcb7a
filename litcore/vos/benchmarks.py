"""Loaders for the paper's benchmarks: VOST, LVOS v2, MOSEv2 and SA-V val/test.

All four are DAVIS-like folders that :class:`~litcore.vos.davis.FolderVideo`
already reads (sparse and `frameNNNNN` names, void 255, per-object folders).
What differs, and lives here, is where frames and masks sit, where the video
list comes from, and which protocol choice (objects appearing later) the paper
used with each (`/work/shared/reference/datasets.md` §3, lit protocol §8).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from litcore.vos.davis import DatasetError, FolderVideo


def read_list(path: Path) -> list[str]:
    """Video names from a split file, one per line; VOST's lack of a final newline is fine."""
    if not path.is_file():
        raise DatasetError(f"split list {path} does not exist")
    names = [ln.strip() for ln in path.read_text().splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if not names:
        raise DatasetError(f"split list {path} names no video")
    return names


def _need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{what}: folder {path} does not exist")
    return path


class FolderDataset:
    """Named videos: frames in `frames_root/<name>`, masks in `annotations_root/<name>`.

    `check` runs on every opened video so a dataset can refuse content the
    protocol cannot use (MOSEv2's first-frame-only public GT).
    """

    def __init__(self, frames_root: Path, annotations_root: Path, names: list[str], *, source: str,
                 check: Callable[[FolderVideo], None] | None = None) -> None:
        self.frames_root = _need_dir(frames_root, source)
        self.annotations_root = _need_dir(annotations_root, source)
        self.source = source
        self._names = list(dict.fromkeys(names))  # list order, duplicates dropped
        self._check = check
        self.meta: dict | None = None  # LVOS: the meta file's per-video entries

    def video_names(self) -> list[str]:
        return list(self._names)

    def video(self, name: str) -> FolderVideo:
        if name not in self._names:
            shown = ", ".join(self._names[:5]) + (", ..." if len(self._names) > 5 else "")
            raise DatasetError(f"unknown video {name!r} in {self.source}; available: {shown}")
        frames = self.frames_root / name
        if not frames.is_dir():
            raise DatasetError(f"{self.source}: video {name!r} is listed but its frame folder {frames} does not exist")
        ann = self.annotations_root / name
        if not ann.is_dir():
            raise DatasetError(f"{self.source}: video {name!r} has no annotation folder {ann}")
        video = FolderVideo(frames, ann, name=name)
        if self._check is not None:
            self._check(video)
        return video


def vost(root: str | Path, split: str = "val", frames: str = "JPEGImages") -> FolderDataset:
    """VOST: `JPEGImages/<seq>/frameNNNNN.jpg`, palette masks with void 255, `ImageSets/<split>.txt`.

    `frames="JPEGImages_10fps"` propagates through the denser frames; the ones
    without a mask are then processed but not checked.
    """
    root = _need_dir(Path(root), "VOST root")
    names = read_list(root / "ImageSets" / f"{split}.txt")
    return FolderDataset(root / frames, root / "Annotations", names, source=f"VOST {split} ({root})")


def _lvos_split_dir(root: Path, split: str) -> Path:
    if (root / "JPEGImages").is_dir():
        return root  # pointed straight at the split folder
    # the v2 README says val/, the evaluator and most code say valid/: accept both
    aliases = {"valid": ["valid", "val"], "val": ["val", "valid"]}.get(split, [split])
    for name in aliases:
        if (root / name / "JPEGImages").is_dir():
            return root / name
    tried = ", ".join(str(root / a / "JPEGImages") for a in aliases)
    raise DatasetError(f"LVOS root {root}: no split folder for {split!r} (tried {tried})")


def lvos(root: str | Path, split: str = "valid") -> FolderDataset:
    """LVOS v2: 8-digit sparse frame names, videos listed by the keys of `<split>_meta.json`."""
    root = _need_dir(Path(root), "LVOS root")
    split_dir = _lvos_split_dir(root, split)
    candidates = [split_dir / f"{split}_meta.json", split_dir / "valid_meta.json", split_dir / "val_meta.json",
                  root / f"{split}_meta.json"]
    meta_path = next((p for p in candidates if p.is_file()), None)
    if meta_path is None:
        raise DatasetError(f"LVOS {split}: no meta file (tried {', '.join(map(str, candidates))})")
    try:
        meta = json.loads(meta_path.read_text())
        videos = meta["videos"]
        names = sorted(videos)
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise DatasetError(f"LVOS meta file {meta_path} is not of the form {{'videos': {{id: ...}}}}: {e}") from e
    if not names:
        raise DatasetError(f"LVOS meta file {meta_path} lists no video")
    ds = FolderDataset(split_dir / "JPEGImages", split_dir / "Annotations", names, source=f"LVOS {split} ({meta_path})")
    ds.meta = videos
    return ds


def _full_gt(video: FolderVideo) -> None:
    if len(video) > 1 and len(video.annotated_indices()) <= 1:
        raise DatasetError(
            f"MOSEv2 video {video.name!r}: only one annotated frame in {video.annotations_dir}; the live "
            "protocol needs full ground truth (MOSEv2 valid/test GT is not public: use a held-out train "
            "subset with video_list=, or pass require_full_gt=false)")


def mose(root: str | Path, split: str = "valid", video_list: str | None = None,
         require_full_gt: bool = True) -> FolderDataset:
    """MOSEv2 (DAVIS-like): `<split>/{JPEGImages,Annotations}`; all folders, or those in `video_list`."""
    root = _need_dir(Path(root), "MOSEv2 root")
    split_dir = root / split if (root / split / "JPEGImages").is_dir() else root
    frames = _need_dir(split_dir / "JPEGImages", f"MOSEv2 {split}")
    if video_list is not None:
        names = read_list(Path(video_list))
    else:
        names = sorted(p.name for p in frames.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not names:
            raise DatasetError(f"MOSEv2 {split}: no video folder in {frames}")
    return FolderDataset(frames, split_dir / "Annotations", names, source=f"MOSEv2 {split} ({split_dir})",
                         check=_full_gt if require_full_gt else None)


def sav(root: str | Path, split: str = "val") -> FolderDataset:
    """SA-V val/test: 24 fps `JPEGImages_24fps`, per-object `Annotations_6fps/<vid>/<obj:03d>/` PNGs.

    Every frame is propagated; only the 6 fps frames that have an object's PNG
    are checked. Object folder 000 becomes id 1 (`FolderVideo.id_map` keeps 0).
    """
    root = Path(root)
    split_dir = root / f"sav_{split}" if (root / f"sav_{split}").is_dir() else root
    _need_dir(split_dir, f"SA-V {split}")
    names = read_list(split_dir / f"sav_{split}.txt")
    return FolderDataset(split_dir / "JPEGImages_24fps", split_dir / "Annotations_6fps", names,
                         source=f"SA-V {split} ({split_dir})")

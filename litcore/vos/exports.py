"""Predicted masks out of a run: compact `.npz`, DAVIS palette PNGs, per-object PNGs, COCO RLE.

The official evaluators, CVAT and Label Studio each read one of these layouts,
so a run's masks are useful beyond our own metrics. `MaskWriter` consumes the
loop's records (their `output` is the kept mask); `export_run` rebuilds every
format later from the `.npz` files saved with `lit run --save-masks`.
"""

from __future__ import annotations

import functools
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from litcore.errors import DataError
from litcore.vos.masks import write_label_png

FORMATS = ("npz", "palette", "per-object", "coco")
NPZ_DIR, PALETTE_DIR, PER_OBJECT_DIR, COCO_FILE = "saved_masks", "masks", "masks_per_object", "annotations.coco.json"


@dataclass
class EpisodeMasks:
    """One object's kept masks, bit-packed per frame (a 1080p frame costs 260 kB, not 2 MB)."""

    video: str
    obj: int                                   # internal id: the palette value
    label: str                                 # per-object folder name (the dataset's own id, 3 digits)
    shape: tuple[int, int]
    frames: list[str] = field(default_factory=list)
    packed: list[np.ndarray] = field(default_factory=list)
    all_frames: list[str] = field(default_factory=list)  # the whole video, for frames before the prompt

    def add(self, name: str, mask: np.ndarray) -> None:
        self.frames.append(name)
        self.packed.append(np.packbits(np.asarray(mask, dtype=bool), axis=None))

    def mask(self, i: int) -> np.ndarray:
        h, w = self.shape
        return np.unpackbits(self.packed[i], count=h * w).reshape(h, w).astype(bool)

    def by_frame(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.frames)}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        bits = np.stack(self.packed) if self.packed else np.zeros((0, 0), np.uint8)
        np.savez_compressed(path, bits=bits, shape=np.array(self.shape), frames=np.array(self.frames),
                            all_frames=np.array(self.all_frames), video=self.video, obj=self.obj, label=self.label)

    @classmethod
    def load(cls, path: Path) -> "EpisodeMasks":
        try:
            with np.load(path) as z:
                ep = cls(str(z["video"]), int(z["obj"]), str(z["label"]), tuple(int(v) for v in z["shape"]),
                         [str(f) for f in z["frames"]], list(z["bits"]), [str(f) for f in z["all_frames"]])
        except (OSError, KeyError, ValueError) as e:
            raise DataError(f"saved mask file {path} is unreadable: {e}") from e
        return ep


def _frame_order(episodes: list[EpisodeMasks]) -> list[str]:
    for ep in episodes:
        if ep.all_frames:
            return list(ep.all_frames)
    seen: dict[str, None] = {}
    for ep in episodes:
        seen.update(dict.fromkeys(ep.frames))
    return list(seen)


def write_per_object(ep: EpisodeMasks, root: Path) -> None:
    """`root/<video>/<label>/<frame>.png`, 0/1 mode P, for every frame (empty before the prompt)."""
    index = ep.by_frame()
    empty = np.zeros(ep.shape, np.uint8)
    for name in ep.all_frames or ep.frames:
        lab = ep.mask(index[name]).astype(np.uint8) if name in index else empty
        write_label_png(root / ep.video / ep.label / f"{name}.png", lab)


def merge_labels(episodes: list[EpisodeMasks], name: str, shape: tuple[int, int],
                 index: dict[int, dict[str, int]] | None = None) -> np.ndarray:
    """Label map of one frame: higher ids are painted first, lower ids overwrite them (LIT's merge).

    `index` (obj -> `by_frame()`) saves rebuilding each episode's frame index per frame.
    """
    lab = np.zeros(shape, np.uint8)
    for ep in sorted(episodes, key=lambda e: e.obj, reverse=True):
        i = (index[ep.obj] if index is not None else ep.by_frame()).get(name)
        if i is not None:
            lab[ep.mask(i)] = ep.obj
    return lab


def write_palette(episodes: list[EpisodeMasks], root: Path) -> None:
    """`root/<video>/<frame>.png`: one DAVIS palette PNG per frame of the video."""
    if not episodes:
        return
    shape = episodes[0].shape
    index = {ep.obj: ep.by_frame() for ep in episodes}
    for name in _frame_order(episodes):
        write_label_png(root / episodes[0].video / f"{name}.png", merge_labels(episodes, name, shape, index))


class CocoBuilder:
    """COCO JSON with RLE segmentations: images = frames, one annotation per object and frame it covers."""

    def __init__(self) -> None:
        self.videos: list[dict[str, Any]] = []
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []

    def add_video(self, episodes: list[EpisodeMasks]) -> None:
        from pycocotools import mask as mask_utils

        if not episodes:
            return
        video, (h, w) = episodes[0].video, episodes[0].shape
        vid = len(self.videos) + 1
        self.videos.append({"id": vid, "name": video})
        image_id = {}
        for t, name in enumerate(_frame_order(episodes)):
            image_id[name] = len(self.images) + 1
            self.images.append({"id": image_id[name], "file_name": f"{video}/{name}.jpg", "height": h, "width": w,
                                "video_id": vid, "frame_index": t, "frame": name})
        for ep in sorted(episodes, key=lambda e: e.obj):
            for i, name in enumerate(ep.frames):
                m = ep.mask(i)
                if not m.any():
                    continue  # absent on this frame: COCO has no empty annotations
                rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
                self.annotations.append({
                    "id": len(self.annotations) + 1, "image_id": image_id[name], "category_id": 1,
                    "segmentation": {"size": [h, w], "counts": rle["counts"].decode("ascii")},
                    "area": int(mask_utils.area(rle)), "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                    "iscrowd": 0, "track_id": ep.obj, "object": ep.label, "episode_id": f"{video}/{ep.obj}"})

    def to_json(self) -> dict[str, Any]:
        return {"info": {"description": "litcore predicted masks", "mask_encoding": "COCO compressed RLE"},
                "categories": [{"id": 1, "name": "object"}], "videos": self.videos,
                "images": self.images, "annotations": self.annotations}

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json()))
        tmp.replace(path)


def decode_annotation(ann: dict[str, Any]) -> np.ndarray:
    """Boolean mask of one COCO annotation (for tests and downstream tools)."""
    from pycocotools import mask as mask_utils

    seg = ann["segmentation"]
    rle = {"size": seg["size"], "counts": seg["counts"].encode("ascii")}
    with warnings.catch_warnings():  # pycocotools 2.0.x trips NumPy 2's `copy=` deprecation inside decode
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(f.strip() for f in formats if f.strip()))
    unknown = [f for f in out if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown mask format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if "coco" in out:
        try:
            import pycocotools  # noqa: F401
        except ImportError as e:
            raise ValueError("the coco format needs pycocotools (pip install pycocotools)") from e
    return out


class MaskWriter:
    """Loop consumer: `.npz` and per-object PNGs per finished episode, palette PNGs per finished video.

    The `.npz` files are the durable copy (a crash keeps every finished
    episode); the COCO file, one JSON for the whole run, is written at `close()`.
    """

    def __init__(self, out_dir: str | Path, formats: Iterable[str] = ("npz",),
                 video_of: Callable[[str], Any] | None = None) -> None:
        self.dir = Path(out_dir)
        self.formats = check_formats(formats)
        self.video_of = video_of
        self._episode: EpisodeMasks | None = None
        self._done: list[EpisodeMasks] = []   # finished objects of the current video
        self.coco = CocoBuilder()

    def _new_episode(self, rec: Any, shape: tuple[int, int]) -> EpisodeMasks:
        obj = int(rec.episode_id.rsplit("/", 1)[1])
        video = self.video_of(rec.group) if self.video_of is not None else None
        id_map = getattr(video, "id_map", None) or {}
        frames = list(video.frame_names) if video is not None else []
        return EpisodeMasks(rec.group, obj, f"{id_map.get(obj, obj):03d}", shape, all_frames=frames)

    def write(self, rec: Any) -> None:
        if self._done and rec.group != self._done[0].video:
            self.finish_video()
        if getattr(rec, "kind", None) == "episode":
            ep, self._episode = self._episode, None
            if ep is not None and ep.video == rec.group and f"{ep.video}/{ep.obj}" == rec.episode_id:
                self.finish_episode(ep)
            return
        if rec.output is None:
            return
        mask = np.asarray(rec.output).astype(bool)
        mask = mask.reshape(mask.shape[-2:]) if mask.ndim > 2 else mask
        ep = self._episode
        if ep is None or f"{ep.video}/{ep.obj}" != rec.episode_id:
            ep = self._episode = self._new_episode(rec, mask.shape)  # an unfinished one is dropped
        ep.add(rec.name, mask)

    def finish_episode(self, ep: EpisodeMasks) -> None:
        if "npz" in self.formats:
            ep.save(self.dir / NPZ_DIR / ep.video / f"{ep.obj}.npz")
        if "per-object" in self.formats:
            write_per_object(ep, self.dir / PER_OBJECT_DIR)
        self._done.append(ep)

    def finish_video(self) -> None:
        if "palette" in self.formats:
            write_palette(self._done, self.dir / PALETTE_DIR)
        if "coco" in self.formats:
            self.coco.add_video(self._done)
        self._done = []

    def close(self) -> None:
        """Flush the last video; the COCO file is written once, here (rewriting it per video is quadratic)."""
        self._episode = None
        if self._done:
            self.finish_video()
        if "coco" in self.formats:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.coco.save(self.dir / COCO_FILE)


def run_consumers(dataset: Any, out: str | Path, *, save_masks: str | None = None, jf: bool = False) -> list:
    """The mask writer and J&F consumers of one VOS run, sharing one opened video at a time."""
    if not save_masks and not jf:
        return []
    if getattr(dataset, "task", None) != "vos" or not hasattr(dataset, "video"):
        raise ValueError("--save-masks and --jf need a VOS dataset that can open its videos")
    video_of = functools.lru_cache(maxsize=1)(dataset.video)  # synthetic videos are rendered on open
    consumers: list = []
    if save_masks:
        consumers.append(MaskWriter(out, save_masks.split(","), video_of=video_of))
    if jf:
        from litcore.vos.jf import JFWriter

        consumers.append(JFWriter(out, video_of))
    return consumers


def export_run(run_dir: str | Path, formats: Iterable[str], out: str | Path | None = None) -> Path:
    """Write `formats` from the `.npz` masks a run saved; returns the output folder."""
    run_dir = Path(run_dir)
    src = run_dir / NPZ_DIR
    files = sorted(src.glob("*/*.npz")) if src.is_dir() else []
    if not files:
        raise DataError(f"{src}: no saved masks (run `lit run ... --save-masks` to keep them)")
    writer = MaskWriter(out or run_dir, [f for f in check_formats(formats) if f != "npz"])
    videos: dict[str, list[EpisodeMasks]] = {}
    for path in files:
        ep = EpisodeMasks.load(path)
        videos.setdefault(ep.video, []).append(ep)
    for video in sorted(videos):
        for ep in sorted(videos[video], key=lambda e: e.obj):
            writer.finish_episode(ep)
        writer.finish_video()
    writer.close()
    return writer.dir

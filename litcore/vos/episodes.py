"""VOS episodes: one object of one video, in the order the LIT protocol runs them.

A video that yields no episode is an error that says why (an empty folder,
masks that are all background or all void, no object on the first frame),
because "0 episodes" with exit 0 hides a broken benchmark folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np

from litcore.errors import DataError
from litcore.task import Episode
from litcore.vos.video import VOID, Video


class NoEpisodeError(DataError):
    """A video (or a selection) that gives no episode to run; the message names the folder and why."""


@dataclass(frozen=True)
class VideoObject:
    """Payload of a VOS episode: the object is prompted with its mask on `start`."""

    video: Video
    obj_id: int
    start: int


def _prompt_frame(video: Video, obj_id: int, annotated: list[int], appearing_later: bool) -> int | None:
    start = video.first_appearance(obj_id) if appearing_later else annotated[0]
    if start is None:
        return None
    target = video.object_mask(start, obj_id)
    return start if target is not None and (target == 1).any() else None


def video_object_episodes(videos: Iterable[Video], *, objects: list[str] | None = None,
                          appearing_later: bool = True) -> Iterator[Episode]:
    """Episodes for each object of each video, objects in ascending id.

    `objects` restricts to ids ("2") or "video/id" pairs; a video without any
    of them is skipped. With `appearing_later` an object is prompted on its
    first non-empty annotated frame (LVOS-style); otherwise only objects
    present on the first annotated frame are run. Without `objects`, a video
    that gives no episode raises `NoEpisodeError`.
    """
    wanted = set(objects or [])
    for video in videos:
        annotated = video.annotated_indices()
        found = 0
        for obj_id in video.object_ids if annotated else []:
            if wanted and str(obj_id) not in wanted and f"{video.name}/{obj_id}" not in wanted:
                continue
            start = _prompt_frame(video, obj_id, annotated, appearing_later)
            if start is None:
                continue
            found += 1
            yield Episode(f"{video.name}/{obj_id}", video.name, VideoObject(video, obj_id, start),
                          {"video": video.name, "object": obj_id, "start_frame": video.frame_names[start]})
        if not found and not wanted:
            raise NoEpisodeError(f"video {video.name!r} has no object to run: {why_no_episode(video, appearing_later)}")


def why_no_episode(video: Video, appearing_later: bool = True) -> str:
    """Why `video` yields no episode, naming its annotation folder (read only on this error path)."""
    folder = getattr(video, "annotations_dir", None)
    where = f"the masks in {folder}" if folder is not None else "its masks"
    annotated = video.annotated_indices()
    if not annotated:
        if folder is not None and not any(p for p in folder.iterdir() if not p.name.startswith(".")):
            return f"its annotation folder {folder} is empty"
        return f"no frame has a mask ({folder or 'no label map'})"
    if video.object_ids:
        if getattr(video, "per_object", False) and all(video.first_appearance(o) is None for o in video.object_ids):
            return f"every per-object mask in {folder} is empty"
        first = video.frame_names[annotated[0]]
        return (f"no object is on its first annotated frame {first} and appearing_later is off "
                "(--dataset-opt appearing_later=true prompts each object where it first appears)")
    values: set[int] = set()
    for i in annotated:
        lab = video.labels(i)
        if lab is not None:
            values.update(int(v) for v in np.unique(lab))
    if values == {0}:
        return f"{where} are all background (0)"
    if values == {VOID}:
        return f"{where} are all void ({VOID})"
    return (f"{where} hold only background (0) and void ({VOID}); {VOID} marks void, not an object, so a binary "
            f"0/255 mask needs ids 1-254 in a palette mask, or per-object folders {folder or '<annotations>'}/<id>/")


class VideoDataset:
    """Adapts any source of `Video`s to the core's Dataset protocol."""

    task = "vos"

    def __init__(self, names: Callable[[], list[str]], load: Callable[[str], Video],
                 appearing_later: bool = True) -> None:
        self._names, self._load, self.appearing_later = names, load, appearing_later

    def video_names(self) -> list[str]:
        return self._names()

    def groups(self) -> list[str]:
        return self._names()

    def video(self, name: str) -> Video:
        """Open one video (mask exporters and J&F need its frame list and ground truth)."""
        return self._load(name)

    def _unknown(self, names: list[str], asked: list[str], flag: str) -> None:
        unknown = [g for g in asked if g not in names]
        if unknown:
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            raise NoEpisodeError(f"{flag}: unknown video{'s' if len(unknown) > 1 else ''} "
                                 f"{', '.join(map(repr, unknown))}; available: {shown or 'none'}")

    def check_selection(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> None:
        """Refuse, before anything runs, videos that do not exist and object ids that occur nowhere.

        Bare ids scan the videos' ids only until each is found, so the usual
        case opens one video; an id that exists nowhere costs one pass.
        """
        names = self._names()
        if groups:
            self._unknown(names, groups, "--groups")
        if not objects:
            return
        scope = [n for n in names if n in groups] if groups else names
        missing: dict[str, None] = {}
        for entry in objects:
            video, _, oid = entry.rpartition("/")
            if not oid.isdigit():
                raise NoEpisodeError(f"--objects: {entry!r} is not an object id or a video/id pair")
            if video:
                self._unknown(names, [video], f"--objects {entry}")
                ids = self._load(video).object_ids
                if int(oid) not in ids:
                    raise NoEpisodeError(f"--objects {entry}: video {video!r} has no object {oid} "
                                         f"(its objects: {', '.join(map(str, ids)) or 'none'})")
            else:
                missing[str(int(oid))] = None
        seen: set[int] = set()
        for name in scope:
            if not missing:
                return
            ids = self._load(name).object_ids
            seen.update(ids)
            for i in ids:
                missing.pop(str(i), None)
        if missing:
            where = f" of {', '.join(map(repr, scope))}" if groups else " of the dataset"
            raise NoEpisodeError(f"--objects: object id{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                                 f"{'are' if len(missing) > 1 else 'is'} in no video{where} (ids found: {', '.join(map(str, sorted(seen))) or 'none'})")

    def episodes(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> Iterator[Episode]:
        names = self._names()
        if groups:
            self._unknown(names, groups, "--groups")
            names = [n for n in names if n in groups]
        videos = (self._load(n) for n in names)
        yield from video_object_episodes(videos, objects=objects, appearing_later=self.appearing_later)

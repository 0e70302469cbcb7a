"""VOS episodes: one object of one video, in the order the LIT protocol runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from litcore.task import Episode
from litcore.vos.video import Video


@dataclass(frozen=True)
class VideoObject:
    """Payload of a VOS episode: the object is prompted with its mask on `start`."""

    video: Video
    obj_id: int
    start: int


def video_object_episodes(videos: Iterable[Video], *, objects: list[str] | None = None,
                          appearing_later: bool = True) -> Iterator[Episode]:
    """Episodes for each object of each video, objects in ascending id.

    `objects` restricts to ids ("2") or "video/id" pairs. With
    `appearing_later` an object is prompted on its first non-empty annotated
    frame (LVOS-style); otherwise only objects present on the first annotated
    frame are run. Objects whose prompt mask is empty are skipped.
    """
    wanted = set(objects or [])
    for video in videos:
        annotated = video.annotated_indices()
        if not annotated:
            continue
        for obj_id in video.object_ids:
            if wanted and str(obj_id) not in wanted and f"{video.name}/{obj_id}" not in wanted:
                continue
            start = video.first_appearance(obj_id) if appearing_later else annotated[0]
            if start is None or not (video.object_mask(start, obj_id) == 1).any():
                continue
            yield Episode(f"{video.name}/{obj_id}", video.name, VideoObject(video, obj_id, start),
                          {"video": video.name, "object": obj_id, "start_frame": video.frame_names[start]})


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

    def episodes(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> Iterator[Episode]:
        names = self._names()
        if groups:
            unknown = [g for g in groups if g not in names]
            if unknown:
                raise KeyError(f"unknown video(s) {unknown}; available: {names[:10]}{'...' if len(names) > 10 else ''}")
            names = [n for n in names if n in groups]
        videos = (self._load(n) for n in names)
        yield from video_object_episodes(videos, objects=objects, appearing_later=self.appearing_later)

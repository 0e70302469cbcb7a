"""How a person sees a task's items: images, predictions as JSON, actions from JSON.

The session API is task-neutral; only this module knows that a VOS episode
shows video frames with a mask ("mask": COCO RLE) and a classification
episode shows images with the top-5 labels ("labels"). Both are chosen from
the episode payload (litcore.vos's `VideoObject`; any payload with `classes`
and `images`, as the CLIP plugin's class streams have).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from litcore.errors import LitcoreError
from litcore.serve.codec import BadInput, decode_rle, encode_rle
from litcore.task import Episode
from litcore.types import Action, Click, LabelAction, MaskAction
from litcore.vos.episodes import VideoObject

EXPORT_FORMATS = ("palette", "per-object", "coco")


class UnservableError(LitcoreError):
    """A dataset whose episodes `lit serve` cannot show."""


class MaskView:
    """Video frames with one object's mask; clicks and painted masks correct it."""

    kind = "mask"

    def __init__(self, episodes: list[Episode]) -> None:
        self.video = episodes[0].payload.video
        self.length = len(self.video)
        self.height, self.width = self.video.size
        self.labels: list[str] | None = None

    def image(self, index: int) -> Any:
        return self.video.image(index)

    def names(self) -> list[str]:
        return list(self.video.frame_names)

    @staticmethod
    def object_name(episode: Episode) -> str:
        return str(episode.payload.obj_id)

    @staticmethod
    def first_index(episode: Episode) -> int:
        return int(episode.payload.start)

    def prediction(self, pred: Any, scores: Any = None) -> dict[str, Any]:
        mask = np.asarray(pred, dtype=bool)
        return {"mask": encode_rle(mask.reshape(mask.shape[-2:]))}

    def action(self, body: dict[str, Any]) -> Action:
        kind = body.get("kind")
        if kind == "click":
            x, y = body.get("x"), body.get("y")
            for name, v, n in (("x", x, self.width), ("y", y, self.height)):
                if not isinstance(v, int) or isinstance(v, bool):
                    raise BadInput(name, "expected an integer pixel coordinate")
                if not 0 <= v < n:
                    raise BadInput(name, f"{v} is outside the image (0..{n - 1})")
            positive = body.get("positive", True)
            if not isinstance(positive, bool):
                raise BadInput("positive", "expected true or false")
            return Click(x=x, y=y, positive=positive)
        if kind == "mask":
            mask = decode_rle(body.get("mask"), (self.height, self.width), "mask")
            return MaskAction(mask=mask.astype(np.uint8))
        raise BadInput("kind", f"{kind!r} is not an action on a video: use click or mask")

    def export(self, episodes: list[tuple[Episode, dict[int, Any]]], fmt: str) -> tuple[bytes, str, str]:
        """(body, media type, file name) of the kept masks of every (episode, kept outputs)."""
        from litcore.vos.exports import CocoBuilder, EpisodeMasks, write_palette, write_per_object

        if fmt not in EXPORT_FORMATS:
            raise BadInput("format", f"{fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
        names = self.names()
        id_map = getattr(self.video, "id_map", None) or {}
        masks = []
        for episode, kept in episodes:
            obj = int(episode.payload.obj_id)
            em = EpisodeMasks(self.video.name, obj, f"{id_map.get(obj, obj):03d}", (self.height, self.width),
                              all_frames=names)
            for t in sorted(kept):
                em.add(names[t], np.asarray(kept[t], dtype=bool))
            masks.append(em)
        if fmt == "coco":
            import json

            coco = CocoBuilder()
            coco.add_video(masks)
            return json.dumps(coco.to_json()).encode(), "application/json", f"{self.video.name}.coco.json"
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            if fmt == "palette":
                write_palette(masks, root)
            else:
                for em in masks:
                    write_per_object(em, root)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(root.rglob("*.png")):
                    z.write(f, f.relative_to(root).as_posix())
        return buf.getvalue(), "application/zip", f"{self.video.name}.{fmt}.zip"


class LabelView:
    """A stream of images with the model's top-5 labels; the person picks the right label."""

    kind = "labels"
    top = 5

    def __init__(self, episodes: list[Episode]) -> None:
        payload = episodes[0].payload
        self.images = payload.images
        self.labels = list(payload.classes)
        self.length = len(self.images)
        self.height = self.width = None

    def image(self, index: int) -> Any:
        return self.images[index].load()

    def names(self) -> list[str]:
        return [ref.name for ref in self.images]

    @staticmethod
    def object_name(episode: Episode) -> str:
        return episode.episode_id

    @staticmethod
    def first_index(episode: Episode) -> int:
        return 0

    def prediction(self, pred: Any, scores: Any = None) -> dict[str, Any]:
        label = int(pred)
        probs = np.asarray(scores, dtype=float) if scores is not None else None
        order = list(np.argsort(-probs, kind="stable")) if probs is not None else []
        ranked = [label] + [int(i) for i in order if int(i) != label][: self.top - 1]
        return {"labels": [{"label": i, "name": self.labels[i],
                            "prob": None if probs is None else round(float(probs[i]), 6)} for i in ranked]}

    def action(self, body: dict[str, Any]) -> Action:
        if body.get("kind") != "label":
            raise BadInput("kind", f"{body.get('kind')!r} is not an action on an image stream: use label")
        label, name = body.get("label"), body.get("label_name")
        if label is None and isinstance(name, str):
            if name not in self.labels:
                raise BadInput("label_name", f"{name!r} is not in the label set")
            label = self.labels.index(name)
        if not isinstance(label, int) or isinstance(label, bool):
            raise BadInput("label", "expected a label index")
        if not 0 <= label < len(self.labels):
            raise BadInput("label", f"{label} is not in the label set (0..{len(self.labels) - 1})")
        return LabelAction(label=label)

    def export(self, episodes, fmt: str):
        raise BadInput("format", "exports are masks: this session classifies images", status=409)


def view_for(episodes: list[Episode]) -> MaskView | LabelView:
    if not episodes:
        raise UnservableError("the group has no episodes to annotate")
    payload = episodes[0].payload
    if isinstance(payload, VideoObject):
        return MaskView(episodes)
    if hasattr(payload, "classes") and hasattr(payload, "images"):
        return LabelView(episodes)
    raise UnservableError(f"lit serve cannot show episodes whose payload is a {type(payload).__name__}")

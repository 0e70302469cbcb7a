"""What `lit serve` offers: the dataset's groups (videos, class streams), checked to stay inside the root.

Clients name groups, never paths: a group must be one the dataset listed, so
no request can make the server open an arbitrary file. Groups that reach a
symlink pointing out of `--root` are left out of the gallery altogether.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from litcore.serve.codec import BadInput, png_bytes
from litcore.serve.views import view_for
from litcore.task import Episode


def escaping_links(root: str | Path) -> list[Path]:
    """Symlinks under `root` (relative paths) whose target lies outside it."""
    base = Path(root).resolve()
    out = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                target = p.resolve()
                if target != base and base not in target.parents:
                    out.append(p.relative_to(base))
    return out


class Gallery:
    """The served model, oracle (for scores when ground truth exists) and the dataset's groups."""

    def __init__(self, dataset: Any, model: Any, oracle: Any = None, *, root: str | Path | None = None,
                 info: dict[str, Any] | None = None) -> None:
        self.dataset, self.model, self.oracle = dataset, model, oracle
        self.group_noun = getattr(model, "group_noun", "group")
        groups = list(dataset.groups())
        self.refused: list[str] = []
        if root is not None and Path(root).is_dir():
            bad = escaping_links(root)
            parts = {part for p in bad for part in p.parts}
            self.refused = [g for g in groups if g in parts]
            groups = [g for g in groups if g not in parts]
        self.groups = groups
        self._info = info or {}
        self._episodes: dict[str, list[Episode]] = {}
        self._lock = threading.Lock()

    def _load(self, group: str) -> list[Episode]:
        if group not in self.groups:
            raise BadInput("group", f"{group!r} is not in the gallery", status=404)
        with self._lock:
            if group not in self._episodes:
                self._episodes[group] = list(self.dataset.episodes(groups=[group]))
            return self._episodes[group]

    def episodes(self, group: str, obj: str | None = None):
        """(episodes, view) of one group, optionally one object of it."""
        eps = self._load(group)
        if not eps:
            raise BadInput("group", f"{group!r} has nothing to annotate", status=404)
        view = view_for(eps)
        if obj is not None:
            eps = [e for e in eps if view.object_name(e) == obj]
            if not eps:
                raise BadInput("object", f"{obj!r} is not an object of {group!r}", status=404)
        return eps, view

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for g in self.groups:
            eps, view = self.episodes(g)
            out.append({"group": g, "objects": [view.object_name(e) for e in eps], "length": view.length,
                        "kind": view.kind, "thumbnail": f"/api/gallery/{g}/thumbnail"})
        return out

    def thumbnail(self, group: str, size: int = 160) -> bytes:
        eps, view = self.episodes(group)
        img = view.image(view.first_index(eps[0]))
        img = img if isinstance(img, Image.Image) else Image.fromarray(np.asarray(img, dtype=np.uint8))
        img = img.copy()
        img.thumbnail((size, size))
        return png_bytes(img)

    def info(self) -> dict[str, Any]:
        kind = None
        if self.groups:
            kind = self.episodes(self.groups[0])[1].kind
        return {"task": getattr(self.model, "task", "task"), "kind": kind, "group_noun": self.group_noun,
                **self._info}

"""J (region IoU) and F (boundary F-measure) as the DAVIS-2017 evaluator defines them.

Our own numpy/scipy implementation, so runs report J&F without the official
tools (which disagree on NumPy versions, reference datasets.md §1.5). Exported
masks still feed the official evaluators for publishable numbers; the
differences are documented in docs/benchmarks.md (void handling, last frame).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import ndimage

from litcore.vos.video import VOID

BOUND_TH = 0.008  # DAVIS: tolerance = ceil(0.008 * image diagonal) pixels


def _split(pred: np.ndarray, gt: np.ndarray, ignore_void: bool) -> tuple[np.ndarray, np.ndarray]:
    """Boolean prediction and ground truth; with `ignore_void`, void pixels leave both."""
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground-truth shape {gt.shape}")
    void = gt == VOID
    p = pred.astype(bool)
    g = (gt > 0) & ~void
    if ignore_void:
        p = p & ~void
    return p, g


def region_j(pred: np.ndarray, gt: np.ndarray, ignore_void: bool = True) -> float:
    """IoU; an empty prediction of an empty object is perfect (1.0).

    With `ignore_void=False` void counts as background, so predicting it is a
    false positive: the official VOST evaluator's rule.
    """
    p, g = _split(pred, gt, ignore_void)
    union = np.count_nonzero(p | g)
    return 1.0 if union == 0 else np.count_nonzero(p & g) / union


def boundary_map(seg: np.ndarray) -> np.ndarray:
    """Boundary pixels by the DAVIS rule: a pixel differs from its right, lower or lower-right neighbour.

    Outside the image counts as background, except that the last row only
    looks right, the last column only looks down and the corner never counts.
    """
    s = np.asarray(seg, dtype=bool)
    right = np.zeros_like(s)
    right[:, :-1] = s[:, 1:]
    down = np.zeros_like(s)
    down[:-1, :] = s[1:, :]
    diag = np.zeros_like(s)
    diag[:-1, :-1] = s[1:, 1:]
    b = (s != right) | (s != down) | (s != diag)
    b[-1, :] = s[-1, :] != right[-1, :]
    b[:, -1] = s[:, -1] != down[:, -1]
    b[-1, -1] = False
    return b


def tolerance(shape: tuple[int, ...], bound_th: float = BOUND_TH) -> int:
    """Match radius in pixels: `bound_th` itself if >= 1, else ceil(bound_th * ||(H, W)||)."""
    return int(bound_th) if bound_th >= 1 else int(math.ceil(bound_th * math.hypot(shape[0], shape[1])))


def _within(b: np.ndarray, other: np.ndarray, radius: int) -> int:
    """How many pixels of `b` lie within Euclidean distance `radius` of a pixel of `other`.

    Equal to dilating `other` with a disk {dy^2 + dx^2 <= r^2}, done with a
    distance transform on the bounding box of both maps (fast at 1080p).
    """
    ys, xs = np.nonzero(b | other)
    y0, x0 = max(ys.min() - radius - 1, 0), max(xs.min() - radius - 1, 0)
    y1, x1 = ys.max() + radius + 2, xs.max() + radius + 2
    sub_b, sub_o = b[y0:y1, x0:x1], other[y0:y1, x0:x1]
    dist = ndimage.distance_transform_edt(~sub_o)
    return int(np.count_nonzero(sub_b & (dist * dist <= radius * radius + 1e-6)))


def boundary_pr(pred: np.ndarray, gt: np.ndarray, bound_th: float = BOUND_TH,
                ignore_void: bool = True) -> tuple[float, float]:
    """Boundary precision and recall; the empty cases follow the DAVIS evaluator."""
    p, g = _split(pred, gt, ignore_void)
    pb, gb = boundary_map(p), boundary_map(g)
    n_p, n_g = int(pb.sum()), int(gb.sum())
    if n_p == 0 and n_g == 0:
        return 1.0, 1.0
    if n_p == 0:
        return 1.0, 0.0
    if n_g == 0:
        return 0.0, 1.0
    r = tolerance(p.shape, bound_th)
    return _within(pb, gb, r) / n_p, _within(gb, pb, r) / n_g


def boundary_f(pred: np.ndarray, gt: np.ndarray, bound_th: float = BOUND_TH, ignore_void: bool = True) -> float:
    precision, recall = boundary_pr(pred, gt, bound_th, ignore_void)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def last_quarter(values: list[float]) -> list[float]:
    """VOST's J_last frames: from floor(0.75 n) to the end."""
    return values[int(math.floor(0.75 * len(values))):]


@dataclass
class ObjectScores:
    """Per-frame J and F of one object (one episode), in frame order."""

    episode_id: str
    video: str
    frames: list[str] = field(default_factory=list)
    j: list[float] = field(default_factory=list)
    f: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        jm, fm = _mean(self.j), _mean(self.f)
        return {"episode_id": self.episode_id, "video": self.video, "frames": len(self.j), "J": jm, "F": fm,
                "JF": None if jm is None else (jm + fm) / 2, "J_last": _mean(last_quarter(self.j)),
                "J_recall": _mean([float(v > 0.5) for v in self.j]),
                "F_recall": _mean([float(v > 0.5) for v in self.f])}


def aggregate(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-video means over objects, and totals: DAVIS-style mean over all objects and mean over videos."""
    keys = ("J", "F", "JF", "J_last")
    by_video: dict[str, list[dict[str, Any]]] = {}
    for o in objects:
        if o["J"] is not None:
            by_video.setdefault(o["video"], []).append(o)
    videos = {v: {k: _mean([o[k] for o in objs]) for k in keys} | {"objects": len(objs)}
              for v, objs in by_video.items()}
    scored = [o for objs in by_video.values() for o in objs]
    totals: dict[str, Any] = {k: _mean([o[k] for o in scored]) for k in keys}
    totals |= {f"{k}_per_video": _mean([v[k] for v in videos.values()]) for k in keys}
    totals |= {"objects": len(scored), "videos": len(videos)}
    return {"objects": objects, "videos": videos, "totals": totals}


class JFWriter:
    """Loop consumer: J and F of every checked frame's kept mask; `jf.json`/`jf.csv` per episode.

    The ground truth comes from `video_of(name)` (the dataset), because step
    records carry the prediction but not the target.
    """

    CSV = ("episode_id", "video", "frames", "J", "F", "JF", "J_last", "J_recall", "F_recall")

    def __init__(self, run_dir: str | Path, video_of: Callable[[str], Any], ignore_void: bool = True,
                 bound_th: float = BOUND_TH) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.video_of, self.ignore_void, self.bound_th = video_of, ignore_void, bound_th
        self._video: Any = None
        self._current: ObjectScores | None = None
        self.objects: list[dict[str, Any]] = []

    def _open(self, name: str) -> Any:
        if self._video is None or self._video.name != name:
            self._video = self.video_of(name)
        return self._video

    def write(self, rec: Any) -> None:
        if getattr(rec, "kind", None) == "episode":
            scores = self._current
            if scores is None or scores.episode_id != rec.episode_id:
                scores = ObjectScores(rec.episode_id, rec.group)
            self.objects.append(scores.summary())
            self._current = None
            self._flush()
            return
        if not rec.checked or rec.output is None:
            return
        if self._current is None or self._current.episode_id != rec.episode_id:
            # a new episode (one that failed mid-way never sent its end record: drop its frames)
            self._current = ObjectScores(rec.episode_id, rec.group)
        obj = int(rec.episode_id.rsplit("/", 1)[1])
        gt = self._open(rec.group).object_mask(rec.index, obj)
        pred = np.asarray(rec.output)
        self._current.frames.append(rec.name)
        self._current.j.append(region_j(pred, gt, self.ignore_void))
        self._current.f.append(boundary_f(pred, gt, self.bound_th, self.ignore_void))

    def resume(self, finished: Any) -> None:
        """Continue a run: keep the scores of episodes the interrupted attempt finished."""
        old = load_jf(self.dir) or {}
        self.objects = [o for o in old.get("objects", []) if o.get("episode_id") in finished]
        self._flush()

    def close(self) -> None:
        self._video = None

    def _flush(self) -> None:
        result = aggregate(self.objects)
        result["settings"] = {"ignore_void": self.ignore_void, "bound_th": self.bound_th,
                              "frames": "checked frames (prompt frame excluded, last frame kept)"}
        tmp = self.dir / "jf.json.tmp"
        tmp.write_text(json.dumps(result, indent=2))
        tmp.replace(self.dir / "jf.json")
        with open(self.dir / "jf.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(self.CSV)
            for o in self.objects:
                w.writerow(["" if o[k] is None else (f"{o[k]:.4f}" if isinstance(o[k], float) else o[k])
                            for k in self.CSV])


def load_jf(run_dir: str | Path) -> dict[str, Any] | None:
    path = Path(run_dir) / "jf.json"
    return json.loads(path.read_text()) if path.is_file() else None


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
    keys = ("J", "F", "JF", "J_last") + tuple(k for k in ("JF_unmerged",) if any(k in o for o in objects))
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
    """Loop consumer: J and F of every checked frame, on the masks the official evaluator would read.

    A palette dataset (DAVIS, VOST, MOSEv2, LVOS, synthetic) is evaluated from
    merged palette PNGs, where lower ids overwrite higher ones on overlaps;
    scoring each object's own mask would then disagree with the official
    number. So an object's J and F here are computed on the merged label map of
    its video (exactly `exports.merge_labels`, what `lit export --format
    palette` writes); its own unmerged mask gives `J_unmerged`/`F_unmerged`/
    `JF_unmerged`. A per-object dataset (SA-V) is evaluated per object, so
    there both are the same mask. Scores are therefore written per finished
    video. The ground truth comes from `video_of(name)` (the dataset).
    """

    CSV = ("episode_id", "video", "frames", "J", "F", "JF", "J_last", "J_recall", "F_recall", "JF_unmerged")

    def __init__(self, run_dir: str | Path, video_of: Callable[[str], Any], ignore_void: bool = True,
                 bound_th: float = BOUND_TH) -> None:
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.video_of, self.ignore_void, self.bound_th = video_of, ignore_void, bound_th
        self._episode: tuple[Any, list[tuple[int, str]]] | None = None  # (EpisodeMasks, checked frames)
        self._done: list[tuple[Any, list[tuple[int, str]]]] = []       # finished objects of the current video
        self.objects: list[dict[str, Any]] = []

    def write(self, rec: Any) -> None:
        from litcore.vos.exports import EpisodeMasks

        if self._done and rec.group != self._done[0][0].video:
            self.finish_video()
        if getattr(rec, "kind", None) == "episode":
            current, self._episode = self._episode, None
            if current is not None and f"{current[0].video}/{current[0].obj}" == rec.episode_id:
                self._done.append(current)
            else:  # an episode without any kept mask: nothing checked
                self._done.append((EpisodeMasks(rec.group, _obj(rec.episode_id), "", (0, 0)), []))
            return
        if rec.output is None:
            return
        mask = np.asarray(rec.output).astype(bool)
        mask = mask.reshape(mask.shape[-2:]) if mask.ndim > 2 else mask
        if self._episode is None or f"{self._episode[0].video}/{self._episode[0].obj}" != rec.episode_id:
            # a new episode (one that failed mid-way never sent its end record: its frames are dropped)
            self._episode = (EpisodeMasks(rec.group, _obj(rec.episode_id), "", mask.shape), [])
        self._episode[0].add(rec.name, mask)
        if rec.checked:
            self._episode[1].append((rec.index, rec.name))

    def finish_video(self) -> None:
        """Score every finished object of the current video, frame by frame on its merged label map."""
        from litcore.vos.exports import merge_labels

        done, self._done = self._done, []
        if not done:
            return
        video = self.video_of(done[0][0].video)
        merged = not getattr(video, "per_object", False)
        with_masks = [ep for ep, _ in done if ep.frames]
        scores = {ep.obj: (ObjectScores(f"{ep.video}/{ep.obj}", ep.video), ObjectScores("", ep.video))
                  for ep, _ in done}
        wanted: dict[str, list[tuple[Any, int]]] = {}
        for ep, checked in done:
            for index, name in checked:
                wanted.setdefault(name, []).append((ep, index))
        frame_index = {ep.obj: ep.by_frame() for ep in with_masks}
        order = list(getattr(video, "frame_names", [])) or list(wanted)
        for name in [n for n in order if n in wanted]:
            lab = merge_labels(with_masks, name, with_masks[0].shape, frame_index) if merged else None
            for ep, index in wanted[name]:
                gt = video.object_mask(index, ep.obj)
                if gt is None:
                    continue
                own = ep.mask(frame_index[ep.obj][name])
                official, unmerged = scores[ep.obj]
                for target, pred in ((official, lab == ep.obj if merged else own), (unmerged, own)):
                    target.frames.append(name)
                    target.j.append(region_j(pred, gt, self.ignore_void))
                    target.f.append(boundary_f(pred, gt, self.bound_th, self.ignore_void))
        for ep, _ in done:
            official, unmerged = scores[ep.obj]
            row = official.summary()
            extra = unmerged.summary()
            row |= {"J_unmerged": extra["J"], "F_unmerged": extra["F"], "JF_unmerged": extra["JF"]}
            self.objects.append(row)
        self._flush(merged)

    def close(self) -> None:
        self._episode = None
        self.finish_video()

    def _flush(self, merged: bool = True) -> None:
        result = aggregate(self.objects)
        result["settings"] = {"ignore_void": self.ignore_void, "bound_th": self.bound_th,
                              "frames": "checked frames (prompt frame excluded, last frame kept)",
                              "masks": "merged palette (lower ids overwrite higher ones), as exported for the "
                                       "official evaluator" if merged else "per object, as exported (SA-V)"}
        tmp = self.dir / "jf.json.tmp"
        tmp.write_text(json.dumps(result, indent=2))
        tmp.replace(self.dir / "jf.json")
        with open(self.dir / "jf.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(self.CSV)
            for o in self.objects:
                w.writerow(["" if o[k] is None else (f"{o[k]:.4f}" if isinstance(o[k], float) else o[k])
                            for k in self.CSV])


def _obj(episode_id: str) -> int:
    return int(episode_id.rsplit("/", 1)[1])


def load_jf(run_dir: str | Path) -> dict[str, Any] | None:
    path = Path(run_dir) / "jf.json"
    return json.loads(path.read_text()) if path.is_file() else None


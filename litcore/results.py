"""Result files, written per episode as it finishes so a crash loses nothing done.

Layout of a run directory::

    manifest.json   config, versions, seed, plugins, "status" (written first, updated at the end)
    steps.jsonl     one JSON object per item (appended after each episode, one write() per episode)
    episodes.csv    one row per episode (appended after each episode, one write())
    summary.json    per-episode metrics, per-group sums and totals (rewritten atomically after each
                    episode: the commit point; an episode is finished iff it is listed here)

Resuming and clearing an existing directory: `litcore.rundir`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import sys
from importlib import metadata as md
from pathlib import Path
from typing import Any, Iterable

from litcore.diagnostics import learning_warning
from litcore.loop import EpisodeRecord, StepRecord
from litcore.rundir import Resume, append_atomic, read_jsonl

CSV_FIELDS = ["episode_id", "group", "checked", "user_corrections", "clicks", "point_corrections",
              "mask_corrections", "auto_corrections", "updates", "update_seconds_mean", "J", "seconds"]
SUMMED = ["checked", "user_corrections", "clicks", "point_corrections", "mask_corrections",
          "auto_corrections", "updates", "updates_unfit", "update_seconds_total"]


def versions(dists: Iterable[str] = ("litcore", "torch", "numpy", "peft", "sam2", "pluggy")) -> dict[str, str]:
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for d in dists:
        try:
            out[d] = md.version(d)
        except md.PackageNotFoundError:
            pass
    return out


def _clean(value: Any) -> Any:
    """JSON without NaN (written as null) so every reader accepts the files."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class RunWriter:
    """Consumes loop records and keeps the run directory up to date."""

    def __init__(self, out_dir: str | Path, manifest: dict[str, Any], resume: Resume | None = None) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._pending: list[dict[str, Any]] = []
        self.episodes: list[dict[str, Any]] = list(resume.episodes) if resume else []
        keep = {ep["episode_id"] for ep in self.episodes}
        steps = [s for s in read_jsonl(self.dir / "steps.jsonl") if s.get("episode_id") in keep] if resume else []
        self._replace("steps.jsonl", "".join(json.dumps(s) + "\n" for s in steps))  # drops a cut-off episode
        self._replace("episodes.csv", _csv_line(CSV_FIELDS) + "".join(_csv_row(ep) for ep in self.episodes))
        self.manifest = {**manifest, "versions": versions(), "status": "running"}
        if resume:
            self.manifest["attempts"] = int(resume.manifest.get("attempts", 1)) + 1
        self._write_json("manifest.json", self.manifest)
        self._write_summary()

    def write(self, rec: StepRecord | EpisodeRecord) -> None:
        if isinstance(rec, StepRecord):
            self._pending.append(_clean(rec.to_json()))
            return
        append_atomic(self.dir / "steps.jsonl", "".join(json.dumps(row) + "\n" for row in self._pending))
        self._pending.clear()
        row = _clean({"episode_id": rec.episode_id, "group": rec.group, **rec.metrics, "seconds": rec.seconds})
        self.episodes.append(row)  # NaN (no checked item) is null in JSON and an empty CSV cell
        self._write_summary()      # the commit point: from here on the episode counts as finished
        append_atomic(self.dir / "episodes.csv", _csv_row(row))

    def finish(self, status: str, order: dict[str, tuple[int, int]] | None = None) -> None:
        """Mark the run complete/failed/stopped; with `order`, rewrite the records in dataset order.

        A resumed run appends its reruns after the episodes kept from the
        earlier attempt; sorting by (group, episode) position makes its files
        those of an uninterrupted run.
        """
        if order:
            rank = {e: order.get(e, (len(order), i)) for i, e in enumerate(ep["episode_id"] for ep in self.episodes)}
            self.episodes.sort(key=lambda ep: rank[ep["episode_id"]])
            steps = read_jsonl(self.dir / "steps.jsonl")
            steps.sort(key=lambda st: rank.get(st["episode_id"], (len(order), 0)))  # stable: item order kept
            self._replace("steps.jsonl", "".join(json.dumps(st) + "\n" for st in steps))
            self._replace("episodes.csv", _csv_line(CSV_FIELDS) + "".join(_csv_row(ep) for ep in self.episodes))
            self._write_summary()
        self.manifest["status"] = status
        self._write_json("manifest.json", self.manifest)

    def _replace(self, name: str, text: str) -> None:
        tmp = self.dir / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(self.dir / name)

    def record_error(self, episode_id: str, message: str) -> None:
        """Note an episode that failed (kept going with --keep-going)."""
        self.manifest.setdefault("errors", []).append({"episode_id": episode_id, "error": message})
        self._write_json("manifest.json", self.manifest)
        self._pending.clear()

    def _write_summary(self) -> None:
        self._write_json("summary.json", summarize(self.episodes))

    def _write_json(self, name: str, obj: Any) -> None:
        tmp = self.dir / (name + ".tmp")
        tmp.write_text(json.dumps(_clean(obj), indent=2, default=str))
        tmp.replace(self.dir / name)


def _csv_line(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(values)
    return buf.getvalue()


def _csv_row(row: dict[str, Any]) -> str:
    return _csv_line([_fmt(row.get(k)) for k in CSV_FIELDS])


def _fmt(v: Any) -> Any:
    return f"{v:.4f}" if isinstance(v, float) else ("" if v is None else v)


def summarize(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-group (video) sums and totals; 'per group' averages are what the paper reports."""
    groups: dict[str, dict[str, Any]] = {}
    for ep in episodes:
        g = groups.setdefault(ep["group"], {k: 0 for k in SUMMED} | {"episodes": 0, "_J": []})
        g["episodes"] += 1
        for k in SUMMED:
            g[k] += ep.get(k) or 0
        if ep.get("J") is not None:
            g["_J"].append(ep["J"])
    for g in groups.values():
        js = g.pop("_J")
        g["J"] = sum(js) / len(js) if js else None
    totals = {k: sum(g[k] for g in groups.values()) for k in SUMMED}
    n = len(groups)
    all_j = [ep["J"] for ep in episodes if ep.get("J") is not None]
    upd = totals["updates"]
    return {
        "episodes": episodes,
        "groups": groups,
        "totals": {**totals, "groups": n, "episodes": len(episodes),
                   "user_corrections_per_group": totals["user_corrections"] / n if n else None,
                   "update_seconds_mean": totals["update_seconds_total"] / upd if upd else None,
                   "J": sum(all_j) / len(all_j) if all_j else None},
        "learning_warning": learning_warning(totals),
    }


def load_summary(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a litcore run directory (no summary.json)")
    return json.loads(path.read_text())

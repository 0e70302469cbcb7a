"""Result files, written per episode as it finishes so a crash loses nothing done.

Layout of a run directory::

    manifest.json   config, versions, seed, plugins (written first)
    steps.jsonl     one JSON object per item (appended after each episode)
    episodes.csv    one row per episode (appended after each episode)
    summary.json    per-episode metrics, per-group sums and totals (rewritten after each episode)
"""

from __future__ import annotations

import csv
import json
import math
import platform
import sys
from importlib import metadata as md
from pathlib import Path
from typing import Any, Iterable

from litcore.diagnostics import learning_warning
from litcore.loop import EpisodeRecord, StepRecord

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

    def __init__(self, out_dir: str | Path, manifest: dict[str, Any]) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._pending: list[dict[str, Any]] = []
        self.episodes: list[dict[str, Any]] = []
        for name in ("steps.jsonl", "episodes.csv"):
            (self.dir / name).unlink(missing_ok=True)
        with open(self.dir / "episodes.csv", "w", newline="") as f:
            csv.writer(f).writerow(CSV_FIELDS)
        self.manifest = {**manifest, "versions": versions()}
        self._write_json("manifest.json", self.manifest)
        self._write_summary()

    def write(self, rec: StepRecord | EpisodeRecord) -> None:
        if isinstance(rec, StepRecord):
            self._pending.append(_clean(rec.to_json()))
            return
        with open(self.dir / "steps.jsonl", "a") as f:
            for row in self._pending:
                f.write(json.dumps(row) + "\n")
        self._pending.clear()
        row = _clean({"episode_id": rec.episode_id, "group": rec.group, **rec.metrics, "seconds": rec.seconds})
        self.episodes.append(row)  # NaN (no checked item) is null in JSON and an empty CSV cell
        with open(self.dir / "episodes.csv", "a", newline="") as f:
            csv.writer(f).writerow([_fmt(row.get(k)) for k in CSV_FIELDS])
        self._write_summary()

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

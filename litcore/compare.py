"""Side-by-side comparison of runs: corrections per group, totals, reduction in %."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litcore.results import load_summary

COLUMNS = ("user_corrections", "clicks", "mask_corrections", "auto_corrections", "update_seconds_mean", "J")


@dataclass
class Comparison:
    runs: list[str]
    groups: list[str]
    per_group: dict[str, list[int | None]]         # group -> user corrections per run
    totals: list[dict[str, Any]]                    # per run
    group_noun: str = "group"                       # "video", "stream": from the first run's manifest

    def reduction(self, i: int) -> float | None:
        """Reduction of user corrections of run i relative to run 0, in percent."""
        base = self.totals[0]["user_corrections"]
        if not base:
            return None
        return 100.0 * (base - self.totals[i]["user_corrections"]) / base


def compare_runs(paths: list[Path]) -> Comparison:
    if len(paths) < 2:
        raise ValueError("compare needs at least two run directories")
    summaries = [load_summary(p) for p in paths]
    groups = sorted({g for s in summaries for g in s["groups"]})
    per_group = {g: [s["groups"].get(g, {}).get("user_corrections") for s in summaries] for g in groups}
    totals = []
    for s in summaries:
        t = s["totals"]
        totals.append({k: t.get(k) for k in ("user_corrections", "clicks", "mask_corrections", "auto_corrections",
                                             "update_seconds_mean", "J", "groups", "user_corrections_per_group")})
    return Comparison([p.name for p in paths], groups, per_group, totals, _group_noun(paths[0]))


def _group_noun(run_dir: Path) -> str:
    try:
        return str(json.loads((Path(run_dir) / "manifest.json").read_text()).get("group_noun") or "group")
    except (OSError, ValueError):
        return "group"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def format_table(c: Comparison) -> str:
    """A Markdown table: one row per group, then totals and the reduction."""
    head = [c.group_noun] + c.runs
    rows = [[g] + [_cell(v) for v in c.per_group[g]] for g in c.groups]
    rows.append(["**total corrections**"] + [_cell(t["user_corrections"]) for t in c.totals])
    rows.append([f"per {c.group_noun}"] + [_cell(t["user_corrections_per_group"]) for t in c.totals])
    for k in ("clicks", "mask_corrections", "auto_corrections", "update_seconds_mean", "J"):
        rows.append([k] + [_cell(t[k]) for t in c.totals])
    rows.append(["reduction vs first"] + ["-"] + [
        "-" if c.reduction(i) is None else f"{c.reduction(i):.1f}%" for i in range(1, len(c.runs))])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def write_csv(c: Comparison, path: str | Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group"] + c.runs)
        for g in c.groups:
            w.writerow([g] + ["" if v is None else v for v in c.per_group[g]])
        w.writerow(["TOTAL"] + [t["user_corrections"] for t in c.totals])

"""Side-by-side comparison of runs: corrections per group, totals, reduction in %."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcore.coverage import coverage, load_run_episodes, require_comparable, restrict
from litcore.results import load_summary

COLUMNS = ("user_corrections", "clicks", "mask_corrections", "auto_corrections", "update_seconds_mean", "J")


@dataclass
class Comparison:
    runs: list[str]
    groups: list[str]
    per_group: dict[str, list[int | None]]         # group -> user corrections per run
    totals: list[dict[str, Any]]                    # per run
    group_noun: str = "group"                       # "video", "stream": from the first run's manifest
    score_name: str = "J"                           # the task's name for its mean score ("J", "accuracy")
    masks: bool = True                              # the task has masks (else no mask-corrections row)
    note: str | None = None                         # what was left out (only when runs differ)
    left_out: dict[str, dict[str, str]] = field(default_factory=dict)

    def reduction(self, i: int) -> float | None:
        """Reduction of user corrections of run i relative to run 0, in percent."""
        base = self.totals[0]["user_corrections"]
        if not base:
            return None
        return 100.0 * (base - self.totals[i]["user_corrections"]) / base


def compare_runs(paths: list[Path], allow_incomplete: bool = False) -> Comparison:
    """Runs side by side on the episodes finished in every one of them (litcore.coverage).

    Runs that are unfinished, failed or cover different episodes raise
    IncompleteRunsError unless `allow_incomplete`; then the table is computed
    on the common episodes and its header lists what was left out.
    """
    if len(paths) < 2:
        raise ValueError("compare needs at least two run directories")
    names = _names(paths)
    loaded = [load_summary(p) for p in paths]
    cov = coverage([load_run_episodes(p, s, n) for p, s, n in zip(paths, loaded, names)])
    require_comparable(cov, allow_incomplete)
    keep = set(cov.common)
    summaries = [restrict(s["episodes"], keep) for s in loaded]
    groups = sorted({g for s in summaries for g in s["groups"]})
    per_group = {g: [s["groups"].get(g, {}).get("user_corrections") for s in summaries] for g in groups}
    totals = []
    for s in summaries:
        t = s["totals"]
        totals.append({k: t.get(k) for k in ("user_corrections", "clicks", "mask_corrections", "auto_corrections",
                                             "update_seconds_mean", "J", "groups", "user_corrections_per_group")})
    first = _manifest(paths[0])
    return Comparison(names, groups, per_group, totals, str(first.get("group_noun") or "group"),
                      score_name=str(first.get("score_name") or "J"),
                      masks=first.get("prediction_kind") in (None, "binary-mask"),
                      note=None if cov.honest else cov.header(), left_out=cov.left_out)


def _names(paths: list[Path]) -> list[str]:
    """Folder names, or longer path tails where two runs share a folder name (a/baseline, b/baseline)."""
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [str(Path(*Path(p).resolve().parts[-2:])) for p in paths]


def _manifest(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((Path(run_dir) / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


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
        if k in ("clicks", "mask_corrections") and not c.masks:
            continue  # a label or other non-mask task has neither
        rows.append([c.score_name if k == "J" else k] + [_cell(t[k]) for t in c.totals])
    rows.append(["reduction vs first"] + ["-"] + [
        "-" if c.reduction(i) is None else f"{c.reduction(i):.1f}%" for i in range(1, len(c.runs))])
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    table = "\n".join([line(head), sep] + [line(r) for r in rows])
    return f"> {c.note}\n\n{table}" if c.note else table


def write_csv(c: Comparison, path: str | Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["group"] + c.runs)
        for g in c.groups:
            w.writerow([g] + ["" if v is None else v for v in c.per_group[g]])
        w.writerow(["TOTAL"] + [t["user_corrections"] for t in c.totals])

"""Which episodes a set of runs can honestly be compared on: those finished in every one of them.

Totals over different episode sets compare nothing (a run killed after 2 of 9
episodes "needs 68% fewer corrections"). So `lit compare` and the bench tables
keep only the episodes present and finished in every run and list the others
with why each is left out: failed (in the manifest's errors), unfinished (the
run was interrupted, stopped or is still running) or missing (the run never
had it, e.g. another `--videos` selection).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcore.errors import LitcoreError


class IncompleteRunsError(LitcoreError):
    """Runs that do not cover the same finished episodes, compared without --allow-incomplete."""


@dataclass
class RunEpisodes:
    name: str
    status: str                                  # complete | failed | stopped | running | unknown
    episodes: list[dict[str, Any]]               # finished episode rows (summary.json)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> set[str]:
        return {ep["episode_id"] for ep in self.episodes}

    @property
    def complete(self) -> bool:
        # runs written before statuses existed count as complete when they recorded no error
        return self.status == "complete" or (self.status == "unknown" and not self.errors)

    def why_absent(self, episode_id: str) -> str:
        group = episode_id.rsplit("/", 1)[0]
        for e in self.errors:
            if e.get("episode_id") in (episode_id, f"{group}/*"):
                return "failed"
        if any(str(e.get("episode_id", "")).rsplit("/", 1)[0] == group for e in self.errors):
            return "unfinished"   # its group stopped at an earlier episode's failure
        return "missing" if self.complete or self.status == "failed" else "unfinished"


def load_run_episodes(run_dir: str | Path, summary: dict[str, Any] | None = None, name: str | None = None):
    from litcore.results import load_summary

    run_dir = Path(run_dir)
    summary = summary if summary is not None else load_summary(run_dir)
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    return RunEpisodes(name or run_dir.name, str(manifest.get("status", "unknown")), list(summary["episodes"]),
                       list(manifest.get("errors", [])))


@dataclass
class Coverage:
    runs: list[RunEpisodes]
    common: list[str]                            # episode ids finished in every run (first run's order)
    left_out: dict[str, dict[str, str]]          # episode id -> {run name: failed|unfinished|missing}
    unfinished_runs: list[str]                   # runs whose status is not complete

    @property
    def honest(self) -> bool:
        return not self.left_out and not self.unfinished_runs

    def header(self) -> str:
        """One line for a table's header: what it is computed on and what it leaves out."""
        total = len(self.common) + len(self.left_out)
        text = f"compared on {len(self.common)} of {total} episodes finished in every run"
        if self.left_out:
            text += f"; left out: {self.listing()}"
        if self.unfinished_runs:
            text += f"; not complete: {', '.join(self.unfinished_runs)}"
        return text

    def listing(self, limit: int = 8) -> str:
        items = [f"{e} ({', '.join(f'{r}: {why}' for r, why in whys.items())})" for e, whys in self.left_out.items()]
        more = len(items) - limit
        return "; ".join(items[:limit]) + (f"; and {more} more" if more > 0 else "")


def coverage(runs: list[RunEpisodes]) -> Coverage:
    finished = [r.finished for r in runs]
    common_set = set.intersection(*finished) if finished else set()
    seen: dict[str, None] = {}
    for r in runs:
        seen.update(dict.fromkeys(ep["episode_id"] for ep in r.episodes))
        seen.update(dict.fromkeys(e["episode_id"] for e in r.errors if not e["episode_id"].endswith("/*")))
    left_out = {e: {r.name: r.why_absent(e) for r, f in zip(runs, finished) if e not in f}
                for e in seen if e not in common_set}
    known_groups = {e.rsplit("/", 1)[0] for e in seen}
    for r in runs:  # a group that failed before its first episode, in runs that never had its episodes
        for e in r.errors:
            if e["episode_id"].endswith("/*") and e["episode_id"][:-2] not in known_groups:
                left_out.setdefault(e["episode_id"], {})[r.name] = "failed"
    common = [e for e in seen if e in common_set]
    return Coverage(runs, common, left_out, [r.name for r in runs if not r.complete])


def restrict(episodes: list[dict[str, Any]], keep: set[str]) -> dict[str, Any]:
    """A run's summary recomputed on the kept episodes only."""
    from litcore.results import summarize

    return summarize([ep for ep in episodes if ep["episode_id"] in keep])


def require_comparable(cov: Coverage, allow_incomplete: bool) -> None:
    if not cov.common:
        raise IncompleteRunsError(f"no episode is finished in every run ({cov.header()})")
    if not cov.honest and not allow_incomplete:
        raise IncompleteRunsError(f"runs do not cover the same finished episodes: {cov.header()}; "
                                  "pass --allow-incomplete to compare them on the common episodes")

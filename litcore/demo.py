"""Shared pieces of every task's `lit demo`: run methods side by side, tabulate, plot.

A task plugin registers a demo runner (``litcore_register_demos``) that picks
its embedded model and data and calls :func:`run_side_by_side`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from litcore.compare import Comparison, compare_runs, format_table
from litcore.experiment import Experiment, ExperimentSpec
from litcore.loop import EpisodeRecord, StepRecord
from litcore.results import load_summary


def run_side_by_side(base: ExperimentSpec, methods: list[str], out_dir: str | Path, *, quiet: bool = False,
                     on_record: Callable[[str, StepRecord | EpisodeRecord], None] | None = None,
                     registry=None, jobs: int = 1) -> Comparison:
    """Run `base` once per method into out_dir/<method> (replacing earlier demo runs); return their comparison.

    All methods' groups go to one executor as one pool of work: the one chosen
    on the command line (`--executor`), else `jobs` worker processes (same
    records as one process).
    """
    from litcore.cli.progress import Progress
    from litcore.dispatch import RunRequest, execute
    from litcore.executors import current_executor, make_executor
    from litcore.plugins import build_registry

    registry = registry or build_registry()
    out = Path(out_dir)
    requests = []
    for method in methods:
        spec = replace(base, method=method)
        progress = Progress(disable=quiet, desc=method)

        def consume(rec, _m=method, _p=progress):
            _p.update(rec)
            if on_record is not None:
                on_record(_m, rec)

        requests.append(RunRequest(out / method, spec, lambda _s=spec: Experiment(_s, registry), on_record=consume,
                                   on_close=progress.close, existing="overwrite", label=method))
    executor = current_executor()
    own = executor is None
    executor = executor or make_executor(jobs=jobs, registry=registry)
    try:
        execute(requests, executor)
    finally:
        if own:
            executor.close()
    return compare_runs([out / m for m in methods])


def plot_corrections(c: Comparison, path: str | Path, title: str | None = None) -> Path:
    """Grouped bars: corrections per group (video, stream) for each run."""
    title = title or f"User corrections per {c.group_noun}"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    groups = c.groups
    x = np.arange(len(groups))
    width = 0.8 / len(c.runs)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(groups) + 2), 3.6))
    for i, run in enumerate(c.runs):
        vals = [c.per_group[g][i] or 0 for g in groups]
        ax.bar(x + (i - (len(c.runs) - 1) / 2) * width, vals, width, label=f"{run} (total {sum(vals)})")
    ax.set_xticks(x, groups, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("user corrections")
    import textwrap

    # wrapped to the figure's width so a long title is never cut off
    ax.set_title(textwrap.fill(title, width=int(fig.get_figwidth() * 10)), fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def method_rows(c: Comparison, out: Path) -> list[dict[str, Any]]:
    """One row per method: corrections, automatic ones, J of the accepted proposals and overall, update time.

    "J of the accepted proposals" is the mean score of the items an adapter
    proposal fixed (read from steps.jsonl): what an automatic correction is worth.
    """
    import json

    rows = []
    for i, run in enumerate(c.runs):
        t = c.totals[i]
        steps = [json.loads(line) for line in (out / run / "steps.jsonl").read_text().splitlines() if line]
        auto = [s["final_score"] for s in steps if s.get("outcome") == "auto" and s.get("final_score") is not None]
        rows.append({"method": run, "user_corrections": t["user_corrections"], "reduction_percent": c.reduction(i),
                     "auto_corrections": t["auto_corrections"], "J_accepted": sum(auto) / len(auto) if auto else None,
                     "J": t["J"], "update_seconds_mean": t["update_seconds_mean"],
                     "learning_warning": load_summary(out / run).get("learning_warning")})
    return rows


def method_table(rows: list[dict[str, Any]], score_name: str = "J") -> str:
    """The methods side by side (Markdown), then any learning warning in plain words.

    The score columns carry the task's name for its score (`J`, `accuracy`);
    the row keys stay `J_accepted` / `J` so comparison.json reads the same for every task.
    """
    head = ["method", "user corrections", "change vs first", "automatic", f"{score_name} accepted proposals",
            f"{score_name} overall", "mean update (s)"]
    cell = lambda v, f="{:.3f}": "-" if v is None else f.format(v)  # noqa: E731
    change = lambda r: None if r["reduction_percent"] is None else -r["reduction_percent"]  # noqa: E731
    body = [[r["method"], str(r["user_corrections"]), "-" if i == 0 else cell(change(r), "{:+.1f}%"),
             str(r["auto_corrections"]), cell(r["J_accepted"]), cell(r["J"]),
             "-" if not r["update_seconds_mean"] else cell(r["update_seconds_mean"], "{:.2f}")]
            for i, r in enumerate(rows)]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(x.ljust(w) for x, w in zip(r, widths)) + " |"  # noqa: E731
    lines = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in body]
    lines += [f"\nwarning ({r['method']}): {r['learning_warning']}" for r in rows if r["learning_warning"]]
    return "\n".join(lines)


def report(c: Comparison, out: Path | None = None) -> str:
    """The per-group table, then (given the run folder) the methods side by side, then the headline reductions."""
    lines = [format_table(c)]
    if out is not None:
        lines += ["", method_table(method_rows(c, out), c.score_name)]
    for i in range(1, len(c.runs)):
        red = c.reduction(i)
        if red is not None:
            lines.append(f"\n{c.runs[i]} needs {red:.1f}% fewer user corrections than {c.runs[0]} "
                         f"({c.totals[0]['user_corrections']} -> {c.totals[i]['user_corrections']}).")
    return "\n".join(lines)


def summary_dict(c: Comparison, out: Path | None = None) -> dict[str, Any]:
    return {"runs": c.runs, "groups": c.groups, "per_group": c.per_group, "totals": c.totals,
            "reduction_percent": c.reduction(len(c.runs) - 1),
            "reductions_percent": {r: c.reduction(i) for i, r in enumerate(c.runs) if i},
            "methods": method_rows(c, out) if out is not None else None}


def write_outputs(c: Comparison, out: Path, plot_name: str, title: str) -> tuple[dict[str, Any], Path]:
    """Print the tables and write comparison.md, comparison.json and the per-group plot."""
    import json

    text = report(c, out)
    print(text)
    (out / "comparison.md").write_text(text + "\n")
    summary = summary_dict(c, out)
    (out / "comparison.json").write_text(json.dumps(summary, indent=2))
    return summary, plot_corrections(c, out / plot_name, title=title)

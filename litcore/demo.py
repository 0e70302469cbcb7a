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
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def report(c: Comparison) -> str:
    """The paper-style table plus the headline reduction."""
    lines = [format_table(c)]
    red = c.reduction(len(c.runs) - 1)
    if red is not None:
        lines.append(f"\n{c.runs[-1]} needs {red:.1f}% fewer user corrections than {c.runs[0]} "
                     f"({c.totals[0]['user_corrections']} -> {c.totals[-1]['user_corrections']}).")
    return "\n".join(lines)


def summary_dict(c: Comparison) -> dict[str, Any]:
    return {"runs": c.runs, "groups": c.groups, "per_group": c.per_group, "totals": c.totals,
            "reduction_percent": c.reduction(len(c.runs) - 1)}


def write_outputs(c: Comparison, out: Path, plot_name: str, title: str) -> tuple[dict[str, Any], Path]:
    """Print the table and write comparison.md, comparison.json and the per-group plot."""
    import json

    text = report(c)
    print(text)
    (out / "comparison.md").write_text(text + "\n")
    summary = summary_dict(c)
    (out / "comparison.json").write_text(json.dumps(summary, indent=2))
    return summary, plot_corrections(c, out / plot_name, title=title)

"""Paper-style tables of a bench: main, time, cross-model, ablation, budget, per video (Markdown + CSV).

Numbers are read back from each run's files (summary.json, jf.json,
steps.jsonl, manifest.json), never from memory, so tables can be rebuilt
from a finished bench at any time (`lit bench --report-only`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcore.annotation_time import CostModel, annotation_time, read_steps
from litcore.results import load_summary


@dataclass
class RunResult:
    model: str
    dataset: str
    method: str
    budget: int | None
    dir: Path
    totals: dict[str, Any]
    groups: dict[str, dict[str, Any]]
    episodes: list[dict[str, Any]]
    jf: dict[str, Any] | None
    time: dict[str, Any]
    parameters: int | None
    steps: list[dict[str, Any]] = field(repr=False, default_factory=list)
    status: str = "unknown"                 # the run's manifest status (complete, failed, ...)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def per_video(self, key: str) -> float | None:
        n = self.totals.get("groups") or 0
        return self.totals.get(key, 0) / n if n else None

    @property
    def jf_mean(self) -> float | None:
        return None if self.jf is None else self.jf["totals"].get("JF")


def load_bench(out: str | Path) -> tuple[dict[str, Any], list[RunResult]]:
    """The bench index and every finished run it lists (runs without a summary are skipped)."""
    out = Path(out)
    index_path = out / "bench.json"
    if not index_path.is_file():
        raise FileNotFoundError(f"{index_path}: not a bench directory (run `lit bench` first)")
    index = json.loads(index_path.read_text())
    costs = CostModel.from_options(index["config"].get("time"))
    results = []
    for r in index["runs"]:
        d = out / r["dir"]
        if not (d / "summary.json").is_file():
            continue
        summary = load_summary(d)
        steps = read_steps(d)
        jf_path = d / "jf.json"
        manifest = json.loads((d / "manifest.json").read_text())
        adapter = manifest.get("components", {}).get("adapter", {})
        results.append(RunResult(r["model"], r["dataset"], r["method"], r["budget"], d, summary["totals"],
                                 summary["groups"], summary["episodes"],
                                 json.loads(jf_path.read_text()) if jf_path.is_file() else None,
                                 annotation_time(steps, costs), adapter.get("parameters"), steps,
                                 status=str(manifest.get("status", "unknown")), errors=manifest.get("errors", [])))
    not_run = [r["dir"] for r in index["runs"] if not (out / r["dir"] / "summary.json").is_file()]
    index["notes"] = restrict_to_common(results, costs) + [f"not run yet: {d}" for d in not_run]
    return index, results


def _label(r: RunResult) -> str:
    return f"{r.model}/{r.method}" + (f"@{r.budget}" if r.budget is not None else "")


def restrict_to_common(results: list[RunResult], costs: CostModel) -> list[str]:
    """Cut every run of a dataset down to the episodes finished in all of them; notes on what was left out.

    The tables then compare like with like (litcore.coverage); each note is
    one line for the report's header, and every failure gets its own line.
    """
    from litcore.coverage import RunEpisodes, coverage, restrict

    notes = []
    for dataset in dict.fromkeys(r.dataset for r in results):
        runs = [r for r in results if r.dataset == dataset]
        cov = coverage([RunEpisodes(_label(r), r.status, r.episodes, r.errors) for r in runs])
        for r in runs:
            for e in r.errors:
                notes.append(f"failed in {dataset}/{_label(r)}: {e['episode_id']}: {' '.join(str(e['error']).split())}")
        if cov.honest:
            continue
        notes.insert(0, f"{dataset}: {cov.header()}")
        keep = set(cov.common)
        for r in runs:
            s = restrict(r.episodes, keep)
            r.totals, r.groups, r.episodes = s["totals"], s["groups"], s["episodes"]
            r.steps = [st for st in r.steps if st.get("episode_id") in keep]
            r.time = annotation_time(r.steps, costs)
            if r.jf is not None:
                from litcore.vos.jf import aggregate  # J&F exists only for VOS runs

                r.jf = aggregate([o for o in r.jf.get("objects", []) if o.get("episode_id") in keep])
    return notes


def _reduction(base: float | None, new: float | None) -> float | None:
    return None if not base or new is None else 100.0 * (base - new) / base


def _find(results: list[RunResult], model: str, dataset: str, method: str, budget: int | None = None):
    return next((r for r in results if (r.model, r.dataset, r.method, r.budget) == (model, dataset, method, budget)),
                None)


def _pairs(results: list[RunResult]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((r.model, r.dataset) for r in results))


def build_tables(index: dict[str, Any], results: list[RunResult]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """name -> (header, rows) for every table the grid can fill."""
    cfg = index["config"]
    base_m, lit_m = cfg["baseline"], cfg["lit"]
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    main, time_rows = [], []
    for model, dataset in _pairs(results):
        b, l = _find(results, model, dataset, base_m), _find(results, model, dataset, lit_m)
        if b is None or l is None:
            continue
        cb, cl = b.per_video("user_corrections"), l.per_video("user_corrections")
        main.append([model, dataset, b.totals["groups"], b.totals["episodes"], cb, cl, _reduction(cb, cl),
                     b.totals.get("J"), l.totals.get("J"), b.jf_mean, l.jf_mean])
        tb, tl = b.time["minutes_per_video"], l.time["minutes_per_video"]
        compute = sum(g["compute"] for g in l.time["groups"].values()) / max(len(l.time["groups"]), 1)
        time_rows.append([model, dataset, tb, tl, _reduction(tb, tl), compute])
    tables["main"] = (["model", "dataset", "videos", "objects", f"{base_m} corrections/video",
                       f"{lit_m} corrections/video", "reduction %", f"{base_m} J", f"{lit_m} J",
                       f"{base_m} J&F", f"{lit_m} J&F"], main)
    tables["time"] = (["model", "dataset", f"{base_m} min/video", f"{lit_m} min/video", "reduction %",
                       f"{lit_m} adapter s/video"], time_rows)

    datasets = list(dict.fromkeys(d for _, d in _pairs(results)))
    models = list(dict.fromkeys(m for m, _ in _pairs(results)))
    cross_head = ["model"] + [f"{d} {x}" for d in datasets for x in (base_m, lit_m, "reduction %")]
    cross = []
    for model in models:
        row: list[Any] = [model]
        for d in datasets:
            b, l = _find(results, model, d, base_m), _find(results, model, d, lit_m)
            cb = b.per_video("user_corrections") if b else None
            cl = l.per_video("user_corrections") if l else None
            row += [cb, cl, _reduction(cb, cl)]
        cross.append(row)
    tables["cross_model"] = (cross_head, cross)

    ablation = []
    for r in results:
        if r.budget is not None:
            continue
        b = _find(results, r.model, r.dataset, base_m)
        cb = b.per_video("user_corrections") if b else None
        c = r.per_video("user_corrections")
        ablation.append([r.model, r.dataset, r.method, r.parameters, c, r.per_video("clicks"),
                         r.per_video("mask_corrections"), r.per_video("auto_corrections"), r.totals.get("J"),
                         r.jf_mean, r.time["minutes_per_video"], _reduction(cb, c)])
    tables["ablation"] = (["model", "dataset", "method", "trainable parameters", "corrections/video",
                           "clicks/video", "masks/video", "auto/video", "J", "J&F", "min/video",
                           f"reduction vs {base_m} %"], ablation)

    budget = [[r.model, r.dataset, r.method, r.budget, r.per_video("user_corrections"), r.totals.get("J"), r.jf_mean]
              for r in results if r.budget is not None]
    budget.sort(key=lambda row: (row[0], row[1], row[2], row[3]))
    tables["budget"] = (["model", "dataset", "method", "budget per object", "corrections/video", "J", "J&F"], budget)

    per_video = []
    for model, dataset in _pairs(results):
        runs = [r for r in results if (r.model, r.dataset) == (model, dataset) and r.budget is None]
        for g in sorted({g for r in runs for g in r.groups}):
            per_video.append([model, dataset, g] + [r.groups.get(g, {}).get("user_corrections") for r in runs]
                             + [r.time["groups"].get(g, {}).get("minutes") for r in runs])
    methods = list(dict.fromkeys(r.method for r in results if r.budget is None))
    tables["per_video"] = (["model", "dataset", "video"] + [f"{m} corrections" for m in methods]
                           + [f"{m} min" for m in methods], per_video)
    return tables


def _md_cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def to_markdown(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header] + [[_md_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def write_tables(out: str | Path, tables: dict[str, tuple[list[str], list[list[Any]]]]) -> list[Path]:
    """`OUT/tables/<name>.md` and `.csv` (CSV keeps full precision; empty cell = not available)."""
    folder = Path(out) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (header, rows) in tables.items():
        md = folder / f"{name}.md"
        md.write_text(to_markdown(header, rows) + "\n")
        with open(folder / f"{name}.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([["" if v is None else v for v in row] for row in rows])
        written += [md, folder / f"{name}.csv"]
    return written


TITLES = {"main": "Corrections per video (main table)", "time": "Annotation time per video (min)",
          "cross_model": "Across models", "ablation": "Ablations (one row per method)",
          "budget": "Accuracy under a correction budget", "per_video": "Per video"}


def write_report(out: str | Path, tables: dict[str, tuple[list[str], list[list[Any]]]], plots: list[Path],
                 notes: list[str] | None = None) -> Path:
    """`OUT/report.md`: every table and plot in one page; first what the tables leave out and why."""
    out = Path(out)
    parts = ["# Benchmark report", ""]
    if notes:
        parts += ["## Failures and incomplete runs", "",
                  "The tables compare only episodes finished in every run of a dataset.", ""]
        parts += [f"- {n}" for n in notes] + [""]
    caveat = [f"> {n}" for n in notes or [] if not n.startswith("failed in ")]
    for name, (header, rows) in tables.items():
        parts += [f"## {TITLES.get(name, name)}", ""] + (caveat + [""] if caveat and rows else []) + [
            to_markdown(header, rows) if rows else "_no runs for this table_", ""]
    if plots:
        parts += ["## Plots", ""] + [f"![{p.stem}]({p.relative_to(out).as_posix()})" for p in plots] + [""]
    path = out / "report.md"
    path.write_text("\n".join(parts))
    return path

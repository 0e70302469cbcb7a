"""The paper's figures from a bench: long tail, baseline vs LIT, J&F under a budget, predicted vs true IoU.

matplotlib with the Agg backend (no display); one PNG per (model, dataset)
under `OUT/plots/`. Each function returns the paths it wrote, or none when the
grid lacks the runs it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from litcore.reports import RunResult, _find, _pairs


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _corrections(run: RunResult) -> dict[str, int]:
    return {g: v.get("user_corrections") or 0 for g, v in run.groups.items()}


def long_tail(results: list[RunResult], methods: list[str], folder: Path) -> list[Path]:
    """Corrections per video sorted high to low: a few videos take most of the user's effort."""
    plt, written = _plt(), []
    for model, dataset in _pairs(results):
        runs = [r for m in methods if (r := _find(results, model, dataset, m)) is not None]
        if not runs:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.4))
        for r in runs:
            vals = sorted(_corrections(r).values(), reverse=True)
            ax.plot(np.arange(1, len(vals) + 1), vals, marker="o", ms=3, label=f"{r.method} (total {sum(vals)})")
        ax.set_xlabel("videos, sorted by corrections")
        ax.set_ylabel("user corrections")
        ax.set_title(f"Long tail of corrections: {model} / {dataset}", fontsize=9)
        ax.legend(fontsize=8)
        written.append(_save(fig, folder / f"long_tail_{model}_{dataset}.png"))
    return written


def baseline_vs_lit(results: list[RunResult], base_m: str, lit_m: str, folder: Path) -> list[Path]:
    """One point per video; below the diagonal LIT needed fewer corrections."""
    plt, written = _plt(), []
    for model, dataset in _pairs(results):
        b, l = _find(results, model, dataset, base_m), _find(results, model, dataset, lit_m)
        if b is None or l is None:
            continue
        cb, cl = _corrections(b), _corrections(l)
        videos = sorted(set(cb) & set(cl))
        x, y = [cb[v] for v in videos], [cl[v] for v in videos]
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        top = max(x + y + [1]) * 1.05
        ax.plot([0, top], [0, top], color="grey", lw=1, ls="--", label="y = x")
        ax.scatter(x, y, s=18, alpha=0.8)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_xlabel(f"{base_m} corrections per video")
        ax.set_ylabel(f"{lit_m} corrections per video")
        ax.set_title(f"{model} / {dataset}", fontsize=9)
        ax.legend(fontsize=8)
        written.append(_save(fig, folder / f"baseline_vs_lit_{model}_{dataset}.png"))
    return written


def budget_curves(results: list[RunResult], folder: Path) -> list[Path]:
    """J&F (J when F is missing) against the corrections actually spent, one line per method."""
    plt, written = _plt(), []
    for model, dataset in _pairs(results):
        runs = [r for r in results if (r.model, r.dataset) == (model, dataset)]
        if not any(r.budget is not None for r in runs):
            continue
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        for method in dict.fromkeys(r.method for r in runs if r.budget is not None):
            pts = sorted((r for r in runs if r.method == method and r.budget is not None), key=lambda r: r.budget)
            full = _find(results, model, dataset, method)
            seq = pts + ([full] if full is not None else [])
            xs = [r.per_video("user_corrections") or 0.0 for r in seq]
            ys = [r.jf_mean if r.jf_mean is not None else r.totals.get("J") for r in seq]
            ax.plot(xs, ys, marker="o", label=method)
            for r, x, y in zip(seq, xs, ys):
                ax.annotate("∞" if r.budget is None else str(r.budget), (x, y), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_xlabel("user corrections per video")
        ax.set_ylabel("J&F")
        ax.set_title(f"Accuracy under a correction budget: {model} / {dataset}", fontsize=9)
        ax.legend(fontsize=8)
        written.append(_save(fig, folder / f"budget_{model}_{dataset}.png"))
    return written


def iou_pairs(run: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """(predicted IoU, true IoU) of the base prediction of every checked frame that has both."""
    rows = [(s["confidence"], s["score"]) for s in run.steps
            if s.get("checked") and s.get("confidence") is not None and s.get("score") is not None]
    arr = np.array(rows, dtype=float).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def predicted_vs_true_iou(results: list[RunResult], base_m: str, folder: Path) -> list[Path]:
    """SAM2's own IoU estimate against the true IoU of the same mask (is it usable to skip the user?)."""
    plt, written = _plt(), []
    for model, dataset in _pairs(results):
        run = _find(results, model, dataset, base_m)
        if run is None:
            continue
        pred, true = iou_pairs(run)
        if pred.size == 0:
            continue
        varied = pred.size > 1 and pred.std() > 0 and true.std() > 0
        r = float(np.corrcoef(pred, true)[0, 1]) if varied else float("nan")
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
        ax.axhline(0.5, color="red", lw=0.8, ls=":")
        ax.scatter(pred, true, s=8, alpha=0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("predicted IoU (SAM2 IoU head)")
        ax.set_ylabel("true IoU")
        ax.set_title(f"{model} / {dataset}: Pearson r = {r:.2f} (n = {pred.size})", fontsize=9)
        written.append(_save(fig, folder / f"iou_pred_vs_true_{model}_{dataset}.png"))
    return written


def make_plots(out: str | Path, index: dict[str, Any], results: list[RunResult]) -> list[Path]:
    cfg = index["config"]
    folder = Path(out) / "plots"
    methods = list(dict.fromkeys([cfg["baseline"], cfg["lit"]]))
    return (long_tail(results, methods, folder) + baseline_vs_lit(results, cfg["baseline"], cfg["lit"], folder)
            + budget_curves(results, folder) + predicted_vs_true_iou(results, cfg["baseline"], folder))

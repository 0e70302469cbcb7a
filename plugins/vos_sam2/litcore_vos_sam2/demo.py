"""`lit demo` for video segmentation: SAM2, + LIT-LoRA (paper's update), + LIT-auto on generated hard videos.

Uses the embedded tiny SAM2 and the synthetic `hard` split, so it runs on a
fresh machine with no downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from litcore.demo import run_side_by_side, write_outputs
from litcore.experiment import ExperimentSpec

METHODS = ["baseline", "lit-lora", "lit-auto"]
ROW_LABELS = {"baseline": "SAM2", "lit-lora": "+ LIT-LoRA\n(paper's update)", "lit-auto": "+ LIT-auto\n(calibrated)"}
TARGET, TRUTH, BASE = (0.1, 0.85, 0.2), "white", (1.0, 0.95, 0.0)   # one colour per thing, in every row
OTHERS = [(0.0, 0.9, 1.0), (1.0, 0.0, 1.0), (1.0, 0.55, 0.0)]        # the video's other objects (ground-truth row)


def run_vos_demo(out_dir: str | Path, *, videos: int = 6, seed: int = 0, quiet: bool = False, jobs: int = 1,
                 model_options: dict[str, Any] | None = None,
                 policy_options: dict[str, Any] | None = None,
                 dataset_options: dict[str, Any] | None = None,
                 oracle_options: dict[str, Any] | None = None) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = ExperimentSpec(model="sam2", dataset="synth", model_options=dict(model_options or {}),
                          dataset_options={"split": "hard", "videos": videos, **(dataset_options or {})}, seed=seed,
                          policy_options=dict(policy_options or {}), oracle_options=dict(oracle_options or {}))
    seen: dict[str, dict[str, dict[int, Any]]] = {m: {} for m in METHODS}

    def keep(method: str, rec) -> None:
        if rec.kind == "step":
            seen[method].setdefault(rec.episode_id, {})[rec.index] = rec

    comparison = run_side_by_side(base, METHODS, out, quiet=quiet, on_record=keep, jobs=jobs)
    summary, plot = write_outputs(comparison, out, "corrections_per_video.png",
                                  "User corrections per video: SAM2, + LIT-LoRA (paper's update), "
                                  "+ LIT-auto (synthetic hard split)")
    data = base.dataset_options
    strip = plot_strip(seen, out, split=data["split"], size=int(data.get("size", 128)), frames=data.get("frames"))
    print(f"\nresults: {out}/<method>/summary.json; plots: {plot}, {strip}")
    return summary


def _users(recs: dict[int, Any]) -> int:
    return sum(r.outcome == "user" for r in recs.values())


def _pick_episode(seen: dict[str, dict[str, dict[int, Any]]]) -> str:
    """The episode where the last method saved the most user corrections."""
    last = METHODS[-1]
    return max(sorted(seen["baseline"]), key=lambda ep: _users(seen["baseline"][ep]) - _users(seen[last].get(ep, {})))


def _spread(frames: list[int], n: int) -> list[int]:
    if n <= 0 or not frames:
        return []
    return sorted({frames[int(round(i))] for i in np.linspace(0, len(frames) - 1, min(n, len(frames)))})


def _pick_frames(lit: dict[int, Any], base: dict[int, Any], columns: int) -> list[int]:
    """Up to half the columns where LIT's proposal was accepted, the rest where the baseline needed the user."""
    auto = [t for t in sorted(lit) if lit[t].outcome == "auto"]
    chosen = _spread(auto, columns // 2)
    rest = [t for t in sorted(lit) if t in base and base[t].outcome == "user" and t not in chosen] or \
        [t for t in sorted(lit) if t not in chosen]
    return sorted(chosen + _spread(rest, columns - len(chosen)))


def _title(rec) -> str:
    if rec.outcome in ("user", "auto"):
        return f"{rec.outcome}: {rec.score:.2f} \u2192 {rec.final_score:.2f}"
    return rec.outcome if rec.score is None else f"{rec.outcome}: {rec.score:.2f}"


def _paint(ax, img: np.ndarray, fill: np.ndarray | None, outlines: list[tuple[np.ndarray, Any, str]]) -> None:
    over = img.copy()
    if fill is not None and fill.any():
        over[fill] = 0.45 * over[fill] + 0.55 * np.array(TARGET)
    ax.imshow(over)
    for mask, colour, style in outlines:
        if mask is not None and mask.any():
            ax.contour(mask.astype(float), levels=[0.5], colors=[colour], linewidths=1.3, linestyles=style)
    ax.set_xticks([]), ax.set_yticks([])


def plot_strip(seen, out: Path, *, split: str, size: int, frames: int | None = None, columns: int = 6) -> Path:
    """Frames of one video: the ground truth, then each method's kept mask beside the base prediction it replaced.

    Every row uses the same colours: the target's kept mask filled green, its
    ground truth outlined white, the base prediction that failed (and was
    corrected by the user or by an accepted proposal) dashed yellow; the
    video's other objects are outlined in their own colours in the first row.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patheffects as pe
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from litcore.vos.synth import make_video

    ep = _pick_episode(seen)
    video_name, obj = ep.rsplit("/", 1)
    video = make_video(split, int(video_name.rsplit("_", 1)[1]), height=size, width=size, num_frames=frames)
    others = [i for i in video.object_ids if i != int(obj)]
    pick = _pick_frames(seen[METHODS[-1]][ep], seen["baseline"][ep], columns)
    fig, axes = plt.subplots(1 + len(METHODS), len(pick), figsize=(2 * len(pick), 2.05 * (1 + len(METHODS)) + 0.6),
                             squeeze=False)
    for c, t in enumerate(pick):
        img = video.image(t).astype(float) / 255
        truth = video.object_mask(t, int(obj)) == 1
        _paint(axes[0, c], img, truth, [(video.object_mask(t, i) == 1, OTHERS[k % len(OTHERS)], "solid")
                                        for k, i in enumerate(others)])
        axes[0, c].set_title(f"frame {t}", fontsize=8)
        for r, method in enumerate(METHODS, start=1):
            rec = seen[method][ep][t]
            failed = rec.outcome in ("user", "auto")
            base = np.asarray(rec.base_output).astype(bool) if failed and rec.base_output is not None else None
            _paint(axes[r, c], img, np.asarray(rec.output).astype(bool), [(truth, TRUTH, "solid"), (base, BASE, "dashed")])
            axes[r, c].set_title(_title(rec), fontsize=8)
    axes[0, 0].set_ylabel("ground truth", fontsize=9)
    for r, method in enumerate(METHODS, start=1):
        axes[r, 0].set_ylabel(ROW_LABELS.get(method, method), fontsize=9)
    outlined = [pe.withStroke(linewidth=3, foreground="black")]  # a white line still shows on the white page
    legend = [Patch(color=TARGET, label=f"object {obj}: kept mask (first row: ground truth)"),
              Line2D([], [], color=TRUTH, lw=1.5, path_effects=outlined, label="ground truth of the target"),
              Line2D([], [], color=BASE, lw=1.5, ls="--", path_effects=outlined,
                     label="base prediction that needed the correction")]
    legend += [Line2D([], [], color=OTHERS[k % len(OTHERS)], lw=1.5, label=f"object {i} (not tracked here)")
               for k, i in enumerate(others)]
    fig.legend(handles=legend, loc="lower center", ncol=min(3, len(legend)), fontsize=8, frameon=False)
    fig.suptitle(f"{ep}: what each method kept (user = corrected by the user, auto = LIT proposal accepted; "
                 f"titles: IoU of the base prediction \u2192 IoU kept)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path = out / f"strip_{video_name}_obj{obj}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""`lit demo` for video segmentation: SAM2 vs SAM2 + LIT-LoRA on generated hard videos.

Uses the embedded tiny SAM2 and the synthetic `hard` split, so it runs on a
fresh machine with no downloads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from litcore.demo import run_side_by_side, write_outputs
from litcore.experiment import ExperimentSpec

METHODS = ["baseline", "lit-lora"]


def run_vos_demo(out_dir: str | Path, *, videos: int = 6, seed: int = 0, quiet: bool = False, jobs: int = 1,
                 model_options: dict[str, Any] | None = None,
                 policy_options: dict[str, Any] | None = None,
                 dataset_options: dict[str, Any] | None = None) -> dict[str, Any]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = ExperimentSpec(model="sam2", dataset="synth", model_options=dict(model_options or {}),
                          dataset_options={"split": "hard", "videos": videos, **(dataset_options or {})}, seed=seed,
                          policy_options=dict(policy_options or {}))
    kept: dict[str, dict[str, dict[int, Any]]] = {m: {} for m in METHODS}
    outcome: dict[str, dict[str, dict[int, str]]] = {m: {} for m in METHODS}

    def keep(method: str, rec) -> None:
        if rec.kind == "step":
            kept[method].setdefault(rec.episode_id, {})[rec.index] = rec.output
            outcome[method].setdefault(rec.episode_id, {})[rec.index] = rec.outcome

    comparison = run_side_by_side(base, METHODS, out, quiet=quiet, on_record=keep, jobs=jobs)
    summary, plot = write_outputs(comparison, out, "corrections_per_video.png",
                                  "User corrections per video: SAM2 vs SAM2 + LIT-LoRA (synthetic hard split)")
    data = base.dataset_options
    strip = plot_strip(kept, outcome, out, split=data["split"], size=int(data.get("size", 128)),
                       frames=data.get("frames"))
    print(f"\nresults: {out}/<method>/summary.json; plots: {plot}, {strip}")
    return summary


def _pick_episode(outcome: dict[str, dict[str, dict[int, str]]]) -> str:
    """The episode where LIT saved the most user corrections."""
    def saved(ep: str) -> int:
        count = lambda m: sum(o == "user" for o in outcome[m].get(ep, {}).values())  # noqa: E731
        return count("baseline") - count("lit-lora")
    return max(sorted(outcome["baseline"]), key=saved)


def _spread(frames: list[int], n: int) -> list[int]:
    if n <= 0 or not frames:
        return []
    return sorted({frames[int(round(i))] for i in np.linspace(0, len(frames) - 1, min(n, len(frames)))})


def _pick_frames(lit: dict[int, str], base: dict[int, str], columns: int) -> list[int]:
    """Up to half the columns where LIT's proposal was accepted, the rest where the baseline needed the user."""
    auto = [t for t in sorted(lit) if lit[t] == "auto"]
    chosen = _spread(auto, columns // 2)
    rest = [t for t in sorted(lit) if base.get(t) == "user" and t not in chosen] or \
        [t for t in sorted(lit) if t not in chosen]
    return sorted(chosen + _spread(rest, columns - len(chosen)))


def plot_strip(kept, outcome, out: Path, *, split: str, size: int, frames: int | None = None,
               columns: int = 6) -> Path:
    """Frames of one video: image with ground truth, then baseline and LIT outputs with outcomes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from litcore.vos.synth import make_video

    ep = _pick_episode(outcome)
    video_name, obj = ep.rsplit("/", 1)
    video = make_video(split, int(video_name.rsplit("_", 1)[1]), height=size, width=size, num_frames=frames)
    pick = _pick_frames(outcome["lit-lora"][ep], outcome["baseline"][ep], columns)
    fig, axes = plt.subplots(3, len(pick), figsize=(2 * len(pick), 6.3), squeeze=False)
    rows = [("ground truth", None), ("SAM2", "baseline"), ("SAM2 + LIT-LoRA", "lit-lora")]
    for c, t in enumerate(pick):
        img = video.image(t).astype(float) / 255
        for r, (label, method) in enumerate(rows):
            mask = video.object_mask(t, int(obj)) == 1 if method is None else kept[method][ep][t]
            over = img.copy()
            over[mask] = 0.45 * over[mask] + 0.55 * np.array([0.1, 0.9, 0.2] if r != 1 else [0.95, 0.3, 0.1])
            ax = axes[r, c]
            ax.imshow(over)
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_title(f"frame {t}" if method is None else outcome[method][ep][t], fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.suptitle(f"{ep}: kept masks (user = corrected by the user, auto = LIT proposal accepted)", fontsize=9)
    fig.tight_layout()
    path = out / f"strip_{video_name}_obj{obj}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

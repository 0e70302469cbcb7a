"""Simulated annotation time: what the paper's "annotation time (min)" column needs.

The paper does not publish its cost model, so this one is explicit and every
cost is an option: seconds per reviewed item, per click, per full mask, per
adapter proposal looked at, plus the adapter training time measured in the run
(the user waits for it). Defaults and their sources: docs/annotation-time.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Iterable


@dataclass(frozen=True)
class CostModel:
    """Seconds per user action; `compute_scale` rescales measured training time (e.g. CPU -> GPU)."""

    review_s: float = 1.0       # looking at one checked (object, frame) to accept or reject it
    click_s: float = 4.5        # one corrective click, including watching the model respond
    mask_s: float = 37.8        # drawing / repairing a full mask after the clicks failed
    proposal_s: float = 1.0     # judging the adapter's revised mask on a failing frame
    compute_scale: float = 1.0  # multiplies `update.seconds` of the step records
    include_compute: bool = True

    @classmethod
    def from_options(cls, options: dict[str, Any] | None) -> "CostModel":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options or {}) - known)
        if unknown:
            raise ValueError(f"unknown annotation-time option(s) {unknown}; known: {sorted(known)}")
        return cls(**(options or {}))

    def step_seconds(self, step: dict[str, Any]) -> dict[str, float]:
        """Cost of one step record (a dict as in steps.jsonl), split by kind."""
        out = {"review": 0.0, "clicks": 0.0, "masks": 0.0, "proposals": 0.0, "compute": 0.0}
        if not step.get("checked"):
            return out  # processed but never shown to the user
        out["review"] = self.review_s
        if step.get("proposal_score") is not None:
            out["proposals"] = self.proposal_s
        actions = step.get("actions") or []
        out["clicks"] = self.click_s * (step.get("clicks") or sum(a == "click" for a in actions))
        out["masks"] = self.mask_s * sum(a == "mask" for a in actions)
        update = step.get("update")
        if self.include_compute and update:
            out["compute"] = self.compute_scale * float(update.get("seconds") or 0.0)
        return out


def _as_dict(step: Any) -> dict[str, Any]:
    return step if isinstance(step, dict) else step.to_json()


def annotation_time(steps: Iterable[Any], model: CostModel | None = None) -> dict[str, Any]:
    """Seconds per group (video), by kind, plus the mean minutes per video.

    Per video = sum over its objects, like the corrections count: each object
    is a separate pass in which the user reviews its frames.
    """
    model = model or CostModel()
    groups: dict[str, dict[str, float]] = {}
    for raw in steps:
        step = _as_dict(raw)
        if step.get("kind", "step") != "step":
            continue
        g = groups.setdefault(step["group"], {"review": 0.0, "clicks": 0.0, "masks": 0.0, "proposals": 0.0,
                                              "compute": 0.0})
        for k, v in model.step_seconds(step).items():
            g[k] += v
    for g in groups.values():
        g["seconds"] = sum(g[k] for k in ("review", "clicks", "masks", "proposals", "compute"))
        g["minutes"] = g["seconds"] / 60.0
    n = len(groups)
    total = sum(g["seconds"] for g in groups.values())
    return {"model": asdict(model), "groups": groups, "videos": n,
            "minutes_per_video": total / 60.0 / n if n else None, "total_minutes": total / 60.0}


def read_steps(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "steps.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a litcore run directory (no steps.jsonl)")
    from litcore.rundir import read_jsonl

    return read_jsonl(path)  # a run killed mid-write may end in a torn line: skipped


def run_annotation_time(run_dir: str | Path, model: CostModel | None = None) -> dict[str, Any]:
    return annotation_time(read_steps(run_dir), model)


def implied_costs(corrections: tuple[float, float], minutes: tuple[float, float]) -> dict[str, float]:
    """Seconds per avoided correction and the remaining per-video base time, from two table rows.

    E.g. VOST (27.43 -> 18.24 corrections, 18.42 -> 12.91 min): about 36 s per
    correction and 118 s per video of review; how docs/annotation-time.md
    checks that the defaults are of the paper's order.
    """
    (c0, c1), (m0, m1) = corrections, minutes
    if c0 == c1:
        raise ValueError("the two rows need different correction counts")
    per_correction = (m0 - m1) * 60.0 / (c0 - c1)
    return {"seconds_per_correction": per_correction, "base_seconds_per_video": m0 * 60.0 - c0 * per_correction}

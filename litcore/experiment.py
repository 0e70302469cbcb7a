"""One experiment = model x dataset x oracle x adapter x policy, from names and options.

The CLI, `lit demo` and notebooks all go through here, so a run is always
described by the same spec (written verbatim into the manifest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from litcore.loop import EpisodeRecord, LiveTrainer, StepRecord
from litcore.plugins import build_registry
from litcore.registry import Registry
from litcore.dispatch import WorkerError  # noqa: F401  (re-exported: raised by run_to_dir)

# named methods of the paper: adapter, policy and loop mode
METHODS = {
    "baseline": {"adapter": "none", "policy": "every", "mode": "propose"},
    "lit-lora": {"adapter": "lora", "policy": "every", "mode": "propose"},
    "lit-ft": {"adapter": "full", "policy": "every", "mode": "propose"},
    "no-cl": {"adapter": "lora", "policy": "first", "mode": "propose"},
    "lit-3lora": {"adapter": "lora-pool", "policy": "every", "mode": "propose"},
    "replace-decoder": {"adapter": "lora", "policy": "every", "mode": "replace"},
}


class IncompatibleComponentsError(ValueError):
    """A dataset, model and oracle that belong to different tasks."""


@dataclass
class ExperimentSpec:
    model: str
    dataset: str
    method: str | None = None
    adapter: str = "none"
    policy: str = "every"
    oracle: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    oracle_options: dict[str, Any] = field(default_factory=dict)
    adapter_options: dict[str, Any] = field(default_factory=dict)
    policy_options: dict[str, Any] = field(default_factory=dict)
    adapter_targets: Any = None
    groups: list[str] | None = None
    objects: list[str] | None = None
    max_corrections: int | None = None
    seed: int = 0
    mode: str = "propose"

    def __post_init__(self) -> None:
        if self.method is not None:
            if self.method not in METHODS:
                raise ValueError(f"unknown method {self.method!r}; choose from {', '.join(METHODS)}")
            m = METHODS[self.method]
            self.adapter, self.policy, self.mode = m["adapter"], m["policy"], m["mode"]


class Experiment:
    """Components built from a spec; `records()` runs it lazily."""

    def __init__(self, spec: ExperimentSpec, registry: Registry | None = None) -> None:
        self.spec = spec
        reg = registry or build_registry()
        model_entry = reg.get("model", spec.model)
        data_entry = reg.get("dataset", spec.dataset)
        if model_entry.task and data_entry.task and model_entry.task != data_entry.task:
            raise IncompatibleComponentsError(
                f"model {spec.model!r} is a {model_entry.task} model but dataset {spec.dataset!r} is {data_entry.task}"
            )
        self.dataset = data_entry.factory(**spec.dataset_options)
        self.model = model_entry.factory(**spec.model_options)
        oracle_name = spec.oracle or self.model.default_oracle
        oracle_entry = reg.get("oracle", oracle_name)
        if oracle_entry.task and oracle_entry.task != model_entry.task:
            raise IncompatibleComponentsError(f"oracle {oracle_name!r} is for {oracle_entry.task}, not {model_entry.task}")
        self.oracle = oracle_entry.factory(**spec.oracle_options)
        self.trainer = LiveTrainer(
            self.model, self.oracle, reg.create("adapter", spec.adapter, **spec.adapter_options),
            reg.create("policy", spec.policy, **spec.policy_options), seed=spec.seed,
            adapter_targets=spec.adapter_targets, max_corrections=spec.max_corrections, mode=spec.mode)

    def episodes(self):
        return self.dataset.episodes(groups=self.spec.groups, objects=self.spec.objects)

    def records(self) -> Iterator[StepRecord | EpisodeRecord]:
        return self.trainer.run(self.episodes())

    def manifest(self) -> dict[str, Any]:
        return {"spec": asdict(self.spec), "components": self.trainer.describe(),
                "group_noun": getattr(self.model, "group_noun", "group")}


def run_to_dir(exp: Experiment, out_dir: str | Path, *, keep_going: bool = False,
               on_record: Callable[[StepRecord | EpisodeRecord], None] | None = None,
               consumers: Sequence[Any] = (), jobs: int = 1, executor: Any = None,
               existing: str = "refuse") -> dict[str, Any]:
    """Run every episode, writing results as each finishes; return the summary.

    With `keep_going`, an episode that raises (a broken file in one video) is
    recorded in the manifest and the run continues; otherwise the error
    propagates after the finished episodes are safely on disk. `consumers`
    (mask writers, J&F) get every record through `write(rec)` and `close()`
    at the end, even after an error. `executor` (litcore.executors) says where
    the groups run; without one, `jobs > 1` means that many worker processes.
    `existing` says what to do with a non-empty `out_dir`: refuse, resume or
    overwrite (litcore.rundir).
    """
    from litcore.dispatch import RunRequest, execute
    from litcore.executors import make_executor
    from litcore.results import load_summary

    own = executor is None
    executor = executor or make_executor(jobs=jobs, threads=_threads())
    req = RunRequest(Path(out_dir), exp.spec, lambda: exp, lambda _exp: consumers, on_record=on_record,
                     keep_going=keep_going, existing=existing)
    try:
        execute([req], executor)
    finally:
        if own:
            executor.close()
    return load_summary(out_dir)


def _threads() -> int:
    import torch

    return torch.get_num_threads()

"""One experiment = model x dataset x oracle x adapter x policy, from names and options.

The CLI, `lit demo` and notebooks all go through here, so a run is always
described by the same spec (written verbatim into the manifest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from litcore.errors import LitcoreError
from litcore.loop import EpisodeRecord, LiveTrainer, StepRecord
from litcore.plugins import build_registry
from litcore.registry import Registry
from litcore.results import RunWriter

# named methods of the paper: adapter, policy and loop mode
METHODS = {
    "baseline": {"adapter": "none", "policy": "every", "mode": "propose"},
    "lit-lora": {"adapter": "lora", "policy": "every", "mode": "propose"},
    "lit-auto": {"adapter": "lora", "policy": "calibrated", "mode": "propose"},
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
               consumers: Sequence[Any] = (), jobs: int = 1) -> dict[str, Any]:
    """Run every episode, writing results as each finishes; return the summary.

    With `keep_going`, an episode that raises (a broken file in one video) is
    recorded in the manifest and the run continues; otherwise the error
    propagates after the finished episodes are safely on disk. `consumers`
    (mask writers, J&F) get every record through `write(rec)` and `close()`
    at the end, even after an error. `jobs > 1` runs groups in that many
    worker processes (litcore.parallel): the same records, delivered a whole
    group at a time.
    """
    from litcore.parallel import describe_error, run_group
    from litcore.results import load_summary

    writer = RunWriter(out_dir, exp.manifest())
    groups = list(exp.spec.groups or exp.dataset.groups())

    def emit(rec: StepRecord | EpisodeRecord) -> None:
        writer.write(rec)
        for consumer in consumers:
            consumer.write(rec)
        if on_record is not None:
            on_record(rec)

    try:
        if jobs > 1 and len(groups) > 1:
            _run_parallel(exp, groups, jobs, writer, emit, keep_going)
        else:
            for group in groups:
                # one group (video) at a time, so a broken video cannot stop the others with --keep-going
                failure = run_group(exp, group, emit)
                if failure is not None:
                    writer.record_error(failure.failed_at, describe_error(failure.error))
                    if not keep_going:
                        raise failure.error
    finally:
        for consumer in consumers:
            consumer.close()
    return load_summary(out_dir)


class WorkerError(LitcoreError):
    """An episode failed in a worker process; the message names the episode and the original error."""


def _run_parallel(exp: Experiment, groups: list[str], jobs: int, writer: RunWriter, emit, keep_going: bool) -> None:
    import torch

    from litcore.parallel import parallel_groups

    first_error = None
    for result in parallel_groups(exp.spec, groups, jobs, torch.get_num_threads(), stop_on_error=not keep_going):
        for rec in result.records:
            emit(rec)
        if result.error is not None:
            writer.record_error(result.failed_at, result.error)
            first_error = first_error or f"{result.failed_at}: {result.error}"
    if first_error is not None and not keep_going:
        raise WorkerError(first_error)

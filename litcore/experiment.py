"""One experiment = model x dataset x oracle x adapter x policy, from names and options.

The CLI, `lit demo` and notebooks all go through here, so a run is always
described by the same spec (written verbatim into the manifest).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from litcore.checks import check_selection, check_spec
from litcore.errors import LitcoreError
from litcore.loop import EpisodeRecord, LiveTrainer, StepRecord
from litcore.options import check_oracle, check_options
from litcore.plugins import build_registry
from litcore.registry import Registry
from litcore.results import RunWriter

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


class Experiment:
    """Components built from a spec; `records()` runs it lazily."""

    def __init__(self, spec: ExperimentSpec, registry: Registry | None = None) -> None:
        self.spec = spec
        check_spec(spec)
        reg = registry or build_registry()
        method = reg.get("method", spec.method).factory() if spec.method is not None else None
        if method is not None:  # the method names the components; the spec records what it resolved to
            spec.adapter, spec.policy, spec.mode = method.adapter, method.policy, method.mode
        model_entry = reg.get("model", spec.model)
        data_entry = reg.get("dataset", spec.dataset)
        if model_entry.task and data_entry.task and model_entry.task != data_entry.task:
            raise IncompatibleComponentsError(
                f"model {spec.model!r} is a {model_entry.task} model but dataset {spec.dataset!r} is {data_entry.task}"
            )
        adapter_entry, policy_entry = reg.get("adapter", spec.adapter), reg.get("policy", spec.policy)
        # every option is checked against its factory before anything is built or run
        check_options(model_entry, spec.model_options)
        check_options(data_entry, spec.dataset_options)
        self.dataset = data_entry.factory(**spec.dataset_options)
        check_selection(self.dataset, spec)
        self.model = model_entry.factory(**spec.model_options)
        oracle_name = spec.oracle or self.model.default_oracle
        oracle_entry = reg.get("oracle", oracle_name)
        check_oracle(oracle_entry, model_entry, self.model)
        check_options(oracle_entry, spec.oracle_options)
        adapter_options = {**self.model.default_adapter_options(spec.adapter),
                           **(method.adapter_options if method else {}), **spec.adapter_options}
        policy_options = {**self.model.default_policy_options(spec.policy),
                          **(method.policy_options if method else {}), **spec.policy_options}
        check_options(adapter_entry, adapter_options)
        check_options(policy_entry, policy_options)
        self.oracle = oracle_entry.factory(**spec.oracle_options)
        self.registered = {"model": spec.model, "dataset": spec.dataset, "oracle": oracle_name,
                           "adapter": spec.adapter, "policy": spec.policy, "method": spec.method}
        self.options = {"adapter": adapter_options, "policy": policy_options}
        self.trainer = LiveTrainer(
            self.model, self.oracle, adapter_entry.factory(**adapter_options), policy_entry.factory(**policy_options),
            seed=spec.seed, adapter_targets=spec.adapter_targets, max_corrections=spec.max_corrections,
            mode=spec.mode)

    def episodes(self):
        return self.dataset.episodes(groups=self.spec.groups, objects=self.spec.objects)

    def records(self) -> Iterator[StepRecord | EpisodeRecord]:
        return self.trainer.run(self.episodes())

    def manifest(self) -> dict[str, Any]:
        components = self.trainer.describe()
        components["oracle"] = self.registered["oracle"]  # the registered name, not the class's
        return {"spec": asdict(self.spec), "components": components, "registered": self.registered,
                "effective_options": self.options,
                "group_noun": getattr(self.model, "group_noun", "group"),
                "score_name": getattr(self.model, "score_name", "score"),
                "prediction_kind": getattr(self.model, "prediction_kind", None)}


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

"""Run an experiment's groups (videos, class streams) in worker processes.

Episodes are independent by construction (the adapter is reset and re-seeded
from the episode id at each episode), so splitting the groups over processes
gives exactly the records of a sequential run. The records come back whole per
group and in the dataset's group order, so files are written in the same order
as a sequential run writes them. On a 2-core CPU two workers with one torch
thread each roughly halve a demo's wall time; one process with two threads is
*slower* for the tiny models (docs/performance.md).

Workers rebuild the registry from installed plugins (entry points); plugins
registered by hand in the parent process are not visible to them.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

_worker_experiment = None


@dataclass
class GroupFailure:
    failed_at: str          # episode id (or "group/*") where the group stopped
    error: BaseException


@dataclass
class GroupResult:
    group: str
    records: list[Any] = field(default_factory=list)
    error: str | None = None   # "Type: message" of the exception that stopped the group
    failed_at: str | None = None  # episode id (or "group/*") where it stopped


def _init_worker(spec: Any, threads: int) -> None:
    global _worker_experiment
    import torch

    from litcore.experiment import Experiment

    torch.set_num_threads(max(1, threads))
    _worker_experiment = Experiment(spec)


def run_group(exp: Any, group: str, emit: Callable[[Any], None]) -> GroupFailure | None:
    """Feed every record of one group's episodes to `emit`; an exception ends the group and is returned.

    Used in-process by `run_to_dir` (records stream out as they come) and in
    the workers (records are collected and sent back whole).
    """
    current = f"{group}/*"
    try:
        for episode in exp.dataset.episodes(groups=[group], objects=exp.spec.objects):
            current = episode.episode_id
            for rec in exp.trainer.run_episode(episode):
                emit(rec)
    except Exception as exc:  # the caller decides whether to go on
        return GroupFailure(current, exc)
    return None


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _run_in_worker(group: str) -> GroupResult:
    result = GroupResult(group)
    failure = run_group(_worker_experiment, group, result.records.append)
    if failure is not None:  # the exception itself may not pickle: send its text
        result.error, result.failed_at = describe_error(failure.error), failure.failed_at
    return result


def parallel_groups(spec: Any, groups: Sequence[str], jobs: int, threads: int = 1,
                    stop_on_error: bool = True) -> Iterator[GroupResult]:
    """Yield each group's result in `groups` order, computed by `jobs` processes.

    After a failed group with `stop_on_error`, groups not yet started are
    cancelled, but those already running or finished are still yielded, so
    nothing computed is lost.
    """
    ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can deadlock
    with ProcessPoolExecutor(max_workers=min(jobs, len(groups)) or 1, mp_context=ctx,
                             initializer=_init_worker, initargs=(spec, threads)) as pool:
        futures: list[Future] = [pool.submit(_run_in_worker, g) for g in groups]
        failed = False
        for group, fut in zip(groups, futures):
            if failed and fut.cancel():
                continue
            try:
                result = fut.result()
            except Exception as exc:  # the worker itself died (e.g. the model failed to build)
                result = GroupResult(group, error=describe_error(exc), failed_at=f"{group}/*")
            if result.error is not None and stop_on_error:
                failed = True
            yield result

"""The one interface every executor implements: take group tasks, give back group results.

A *task* is one group (video, class stream) of one run: the spec to build the
experiment from, the group's name and the episodes to skip (already finished
when a run is resumed). Every executor runs a task with the same function,
:func:`litcore.parallel.run_group`, so only *where* it runs differs: in this
process (`local`), in worker processes (`process`) or in Ray actors (`ray`).
Results may come back in any order; :mod:`litcore.dispatch` puts each run's
groups back in dataset order before writing them.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator


@dataclass
class Task:
    run: int                        # index of the run (run directory) the group belongs to
    index: int                      # position of the group in that run's group order
    spec: Any                       # ExperimentSpec: what a worker builds
    group: str
    skip: frozenset[str] = frozenset()   # episode ids finished by an earlier attempt
    experiment: Any = field(default=None, repr=False, compare=False)  # in-process only: the parent's

    def __getstate__(self) -> dict[str, Any]:  # the parent's Experiment never travels to a worker
        return {**self.__dict__, "experiment": None}


@dataclass
class GroupResult:
    run: int
    index: int
    group: str
    records: Iterable[Any] = field(default_factory=list)
    episodes: list[str] = field(default_factory=list)   # the group's episode ids in dataset order (skipped too)
    error: str | None = None        # "Type: message" of what stopped the group
    failed_at: str | None = None    # episode id (or "group/*") where it stopped
    exc: BaseException | None = field(default=None, repr=False)  # in-process only: the exception itself


def describe_error(exc: BaseException) -> str:
    """One line: exception type and message (newlines folded), what failure reports print."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def lost_result(task: Task, why: str) -> GroupResult:
    """The result of a group whose worker died: it costs that group only."""
    return GroupResult(task.run, task.index, task.group, error=why, failed_at=f"{task.group}/*")


def spec_key(spec: Any) -> str:
    return json.dumps(asdict(spec), sort_keys=True, default=str)


class ExperimentCache:
    """Workers build each experiment (the model) once and reuse it for every group of that run.

    A bench sends tasks of many runs to the same worker; keeping the last few
    experiments avoids rebuilding the model when tasks of runs interleave.
    """

    def __init__(self, size: int = 2, registry: Any = None) -> None:
        self.size, self.registry = size, registry
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def get(self, spec: Any) -> Any:
        from litcore.experiment import Experiment

        key = spec_key(spec)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        while len(self._cache) >= self.size:
            self._cache.popitem(last=False)
        exp = self._cache[key] = Experiment(spec, self.registry)
        return exp


def run_task(cache: ExperimentCache, task: Task) -> GroupResult:
    """Run one task to completion in this process (what process and Ray workers do)."""
    from litcore.parallel import run_group

    result = GroupResult(task.run, task.index, task.group, records=[])
    try:
        exp = cache.get(task.spec)
    except Exception as exc:  # the model or dataset failed to build: the whole group fails
        result.error, result.failed_at = describe_error(exc), f"{task.group}/*"
        return result
    failure = run_group(exp, task.group, result.records.append, skip=task.skip, order=result.episodes)
    if failure is not None:  # the exception itself may not pickle: send its text
        result.error, result.failed_at = describe_error(failure.error), failure.failed_at
    return result


def set_builtin_plugins(names: tuple[str, ...] | None) -> None:
    """Workers load the same built-in plugin modules as the parent (tests add their fakes there)."""
    if names is not None:
        from litcore import plugins

        plugins.BUILTIN_PLUGINS = tuple(names)


class Executor(ABC):
    """Runs tasks and yields their results, in completion order.

    `tasks` is consumed lazily: an executor asks for the next task only when a
    worker is free, so the dispatcher can stop handing out work after an error
    and opens each run only when its first group is asked for.
    """

    name = "executor"
    in_process = False   # True: tasks may carry the parent's Experiment (no rebuild)

    @abstractmethod
    def run(self, tasks: Iterator[Task]) -> Iterator[GroupResult]:
        ...

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def close(self) -> None:
        """Release workers (called once, after the last run)."""

"""`ray` (`--executor ray`): Ray actors that build the model once and take groups as tasks.

Each actor holds one experiment cache (the model is built on the actor's first
group of a run and reused for the rest), asks Ray for `cpus_per_worker` CPUs
and `gpus_per_worker` GPUs (fractions share a GPU: 0.5 puts two actors on
one), and Ray itself restarts an actor whose process dies and retries the
task it held (`max_restarts`, `max_task_retries`). A group whose retries are
used up is reported as failed; the other groups go on. `address=None` starts
a local Ray (or uses the one already started in this process); `"auto"` or
`ray://host:10001` joins a running cluster (docs/executors.md). Needs the
optional extra: `pip install litcore[ray]`.
"""

from __future__ import annotations

from typing import Any, Iterator

from litcore.errors import LitcoreError
from litcore.executors.base import (ExperimentCache, Executor, GroupResult, Task, describe_error, lost_result,
                                    run_task, set_builtin_plugins)


class RayUnavailableError(LitcoreError):
    """`--executor ray` without Ray installed."""


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise RayUnavailableError("--executor ray needs Ray: pip install 'litcore[ray]' (or pip install ray)") from e
    return ray


class GroupActor:
    """What runs inside each Ray actor (wrapped with `ray.remote` at start-up)."""

    def __init__(self, threads: int, builtins: tuple[str, ...]) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        set_builtin_plugins(builtins)
        self.cache = ExperimentCache()

    def run(self, task: Task) -> GroupResult:
        return run_task(self.cache, task)

    def pid(self) -> int:
        import os

        return os.getpid()


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None, cpus_per_worker: float = 1.0,
                 gpus_per_worker: float = 0.0, threads: int = 1, max_retries: int = 3) -> None:
        if cpus_per_worker <= 0 or gpus_per_worker < 0:
            raise ValueError("--cpus-per-worker must be > 0 and --gpus-per-worker >= 0")
        self.ray = _import_ray()
        self.address, self.workers = address, workers
        self.cpus, self.gpus, self.threads, self.max_retries = cpus_per_worker, gpus_per_worker, threads, max_retries
        self._started = False
        self.actors: list[Any] = []

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "workers": self.workers or len(self.actors),
                "cpus_per_worker": self.cpus, "gpus_per_worker": self.gpus}

    def _connect(self) -> None:
        ray = self.ray
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
            self._started = True

    def _count(self) -> int:
        if self.workers:
            return int(self.workers)
        res = self.ray.cluster_resources()
        n = int(res.get("CPU", 1) // self.cpus)
        if self.gpus:
            n = min(n, int(res.get("GPU", 0) // self.gpus))
        return max(1, n)

    def _start_actors(self, n: int) -> None:
        from litcore import plugins

        actor_cls = self.ray.remote(num_cpus=self.cpus, num_gpus=self.gpus, max_restarts=self.max_retries,
                                    max_task_retries=self.max_retries)(GroupActor)
        builtins = tuple(plugins.BUILTIN_PLUGINS)
        self.actors = [actor_cls.remote(self.threads, builtins) for _ in range(n)]

    def run(self, tasks: Iterator[Task]) -> Iterator[GroupResult]:
        ray = self.ray
        self._connect()
        if not self.actors:
            self._start_actors(self._count())
        idle = list(self.actors)
        in_flight: dict[Any, tuple[Any, Task]] = {}
        pending = iter(tasks)
        exhausted = False
        try:
            while True:
                while idle and not exhausted:
                    task = next(pending, None)
                    if task is None:
                        exhausted = True
                        break
                    actor = idle.pop()
                    in_flight[actor.run.remote(task)] = (actor, task)
                if not in_flight:
                    return
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    actor, task = in_flight.pop(ref)
                    idle.append(actor)
                    try:
                        yield ray.get(ref)
                    except Exception as exc:  # the actor died more often than Ray would retry
                        why = describe_error(exc)[:240]
                        yield lost_result(task, f"Ray worker lost while running group {task.group}: {why}")
        finally:
            for ref in in_flight:  # stopped early (error, Ctrl-C)
                try:
                    ray.cancel(ref)
                except Exception:  # already finished or not cancellable: nothing to do
                    pass

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self._started:
            self.ray.shutdown()
            self._started = False

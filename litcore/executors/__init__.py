"""Where a run's groups execute: `local` (this process), `process` (N worker processes), `ray` (a cluster).

All three run the same group runner (:func:`litcore.parallel.group_records`)
behind one interface (:class:`Executor`), so the records are identical for
the same seed; only speed and fault handling differ. See docs/executors.md.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Iterator

from litcore.executors.base import Executor, GroupResult, Task

EXECUTORS = ("local", "process", "ray")

_current: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("litcore_executor", default=None)


def make_executor(name: str | None = None, *, jobs: int | None = None, threads: int = 1,
                  address: str | None = None, cpus_per_worker: float = 1.0, gpus_per_worker: float = 0.0,
                  registry: Any = None) -> Executor:
    """An executor by name; no name means `process` when `jobs > 1`, else `local` (the old `--jobs N`)."""
    name = name or ("process" if (jobs or 1) > 1 else "local")
    if name == "local":
        from litcore.executors.local import LocalExecutor

        return LocalExecutor(registry)
    if name == "process":
        from litcore.executors.process import ProcessExecutor

        return ProcessExecutor(jobs or 1, threads)
    if name == "ray":
        from litcore.executors.ray import RayExecutor

        return RayExecutor(address, jobs, cpus_per_worker, gpus_per_worker, threads)
    raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")


def current_executor() -> Executor | None:
    """The executor chosen on the command line, for code that is not handed one (task demos)."""
    return _current.get()


@contextlib.contextmanager
def using(executor: Executor) -> Iterator[Executor]:
    token = _current.set(executor)
    try:
        yield executor
    finally:
        _current.reset(token)


__all__ = ["EXECUTORS", "Executor", "GroupResult", "Task", "current_executor", "make_executor", "using"]

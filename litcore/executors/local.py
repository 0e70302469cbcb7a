"""`local`: groups run one after another in this process, records streamed as they come.

The default. It uses the parent's own Experiment (no second model build) and
hands each group over as a live stream, so progress bars and writers see
every record the moment it exists, exactly as a plain loop would.
"""

from __future__ import annotations

from typing import Any, Iterator

from litcore.executors.base import ExperimentCache, Executor, GroupResult, Task, describe_error


def _stream(exp: Any, task: Task, result: GroupResult) -> Iterator[Any]:
    from litcore.parallel import group_records

    failures: list = []
    yield from group_records(exp, task.group, skip=task.skip, order=result.episodes, failures=failures)
    if failures:
        result.failed_at, result.exc = failures[0].failed_at, failures[0].error
        result.error = describe_error(result.exc)


class LocalExecutor(Executor):
    """The consumer must read a result's records before asking for the next result."""

    name = "local"
    in_process = True

    def __init__(self, registry: Any = None) -> None:
        self.cache = ExperimentCache(size=1, registry=registry)

    def run(self, tasks: Iterator[Task]) -> Iterator[GroupResult]:
        for task in tasks:
            result = GroupResult(task.run, task.index, task.group)
            try:
                exp = task.experiment or self.cache.get(task.spec)
            except Exception as exc:
                result.error, result.failed_at, result.exc = describe_error(exc), f"{task.group}/*", exc
                yield result
                continue
            result.records = _stream(exp, task, result)
            yield result

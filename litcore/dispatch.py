"""Many runs, one pool of work: every group of every run goes through one executor.

`lit run` is one run, `lit demo` two or three, `lit bench` a whole grid; all
of them call :func:`execute`, so a bench's cells do not wait for each other:
any free worker takes the next group of any run. Each run is opened (its
Experiment built, `--out` checked, its manifest written) only when its first
group is handed out, and closed when its last group is written. Results come
back in any order; each run's groups are written in dataset order, so the
files do not depend on the executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from litcore.errors import LitcoreError
from litcore.executors.base import Executor, GroupResult, Task


class WorkerError(LitcoreError):
    """An episode failed in a worker; the message names the episode and the original error."""


@dataclass
class RunRequest:
    """One run directory to fill. `build` makes the Experiment of `spec`; `consumers(exp)` its mask/J&F writers."""

    out_dir: Path
    spec: Any
    build: Callable[[], Any]
    consumers: Callable[[Any], Sequence[Any]] = lambda exp: ()
    on_record: Callable[[Any], None] | None = None
    on_close: Callable[[], None] | None = None
    keep_going: bool = False
    existing: str = "refuse"          # refuse | resume | overwrite (litcore.rundir)
    label: str = ""                   # how failure lines name the run ("" for a single `lit run`)


@dataclass
class Failure:
    run: str
    episode_id: str
    error: str

    def line(self) -> str:
        return f"{self.run + ': ' if self.run else ''}{self.episode_id}: {self.error}"


@dataclass
class RunOutcome:
    out_dir: Path
    status: str = "running"
    failures: list[Failure] = field(default_factory=list)


class _OpenRun:
    """A run being written: its writer, consumers and the groups still to come."""

    def __init__(self, req: RunRequest, keep_exp: bool) -> None:
        from litcore import rundir
        from litcore.results import RunWriter

        self.req = req
        resume = rundir.prepare(req.out_dir, req.existing, _spec_json(req.spec))  # before the model is built
        exp = req.build()
        self.groups = list(exp.spec.groups or exp.dataset.groups())
        self.consumers = list(req.consumers(exp))
        self.resumed = resume is not None
        if resume is not None:  # keep only episodes every consumer kept too (J&F is written per whole video)
            keep = resume.finished
            for c in self.consumers:
                if hasattr(c, "resumable"):
                    keep = keep & frozenset(c.resumable(keep))
            resume.episodes = [ep for ep in resume.episodes if ep["episode_id"] in keep]
        self.skip = resume.finished if resume else frozenset()
        self.writer = RunWriter(req.out_dir, exp.manifest(), resume=resume)
        for c in self.consumers:
            if resume is not None and hasattr(c, "resume"):
                c.resume(self.skip)
        self.exp = exp if keep_exp else None   # remote executors rebuild it; don't hold the model here
        self.next = 0
        self.waiting: dict[int, GroupResult] = {}
        self.order: dict[str, tuple[int, int]] = {}
        self.failed = False
        self.closed = False

    def emit(self, rec: Any) -> None:
        for c in self.consumers:  # consumers first: the writer's summary is the commit point
            c.write(rec)
        self.writer.write(rec)
        if self.req.on_record is not None:
            self.req.on_record(rec)


def _spec_json(spec: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(spec)


def execute(requests: Sequence[RunRequest], executor: Executor) -> list[RunOutcome]:
    """Run every request through `executor`; raise the first error unless its run keeps going.

    With `keep_going` a failed group is recorded (manifest "errors", the
    outcome's failures) and the rest goes on. Without it, no new group is
    handed out after a failure, the groups already running are still written,
    and the first error is raised at the end (the original exception when it
    ran in this process).
    """
    outcomes = [RunOutcome(Path(r.out_dir)) for r in requests]
    runs: dict[int, _OpenRun] = {}
    stop = False

    def tasks() -> Iterator[Task]:
        for i, req in enumerate(requests):
            if stop:
                return
            run = runs[i] = _OpenRun(req, executor.in_process)
            for j, group in enumerate(run.groups):
                if stop:
                    return
                yield Task(i, j, req.spec, group, run.skip, run.exp)
            if not run.groups:
                _close(run, outcomes[i])

    first: tuple[_OpenRun, GroupResult] | None = None
    try:
        for result in executor.run(tasks()):
            run = runs[result.run]
            run.waiting[result.index] = result
            while run.next in run.waiting:
                res = run.waiting.pop(run.next)
                _deliver(run, res, outcomes[result.run])
                if res.error is not None and not run.req.keep_going and first is None:
                    first, stop = (run, res), True
                run.next += 1
            if run.next == len(run.groups):
                _close(run, outcomes[result.run])
    finally:
        for i, run in runs.items():  # stopped early: write what came back, in order, and close
            for index in sorted(run.waiting):
                _deliver(run, run.waiting.pop(index), outcomes[i])
            _close(run, outcomes[i])
    if first is not None:
        run, res = first
        if res.exc is not None:
            raise res.exc
        raise WorkerError(f"{res.failed_at}: {res.error}")
    return outcomes


def _deliver(run: _OpenRun, res: GroupResult, outcome: RunOutcome) -> None:
    for rec in res.records:   # a live stream for the local executor
        run.emit(rec)
    for k, episode_id in enumerate(res.episodes):
        run.order[episode_id] = (res.index, k)
    if res.error is not None:
        run.failed = True
        run.writer.record_error(res.failed_at or f"{res.group}/*", res.error)
        outcome.failures.append(Failure(run.req.label, res.failed_at or f"{res.group}/*", res.error))


def _close(run: _OpenRun, outcome: RunOutcome) -> None:
    if run.closed:
        return
    run.closed = True
    try:
        for c in run.consumers:
            c.close()
    finally:
        complete = run.next >= len(run.groups)
        outcome.status = "failed" if run.failed else ("complete" if complete else "stopped")
        run.writer.finish(outcome.status, run.order if run.resumed else None)
        run.exp = None
        if run.req.on_close is not None:
            run.req.on_close()

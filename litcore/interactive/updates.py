"""Adapter updates of one interactive session, inline or on a background thread.

A person must never wait for training, so `lit serve` queues each correction's
update on a worker thread that trains a *copy* of the adapter and swaps the
finished weights in under a lock: revisions always read the newest finished
adapter and never see half-trained weights. The simulated user (`lit run`)
runs the very same job inline, in place, so its numbers do not change.
"""

from __future__ import annotations

import copy
import os
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from litcore.adapters.base import Adapter
from litcore.policy import UpdatePolicy
from litcore.types import UpdateReport


NICE = 10  # training yields the CPU to the threads answering clicks (Linux: per-thread niceness)


def _lower_priority() -> None:
    """Lower this thread's scheduling priority where the OS allows it (a no-op elsewhere)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):
        pass


@dataclass
class _Job:
    learner: Adapter
    sample: Any
    on_done: Callable[[UpdateReport], None]


class UpdateWorker:
    """Runs `policy.update` jobs in submission order; `background=False` runs them in `submit`."""

    def __init__(self, policy: UpdatePolicy, model: Any, *, background: bool = False) -> None:
        self.policy, self.model, self.background = policy, model, background
        self.weights = threading.Lock()   # held while weights are read for a revision or swapped in
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self.running = False
        self.updates = 0
        self.last_seconds: float | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._serve, name="lit-update", daemon=True)
            self._thread.start()

    def submit(self, learner: Adapter, sample: Any, on_done: Callable[[UpdateReport], None]) -> None:
        job = _Job(learner, sample, on_done)
        if not self.background:
            self._finish(job, self.policy.update(learner, self.model, sample))
            return
        with self._idle:
            self._pending += 1
        self._queue.put(job)

    def _serve(self) -> None:
        _lower_priority()
        while (job := self._queue.get()) is not None:
            with self._idle:
                self.running = True
            try:
                with self.weights:
                    shadow = copy.deepcopy(job.learner)   # newest finished weights
                report = self.policy.update(shadow, self.model, job.sample)
                with self.weights:
                    job.learner.load_state_dict(shadow.state_dict())
                    job.learner.updates = shadow.updates
                self._finish(job, report)
            except Exception as exc:  # a failed update must not kill the session
                self.error = f"{type(exc).__name__}: {exc}"
            finally:
                with self._idle:
                    self._pending -= 1
                    self.running = False
                    self._idle.notify_all()

    def _finish(self, job: _Job, report: UpdateReport) -> None:
        self.updates += 1
        self.last_seconds = report.seconds
        job.on_done(report)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted update has finished; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def status(self) -> dict[str, Any]:
        with self._idle:
            queued = max(self._pending - (1 if self.running else 0), 0)
            return {"running": self.running, "queued": queued, "updates": self.updates,
                    "last_seconds": self.last_seconds, "error": self.error}

    def close(self) -> None:
        """Finish queued work and stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

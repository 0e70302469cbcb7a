"""`process` (`--jobs N`): N spawned worker processes on this machine, one group at a time each.

A small pool of our own rather than `concurrent.futures.ProcessPoolExecutor`:
there one dead worker (an out-of-memory kill) breaks the whole pool and every
pending group is lost. Here each worker holds exactly one task, so a dead
worker costs only that group; it is reported as failed and a fresh worker
takes its place. Workers die with their parent (Linux: PR_SET_PDEATHSIG; a
parent-pid watchdog elsewhere), so killing `lit run` leaves no orphan holding
memory or a GPU. Workers rebuild the registry from installed plugins and the
parent's built-in plugin list, so plugins registered by hand in the parent are
not visible there.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Iterator

from litcore.executors.base import (ExperimentCache, Executor, GroupResult, Task, lost_result, run_task,
                                    set_builtin_plugins)


def die_with_parent(parent_pid: int) -> None:
    """Make this process exit when `parent_pid` goes away, however it goes (SIGKILL included)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, name="litcore-parent-watchdog", daemon=True).start()


def _worker_main(conn: Connection, parent_pid: int, threads: int, builtins: tuple[str, ...]) -> None:
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    import torch

    torch.set_num_threads(max(1, threads))
    set_builtin_plugins(builtins)
    cache = ExperimentCache()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(run_task(cache, task))


class _Worker:
    def __init__(self, ctx: Any, threads: int, builtins: tuple[str, ...]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, os.getpid(), threads, builtins), daemon=True)
        self.proc.start()
        child.close()
        self.task: Task | None = None

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _death(proc: Any) -> str:
    code = proc.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    hint = " (an out-of-memory kill looks like this)" if code == -9 else ""
    return f"WorkerDied: worker process {proc.pid} died ({how}){hint}"


class ProcessExecutor(Executor):
    name = "process"

    def __init__(self, jobs: int, threads: int = 1) -> None:
        self.jobs, self.threads = max(1, int(jobs)), max(1, int(threads))
        self.workers: list[_Worker] = []   # live workers (tests read their pids)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "jobs": self.jobs, "threads": self.threads}

    def run(self, tasks: Iterator[Task]) -> Iterator[GroupResult]:
        from litcore import plugins

        ctx = multiprocessing.get_context("spawn")  # fork after torch/OpenMP start-up can deadlock
        builtins = tuple(plugins.BUILTIN_PLUGINS)
        pending = iter(tasks)
        retry: list[Task] = []      # handed to a worker that had just died: give it to another
        exhausted = False
        try:
            while True:
                for w in [w for w in self.workers if w.task is None and not w.proc.is_alive()]:
                    self.workers.remove(w)
                idle = [w for w in self.workers if w.task is None]
                while (retry or not exhausted) and (idle or len(self.workers) < self.jobs):
                    task = retry.pop() if retry else next(pending, None)
                    if task is None:
                        exhausted = True
                        break
                    worker = idle.pop() if idle else self._spawn(ctx, builtins)
                    try:
                        worker.conn.send(task)
                        worker.task = task
                    except OSError:
                        self.workers.remove(worker)
                        retry.append(task)
                busy = [w for w in self.workers if w.task is not None]
                if not busy:
                    return
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
                for w in busy:
                    if w.conn in ready:
                        try:
                            result = w.conn.recv()
                        except (EOFError, OSError):
                            result = None
                        if result is not None:
                            w.task = None
                            yield result
                            continue
                    if w.proc.sentinel in ready or not w.proc.is_alive():
                        w.proc.join(timeout=5)
                        task, w.task = w.task, None
                        self.workers.remove(w)
                        w.conn.close()
                        yield lost_result(task, _death(w.proc) + f" while running group {task.group}")
        finally:
            for w in self.workers:
                if w.task is not None:   # stopped early (error, Ctrl-C): don't wait for groups
                    w.proc.kill()
                w.stop()
            self.workers = []

    def _spawn(self, ctx: Any, builtins: tuple[str, ...]) -> _Worker:
        w = _Worker(ctx, self.threads, builtins)
        self.workers.append(w)
        return w

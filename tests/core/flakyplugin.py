"""The fake task with a slow, switchable-to-failing model, for crash, kill and resume tests.

Model ``fake-flaky`` is ``fakeplugin.FakeModel`` plus `delay` seconds per item
(so a test can kill a run while an episode is in progress) and `fail_flag`:
while that file exists, episodes listed in `fail_on` raise (a transient
failure that a resume can fix); `die_flag`: while that file exists, the
process running an episode of `die_on` kills itself with SIGKILL after the
episode's first item (an out-of-memory kill mid-episode; with `die_once` the
flag is removed first, so a retry succeeds); `barrier_dir`: every episode leaves a mark
there when it starts, and those of `barrier_on` wait (at most 60 s) until `barrier_count`
episodes have started (an ordering a test can rely on, not a race). Dataset ``fake-many`` has `groups` groups of
`objects` scripted episodes each.
"""

from __future__ import annotations

import os
import signal
import uuid
import time
from pathlib import Path
from typing import Any

from fakeplugin import TASK, FakeDataset, FakeModel, FakeSession
from litcore.hookspecs import hookimpl


class FlakySession(FakeSession):
    def items(self):
        model = self.model
        if model.fail_flag and Path(model.fail_flag).exists() and self.episode.episode_id in model.fail_on:
            raise RuntimeError(f"flaky failure in {self.episode.episode_id}")
        if model.barrier_dir:
            marks = Path(model.barrier_dir)
            marks.mkdir(parents=True, exist_ok=True)
            (marks / uuid.uuid4().hex).touch()
            deadline = time.monotonic() + 60
            while (self.episode.episode_id in model.barrier_on and len(list(marks.iterdir())) < model.barrier_count
                   and time.monotonic() < deadline):
                time.sleep(0.01)
        for i, item in enumerate(super().items()):
            time.sleep(model.delay)
            if i == 1 and model.die_flag and Path(model.die_flag).exists() and self.episode.episode_id in model.die_on:
                if model.die_once:
                    Path(model.die_flag).unlink()
                os.kill(os.getpid(), signal.SIGKILL)
            yield item


class FlakyModel(FakeModel):
    def __init__(self, delay: float = 0.0, fail_flag: str | None = None, fail_on: list | None = None,
                 die_flag: str | None = None, die_on: list | None = None, die_once: bool = False,
                 barrier_dir: str | None = None, barrier_on: list | None = None, barrier_count: int = 0) -> None:
        super().__init__()
        self.delay, self.fail_flag, self.fail_on = float(delay), fail_flag, list(fail_on or [])
        self.die_flag, self.die_on, self.die_once = die_flag, list(die_on or []), bool(die_once)
        self.barrier_dir, self.barrier_on, self.barrier_count = barrier_dir, list(barrier_on or []), int(barrier_count)

    def session(self, episode):
        s = FlakySession(self, episode)
        self.sessions.append(s)
        return s


def many_episodes(groups: int, objects: int) -> dict[str, Any]:
    payloads = [[(0, 0, None), (3, 5, None), (2, 4, 4), (7, 7, None)], [(9, 1, 1), (0, 2, 0)],
                [(1, 1, None), (4, 0, None), (2, 3, 3)]]
    return {f"g{g}/{o + 1}": (f"g{g}", payloads[(g + o) % len(payloads)]) for g in range(groups) for o in range(objects)}


class ManyDataset(FakeDataset):
    def __init__(self, groups: int = 4, objects: int = 2, root: str | None = None) -> None:
        super().__init__(root, many_episodes(int(groups), int(objects)))


@hookimpl
def litcore_register_models(register):
    register("fake-flaky", FlakyModel, task=TASK, description="fake model: slow items, failures on a flag file")


@hookimpl
def litcore_register_datasets(register):
    register("fake-many", ManyDataset, task=TASK, description="fake episodes in many groups")

"""The interactive session API on the fake task: frontier, revisions, corrections, background updates."""

from __future__ import annotations

import threading

import pytest
import torch

from fakeplugin import FakeDataset, FakeModel
from litcore.adapters import LoraAdapter
from litcore.interactive import InteractiveSession, SessionStateError, UpdateWorker, attach_adapter
from litcore.policy import every_correction
from litcore.types import Click, MaskAction

SPEC = {"v/1": ("v", [(0, 3, None), (1, 2, 2), (5, 5, None), (0, 4, 4)])}


def setup(**kw):
    model = FakeModel()
    adapter = attach_adapter(model, LoraAdapter(rank=2, dropout=0.0), seed=0)
    policy = every_correction(max_steps=5)
    ep = next(FakeDataset(episodes=SPEC).episodes())
    return model, adapter, InteractiveSession(model, adapter, policy, ep, **kw)


def state(adapter):
    return {k: v.clone() for k, v in adapter.state_dict().items()}


def correct_first_item(s):
    item = s.next_item()
    s.apply(Click(x=0, y=0))
    s.apply(MaskAction(mask=item.target))
    return s.finish_item()


def test_the_frontier_must_be_finished_before_the_next_item():
    _, _, s = setup()
    s.next_item()
    with pytest.raises(SessionStateError):
        s.next_item()
    rec = s.finish_item()
    assert rec.outcome == "ok" and s.kept == {0: 0}
    with pytest.raises(SessionStateError):
        s.finish_item()


def test_a_correction_records_actions_and_trains_inline():
    _, adapter, s = setup()
    before = state(adapter)
    rec = correct_first_item(s)
    assert rec.outcome == "user" and rec.actions == ["click", "mask"] and rec.clicks == 1
    assert rec.update is not None and adapter.updates == 1
    assert any(not torch.equal(before[k], v) for k, v in adapter.state_dict().items())
    assert s.update_status()["updates"] == 1


def test_background_training_gives_the_same_weights_as_inline():
    _, a1, s1 = setup()
    correct_first_item(s1)
    _, a2, s2 = setup(background=True)
    correct_first_item(s2)
    assert s2.worker.wait(60)
    assert all(torch.equal(v, a2.state_dict()[k]) for k, v in a1.state_dict().items())
    s2.close()


class Gate:
    def __init__(self, inner):
        self.inner, self.open, self.started = inner, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def update(self, adapter, learner, sample):
        self.started.set()
        self.open.wait(30)
        return self.inner.update(adapter, learner, sample)


def test_revisions_use_the_last_finished_adapter_while_an_update_runs():
    model = FakeModel()
    adapter = attach_adapter(model, LoraAdapter(rank=2, dropout=0.0), seed=0)
    gate = Gate(every_correction(max_steps=5))
    ep = next(FakeDataset(episodes=SPEC).episodes())
    s = InteractiveSession(model, adapter, gate, ep, background=True)
    before = state(adapter)
    correct_first_item(s)
    assert gate.started.wait(30)
    assert s.update_status()["running"] is True
    s.next_item()
    assert s.flag() is None                      # not trained yet: no revision, and no waiting
    assert all(torch.equal(before[k], v) for k, v in adapter.state_dict().items())
    gate.open.set()
    assert s.worker.wait(30)
    assert s.update_status() == {**s.update_status(), "running": False, "updates": 1}
    assert s.flag() == 2 and s.source == "revision"
    s.accept_revision()
    s.finish_item()
    assert s.records[-1].outcome == "auto"
    s.close()


def test_a_failed_background_update_is_reported_and_the_session_goes_on():
    class Broken:
        def __init__(self):
            self.inner = every_correction()

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def update(self, *a):
            raise RuntimeError("out of memory")

    model = FakeModel()
    adapter = attach_adapter(model, LoraAdapter(rank=2), seed=0)
    ep = next(FakeDataset(episodes=SPEC).episodes())
    s = InteractiveSession(model, adapter, Broken(), ep, background=True)
    correct_first_item(s)
    assert s.worker.wait(30)
    assert "out of memory" in s.update_status()["error"]
    assert s.next_item() is not None
    s.close()


def test_lit_off_neither_revises_nor_trains():
    _, adapter, s = setup(lit=False)
    rec = correct_first_item(s)
    assert rec.update is None and adapter.updates == 0
    s.next_item()
    assert s.revisions() == [] and s.flag() is None


def test_events_are_logged_with_the_given_clock():
    ticks = iter(range(100))
    _, _, s = setup(log_events=True, clock=lambda: float(next(ticks)))
    rec = correct_first_item(s)
    assert [(e["t"], e["event"]) for e in rec.events] == [(0, "show"), (1, "click"), (2, "mask"), (3, "accept")]
    assert rec.to_json()["events"][1] == {"t": 1, "event": "click", "x": 0, "y": 0, "positive": True}


def test_worker_status_counts_queued_jobs():
    w = UpdateWorker(every_correction(), FakeModel(), background=True)
    assert w.status() == {"running": False, "queued": 0, "updates": 0, "last_seconds": None, "error": None}
    w.close()

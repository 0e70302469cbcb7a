"""A person's session on one gallery entry, and the bounded, expiring set of open sessions.

A :class:`ServeSession` owns its adapter (attached to its own copy of the
adaptable module, so one user's corrections never reach another's) and runs
the entry's episodes (objects) one after another through
:class:`litcore.interactive.InteractiveSession`, which resets the adapter per
object. Calls into the shared task model are serialised by one model lock;
adapter updates train on each session's worker thread outside that lock, so a
click in one session never waits for another session's training.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from litcore.interactive import InteractiveSession, attach_adapter
from litcore.interactive.records import EpisodeRecord, StepRecord
from litcore.metrics import CorrectionStats
from litcore.serve.codec import BadInput
from litcore.task import Episode


@dataclass
class ServeOptions:
    seed: int = 0
    adapter: Callable[[], Any] | None = None        # builds a fresh adapter (one per session)
    policy: Callable[[], Any] | None = None
    adapter_targets: Any = None
    train_on: str = "correction"                    # "truth": train on the ground truth (the robot parity test)
    background: bool = True                         # False: each accept waits for its update
    max_sessions: int = 8
    idle_seconds: float = 1800.0


@dataclass
class FinishedEpisode:
    episode: Episode
    kept: dict[int, Any]
    records: list[StepRecord]
    result: EpisodeRecord


class ServeSession:
    """One user on one group: the current object's interactive session and the finished ones."""

    def __init__(self, sid: str, user: str, group: str, episodes: list[Episode], view: Any, model: Any,
                 oracle: Any, options: ServeOptions, model_lock: threading.RLock, *, lit: bool = True,
                 on_episode: Callable[["ServeSession", FinishedEpisode], None] | None = None) -> None:
        self.id, self.user, self.group, self.view = sid, user, group, view
        self.episodes, self.model, self.oracle, self.options = episodes, model, oracle, options
        self.model_lock, self.lit, self.on_episode = model_lock, lit, on_episode
        self.lock = threading.RLock()
        self.cancel = threading.Event()
        self.busy = False
        self.opened = self.last_used = time.time()
        self.finished: list[FinishedEpisode] = []
        self.adapter = attach_adapter(model, options.adapter(), seed=options.seed, targets=options.adapter_targets)
        self.policy = options.policy()
        self.index = -1
        self.active: InteractiveSession | None = None
        self.closed = False
        self._open_next()
        self.opened = self.last_used = time.time()   # session time starts when the first item is shown

    # -- episodes --------------------------------------------------------
    def _open_next(self) -> None:
        """Start the next object (the adapter resets); skip the prompt item of a video object."""
        while self.index + 1 < len(self.episodes):
            self.index += 1
            ep = self.episodes[self.index]
            with self.model_lock:
                self.active = InteractiveSession(
                    self.model, self.adapter, self.policy, ep, seed=self.options.seed, lit=self.lit,
                    background=self.options.background, train_on=self.options.train_on, log_events=True,
                    fit_score=float(getattr(self.oracle, "tau", None) or 0.5))
                item = self.active.next_item()
                if item is not None and item.index == self.view.first_index(ep) and item.target is None:
                    self._finish_frontier()   # the prompt frame: done already
                    item = self.active.next_item()
            if item is not None:
                return
            self._close_active()
        self.active = None

    def _close_active(self) -> None:
        act = self.active
        if act is None:
            return
        with self.model_lock:
            act.close()
        fin = FinishedEpisode(act.episode, dict(act.kept), list(act.records), act.episode_record())
        self.finished.append(fin)
        self.active = None
        if self.on_episode is not None:
            self.on_episode(self, fin)

    @property
    def done(self) -> bool:
        return self.active is None

    # -- the frontier ----------------------------------------------------
    def frontier_index(self) -> int | None:
        return None if self.active is None or self.active.frontier is None else self.active.frontier.index

    def require_frontier(self, index: int) -> InteractiveSession:
        if self.busy:
            raise BadInput("session", "a propagation is running; cancel it first", status=409)
        front = self.frontier_index()
        if front is None:
            raise BadInput("index", "the session is finished: no item is editable", status=409)
        if index != front:
            state = "done" if index in self.active.kept else "not reached yet"
            raise BadInput("index", f"item {index} is {state}; the frontier is {front}",
                           status=409 if index in self.active.kept else 404)
        return self.active

    def _score(self, prediction: Any, target: Any) -> float | None:
        if target is None or self.oracle is None:
            return None
        return float(self.oracle.review(prediction, target).score)

    def flag(self, index: int) -> Any:
        act = self.require_frontier(index)
        with self.model_lock:
            revision = act.flag()
        if revision is not None:
            act.record.proposal_score = self._score(revision, act.frontier.target)
        return revision

    def reject(self, index: int) -> Any:
        return self.require_frontier(index).reject_revision()

    def apply(self, index: int, action: Any) -> Any:
        act = self.require_frontier(index)
        with self.model_lock:
            return act.apply(action)

    def accept(self, index: int) -> None:
        self.require_frontier(index)
        self._accept_frontier()

    def _finish_frontier(self) -> StepRecord:
        act = self.active
        item, rec = act.frontier, act.record
        rec.score = self._score(item.prediction, item.target)
        rec.final_score = self._score(rec.output, item.target)
        return act.finish_item()

    def _accept_frontier(self) -> None:
        """Finish the frontier as shown (a shown revision is accepted) and advance; next object at the end."""
        act = self.active
        with self.model_lock:
            if act.source == "revision" and act._revision is not None:
                act.accept_revision()
            self._finish_frontier()
            item = act.next_item()
        if item is None:
            self._close_active()
            self._open_next()

    def propagate_step(self) -> bool:
        """Accept the frontier and move on (one step of a propagation); False when nothing is left."""
        if self.active is None:
            return False
        self._accept_frontier()
        return self.active is not None

    def set_lit(self, enabled: bool) -> None:
        self.lit = enabled
        if self.active is not None:
            self.active.lit = enabled

    # -- state -----------------------------------------------------------
    def records(self) -> tuple[list[StepRecord], list[EpisodeRecord]]:
        steps = [r for f in self.finished for r in f.records]
        if self.active is not None:
            steps += self.active.records
        return steps, [f.result for f in self.finished]

    def state(self) -> dict[str, Any]:
        stats = CorrectionStats()
        for rec in self.records()[0]:
            stats.update(rec)
        c = stats.compute()
        upd = self.active.update_status() if self.active is not None else {
            "running": False, "queued": 0, "updates": 0, "last_seconds": None, "error": None}
        ep = self.episodes[min(max(self.index, 0), len(self.episodes) - 1)]
        view = self.view
        return {
            "id": self.id, "user": self.user, "group": self.group, "task": getattr(self.model, "task", "task"),
            "kind": view.kind, "object": view.object_name(ep), "objects": [view.object_name(e) for e in self.episodes],
            "object_index": max(self.index, 0), "frontier": self.frontier_index(), "first": view.first_index(ep),
            "length": view.length, "done": self.done, "lit": self.lit, "busy": self.busy,
            "image": None if view.height is None else {"width": view.width, "height": view.height},
            "labels": view.labels,
            "counters": {"user_corrections": c["user_corrections"], "clicks": c["clicks"],
                         "auto_corrections": c["auto_corrections"], "seconds": round(time.time() - self.opened, 3)},
            "update": {"running": upd["running"], "queued": upd["queued"],
                       "updates": sum(f.result.metrics.get("updates", 0) for f in self.finished) + upd["updates"],
                       "last_seconds": upd["last_seconds"], "error": upd["error"]},
        }

    def kept(self, index: int) -> tuple[Any, Any, str]:
        """(prediction, scores, state) of a done or frontier item of the current object."""
        act = self.active
        if act is not None and act.frontier is not None and act.frontier.index == index:
            return act.current, act.frontier.scores, "frontier"
        if act is not None and index in act.kept:
            return act.kept[index], None, "done"
        if self.finished and index in self.finished[-1].kept and act is None:
            return self.finished[-1].kept[index], None, "done"
        raise BadInput("index", f"item {index} has no prediction yet (frontier: {self.frontier_index()})", status=404)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            self.cancel.set()
            if self.active is not None:
                self._close_active()


class SessionLimitError(BadInput):
    pass


@dataclass
class SessionManager:
    """Open sessions by id; bounded in number, closed after `idle_seconds` without a request."""

    max_sessions: int = 8
    idle_seconds: float = 1800.0
    sessions: dict[str, ServeSession] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self) -> str:
        return "s" + secrets.token_hex(6)

    def find(self, user: str, group: str) -> ServeSession | None:
        with self.lock:
            return next((s for s in self.sessions.values() if s.user == user and s.group == group), None)

    def reserve(self) -> None:
        self.expire()
        with self.lock:
            if len(self.sessions) >= self.max_sessions:
                raise SessionLimitError("sessions", f"{self.max_sessions} sessions are open; close one first", 429)

    def add(self, session: ServeSession) -> None:
        with self.lock:
            self.sessions[session.id] = session

    def get(self, sid: str) -> ServeSession:
        with self.lock:
            s = self.sessions.get(sid)
        if s is None:
            raise BadInput("session_id", f"no open session {sid!r}", status=404)
        s.last_used = time.time()
        return s

    def remove(self, sid: str) -> ServeSession:
        s = self.get(sid)
        with self.lock:
            self.sessions.pop(sid, None)
        s.close()
        return s

    def expire(self, now: float | None = None) -> list[str]:
        now = time.time() if now is None else now
        with self.lock:
            old = [sid for sid, s in self.sessions.items() if now - s.last_used > self.idle_seconds and not s.busy]
            gone = [self.sessions.pop(sid) for sid in old]
        for s in gone:
            s.close()
        return old

    def close_all(self) -> None:
        with self.lock:
            gone, self.sessions = list(self.sessions.values()), {}
        for s in gone:
            s.close()

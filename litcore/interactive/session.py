"""One episode driven one call at a time: the API shared by the simulated user and a person.

`LiveTrainer` (the simulated user of `lit run`) and `lit serve` (a person in a
browser) both go through :class:`InteractiveSession`, so there is one code
path for predicting, revising, accepting, correcting and learning.

The task session is a forward generator (SAM2 propagates frame after frame
and each frame reads the memory written by the earlier ones), so exactly one
item is editable: the **frontier**. `next_item()` finishes nothing by itself;
`finish_item()` closes the frontier's record (and queues the adapter update
of a correction), after which `next_item()` advances the generator. Items
already finished stay viewable through `kept` (their kept outputs).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from litcore.adapters.base import Adapter
from litcore.interactive.records import EpisodeRecord, StepRecord, derive_seed, seed_everything
from litcore.interactive.updates import UpdateWorker
from litcore.metrics import CorrectionStats
from litcore.policy import UpdatePolicy
from litcore.task import Episode, TaskModel
from litcore.types import Action, Item

MODES = ("propose", "replace")
TARGETS = ("truth", "correction")


def attach_adapter(model: TaskModel, adapter: Adapter, *, seed: int, targets: Any = None) -> Adapter:
    """Attach `adapter` to a copy of the model's adaptable module; its initial weights depend only on `seed`."""
    seed_everything(seed)
    adapter.attach(model.adaptable_module(), targets if targets is not None else model.adapter_targets(adapter.target_kind))
    return adapter


class SessionStateError(ValueError):
    """A call that does not fit the session's state (nothing to accept, episode over)."""


class InteractiveSession:
    """An episode: its frontier item, the user's actions on it, the records and the adapter's updates.

    `train_on="truth"` trains on the item's ground truth (the simulated user,
    as in the paper); `"correction"` on the user's corrected prediction (a
    person, whose data may have no ground truth). `background=True` trains on
    a worker thread (see :mod:`litcore.interactive.updates`); `log_events`
    adds wall-clock timestamps of every call to the records (user studies).
    """

    def __init__(self, model: TaskModel, adapter: Adapter, policy: UpdatePolicy, episode: Episode, *,
                 seed: int = 0, mode: str = "propose", lit: bool = True, background: bool = False,
                 train_on: str = "truth", log_events: bool = False, fit_score: float = 0.5,
                 clock: Callable[[], float] = time.time) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
        if train_on not in TARGETS:
            raise ValueError(f"unknown train_on {train_on!r}; choose from {TARGETS}")
        if background and mode == "replace":
            raise ValueError("replace mode installs each update into the shared model: it needs background=False")
        self.model, self.adapter, self.policy, self.episode = model, adapter, policy, episode
        self.mode, self.lit, self.train_on, self.clock = mode, lit, train_on, clock
        self.log_events, self.fit_score = log_events, fit_score   # an update "fits" at this training score
        self.started = time.perf_counter()
        seed_everything(derive_seed(seed, episode.episode_id))
        adapter.reset()
        policy.reset()
        self.worker = UpdateWorker(policy, model, background=background)
        self.stats = CorrectionStats()
        self.records: list[StepRecord] = []
        self.kept: dict[int, Any] = {}
        self.frontier: Item | None = None
        self.record: StepRecord | None = None
        self.done = False
        self.session = model.session(episode)
        self._items = self.session.items()
        self._reset_item_state()

    # -- the frontier ----------------------------------------------------
    def _reset_item_state(self) -> None:
        self.current: Any = None          # the prediction shown now
        self.source = "model"             # model | revision | corrected
        self._revision: tuple[Adapter, Any] | None = None
        self._last_revised: Adapter | None = None
        self._accepted_revision = False
        self._taken: list[Action] = []

    def next_item(self) -> Item | None:
        """Advance to the next item (after `finish_item`); None once the episode is over."""
        if self.record is not None:
            raise SessionStateError(f"item {self.frontier.index} is not finished")
        if self.done:
            return None
        try:
            item = next(self._items)
        except StopIteration:
            self.done, self.frontier = True, None
            return None
        self.frontier = item
        self._reset_item_state()
        self.current = item.prediction
        self.record = StepRecord(self.episode.episode_id, self.episode.group, item.index, item.name,
                                 checked=item.target is not None, outcome="unchecked", confidence=item.confidence,
                                 output=item.prediction, base_output=item.prediction,
                                 events=[] if self.log_events else None)
        self._event("show")
        return item

    def _require(self) -> Item:
        if self.frontier is None or self.record is None:
            raise SessionStateError("no item is open: the episode is over or the item was finished")
        return self.frontier

    def _event(self, event: str, **data: Any) -> None:
        if self.record is not None and self.record.events is not None:
            self.record.events.append({"t": round(self.clock(), 3), "event": event, **data})

    # -- revisions -------------------------------------------------------
    def revisions(self) -> list[tuple[Adapter, Any]]:
        """Every trained candidate's proposal for the frontier (none when LIT is off)."""
        item = self._require()
        if not self.lit or self.mode != "propose":
            return []
        out = []
        for cand in self.adapter.candidates():
            with self.worker.weights:
                proposal = self.session.revise(item, cand.module)
            self._last_revised = cand
            if proposal is not None:
                out.append((cand, proposal))
        return out

    def flag(self) -> Any | None:
        """A person says the frontier is wrong: show the newest candidate's revision, or None."""
        props = self.revisions()
        self._event("flag", revision=bool(props))
        if not props:
            return None
        cand, proposal = props[-1]
        if cand is not self._last_revised:
            with self.worker.weights:
                self.session.revise(self.frontier, cand.module)
            self._last_revised = cand
        self._revision = (cand, proposal)
        self.current, self.source = proposal, "revision"
        return proposal

    def accept_revision(self, cand: Adapter | None = None, proposal: Any = None) -> None:
        """Make a revision the item's output and the model's memory ("auto": not a user correction)."""
        item = self._require()
        if cand is None:
            if self._revision is None:
                raise SessionStateError("no revision is shown")
            cand, proposal = self._revision
        if cand is not self._last_revised:  # the session accepts its latest revision
            with self.worker.weights:
                self.session.revise(item, cand.module)
            self._last_revised = cand
        self.session.accept(item, proposal)
        self._accepted_revision = True
        self.current, self.source, self._revision = proposal, "revision", None
        self.record.output = proposal
        self._event("accept-revision")

    def reject_revision(self) -> Any:
        """Drop the shown revision: back to the model's (or the user's corrected) prediction."""
        self._require()
        self._revision = None
        self._event("reject")
        self.current = self.record.output
        self.source = "corrected" if self._taken else "model"
        return self.current

    # -- corrections -----------------------------------------------------
    def apply(self, action: Action) -> Any:
        """Apply one user action to the frontier; return the refined prediction."""
        item = self._require()
        if self._accepted_revision:
            raise SessionStateError("the revision was accepted; finish the item")
        self._revision = None
        prediction = self.session.apply(item, action)
        self._taken.append(action)
        self.current, self.source = prediction, "corrected"
        self.record.output = prediction
        self._event(action.kind, **_action_fields(action))
        return prediction

    @property
    def actions(self) -> list[Action]:
        return list(self._taken)

    def finish_item(self, *, outcome: str | None = None, best: Adapter | None = None,
                    best_score: float | None = None) -> StepRecord:
        """Close the frontier's record; a correction queues the adapter update.

        The outcome is `auto` after an accepted revision, `user` after actions,
        else `ok` (checked) or `unchecked`; `outcome` overrides it (the
        simulated user's `unfixed`, `over-budget`). `best`/`best_score` are
        the best proposal and its score, which a pool uses to pick the member
        to train.
        """
        item = self._require()
        rec = self.record
        if self._accepted_revision:
            rec.checked, rec.outcome = True, "auto"
        elif self._taken:
            rec.checked, rec.outcome = True, "user"
            rec.actions = [a.kind for a in self._taken]
            rec.clicks = sum(a.kind == "click" for a in self._taken)
            rec.correction = self._taken[-1].kind
        elif rec.checked:
            rec.outcome = "ok"
        if outcome is not None:
            rec.outcome = outcome
        self._event("accept")
        if rec.outcome == "user" and self.lit and self.adapter.module is not None \
                and self.policy.wants_update(self.adapter):
            self._queue_update(item, rec, best, best_score)
        self.kept[item.index] = rec.output
        self.records.append(rec)
        self.stats.update(rec)
        self.record = None
        return rec

    def _queue_update(self, item: Item, rec: StepRecord, best: Adapter | None, best_score: float | None) -> None:
        target = item.target if self.train_on == "truth" else _as_target(rec.output)
        sample = self.session.training_sample(Item(item.index, item.name, item.prediction, target, item.confidence))
        learner = self.adapter.for_update(best, best_score)

        def done(report) -> None:
            if self.mode == "replace":
                self.session.install(learner.module)
            rec.update = {"steps": report.steps, "seconds": report.seconds, "best_score": report.best_score,
                          "final_score": report.final_score, "samples": report.samples,
                          # the step size the policy says it chose, else (a fixed one) the last step's
                          "lr": report.lr if report.lr is not None else (report.lrs[-1] if report.lrs else None),
                          "lr_max": max(report.lrs, default=None),
                          "fit": report.best_score >= self.fit_score}

        self.worker.submit(learner, sample, done)

    # -- the episode -----------------------------------------------------
    def update_status(self) -> dict[str, Any]:
        return self.worker.status()

    def episode_record(self) -> EpisodeRecord:
        """Metrics of the finished items (waits for queued updates so their times are counted)."""
        self.worker.wait()
        stats = CorrectionStats()
        for rec in self.records:
            stats.update(rec)
        return EpisodeRecord(self.episode.episode_id, self.episode.group, stats.compute(),
                             time.perf_counter() - self.started, dict(self.episode.meta))

    def close(self) -> None:
        """Finish queued updates, then release the task session's memory."""
        self.worker.close()
        self._items.close()
        self.session.close()


def _as_target(prediction: Any) -> Any:
    """A corrected prediction as a training target (a boolean mask becomes the 0/1 uint8 a target is)."""
    if isinstance(prediction, np.ndarray) and prediction.dtype == bool:
        return prediction.astype(np.uint8)
    return prediction


def _action_fields(action: Action) -> dict[str, Any]:
    out = {}
    for key in ("x", "y", "positive", "label"):
        if hasattr(action, key):
            out[key] = getattr(action, key)
    return out

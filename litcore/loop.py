"""The online loop: predict, review, propose, correct, learn, one item at a time.

Written as generators of records (the river idiom): printing, progress bars
and result writers are thin consumers. The same function drives every task;
task specifics live behind :class:`litcore.task.Session`.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from litcore.adapters.base import Adapter
from litcore.metrics import CorrectionStats
from litcore.oracle import FeedbackOracle
from litcore.policy import UpdatePolicy
from litcore.task import Episode, TaskModel
from litcore.types import Action, Item


@dataclass
class StepRecord:
    """What happened on one item. `score` is the base prediction's, `final_score` the kept one's."""

    episode_id: str
    group: str
    index: int
    name: str
    checked: bool
    outcome: str                    # unchecked | ok | auto | user
    score: float | None = None
    final_score: float | None = None
    confidence: float | None = None
    proposal_score: float | None = None
    correction: str | None = None   # kind of the last user action ("click", "mask", "label")
    clicks: int = 0
    actions: list[str] = field(default_factory=list)
    update: dict[str, Any] | None = None
    kind: str = "step"
    # the prediction kept for this item (base, accepted proposal or corrected);
    # not serialised: mask exporters and visualisations read it from the stream
    output: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items() if k != "output"}


@dataclass
class EpisodeRecord:
    """Emitted once an episode is finished: its metrics and wall time."""

    episode_id: str
    group: str
    metrics: dict[str, Any]
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "episode"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def derive_seed(seed: int, key: str) -> int:
    """A per-episode seed that does not depend on the order episodes run in."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


MODES = ("propose", "replace")


class LiveTrainer:
    """One model x oracle x adapter x policy; runs episodes and yields records.

    `mode="propose"` (the paper's LIT): the adapted module only proposes
    revisions on failing items. `mode="replace"` (the paper's "replace
    decoder" ablation): after each update the adapted module replaces the
    model's own for the rest of the episode, and nothing is proposed.
    """

    def __init__(self, model: TaskModel, oracle: FeedbackOracle, adapter: Adapter,
                 policy: UpdatePolicy, *, seed: int = 0, adapter_targets: Any = None,
                 max_corrections: int | None = None, mode: str = "propose") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
        self.model, self.oracle, self.adapter, self.policy = model, oracle, adapter, policy
        self.mode = mode
        self.seed = seed
        self.max_corrections = max_corrections
        # an update "fits" its correction when its best training score reaches the oracle's threshold
        self.fit_score = float(getattr(oracle, "tau", None) or 0.5)
        seed_everything(seed)  # adapter initial weights depend only on the seed
        targets = adapter_targets if adapter_targets is not None else model.adapter_targets(adapter.target_kind)
        self.adapter.attach(model.adaptable_module(), targets)

    def run(self, episodes: Iterable[Episode]) -> Iterator[StepRecord | EpisodeRecord]:
        for episode in episodes:
            yield from self.run_episode(episode)

    def run_episode(self, episode: Episode) -> Iterator[StepRecord | EpisodeRecord]:
        seed_everything(derive_seed(self.seed, episode.episode_id))
        self.adapter.reset()
        self.policy.reset()
        stats = CorrectionStats()
        start = time.perf_counter()
        session = self.model.session(episode)
        try:
            for item in session.items():
                record = self._step(session, episode, item, stats)
                stats.update(record)
                yield record
        finally:
            session.close()
        yield EpisodeRecord(episode.episode_id, episode.group, stats.compute(),
                            time.perf_counter() - start, dict(episode.meta))

    def _step(self, session, episode: Episode, item: Item, stats: CorrectionStats) -> StepRecord:
        rec = StepRecord(episode.episode_id, episode.group, item.index, item.name,
                         checked=item.target is not None, outcome="unchecked", confidence=item.confidence,
                         output=item.prediction)
        if item.target is None:
            return rec
        review = self.oracle.review(item.prediction, item.target)
        rec.score = rec.final_score = review.score
        if review.accepted:
            rec.outcome = "ok"
            return rec
        best, best_score = None, None
        if self.mode == "propose":
            best, best_score = self._propose(session, item, rec)
            if rec.outcome == "auto":
                return rec
        if self.max_corrections is not None and stats.user_corrections >= self.max_corrections:
            rec.outcome = "over-budget"
            return rec
        self._correct(session, item, rec)
        if rec.outcome == "user" and self.adapter.module is not None and self.policy.wants_update(self.adapter):
            sample = session.training_sample(item)
            learner = self.adapter.for_update(best, best_score)
            report = self.policy.update(learner, self.model, sample)
            if self.mode == "replace":
                session.install(learner.module)
            rec.update = {"steps": report.steps, "seconds": report.seconds,
                          "best_score": report.best_score, "final_score": report.final_score,
                          "samples": report.samples, "lr": report.lrs[-1] if report.lrs else None,
                          "lr_max": max(report.lrs, default=None), "fit": report.best_score >= self.fit_score}
        return rec

    def _propose(self, session, item: Item, rec: StepRecord):
        """Offer the trained adapters' revisions; accept the best if the oracle passes it."""
        best = None
        for cand in self.adapter.candidates():
            proposal = session.revise(item, cand.module)
            if proposal is None:
                continue
            verdict = self.oracle.review(proposal, item.target)
            if best is None or verdict.score > best[2].score:
                best = (cand, proposal, verdict)
        if best is None:
            return None, None
        cand, proposal, verdict = best
        rec.proposal_score = verdict.score
        if verdict.accepted:
            if len(self.adapter.candidates()) > 1:
                session.revise(item, cand.module)  # the session accepts its latest revision
            session.accept(item, proposal)
            rec.outcome, rec.final_score, rec.output = "auto", verdict.score, proposal
        return cand, verdict.score

    def _correct(self, session, item: Item, rec: StepRecord) -> None:
        """Ask the oracle for actions until the prediction is accepted or a final action ran."""
        taken: list[Action] = []
        prediction = item.prediction
        while True:
            action = self.oracle.next_action(prediction, item.target, taken)
            if action is None:
                break
            taken.append(action)
            prediction = session.apply(item, action)
            review = self.oracle.review(prediction, item.target)
            rec.final_score, rec.output = review.score, prediction
            if review.accepted or action.final:
                break
        if not taken:  # the oracle had nothing to offer: not a user interaction
            rec.outcome = "unfixed"
            return
        rec.outcome = "user"
        rec.actions = [a.kind for a in taken]
        rec.clicks = sum(a.kind == "click" for a in taken)
        rec.correction = taken[-1].kind if taken else None

    def describe(self) -> dict[str, Any]:
        return {"model": self.model.describe(), "oracle": getattr(self.oracle, "name", type(self.oracle).__name__),
                "adapter": self.adapter.describe(), "policy": self.policy.describe(), "seed": self.seed,
                "max_corrections": self.max_corrections, "mode": self.mode}

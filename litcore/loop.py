"""The online loop: predict, review, propose, correct, learn, one item at a time.

Written as generators of records (the river idiom): printing, progress bars
and result writers are thin consumers. The same function drives every task;
task specifics live behind :class:`litcore.task.Session`. The simulated user
here and a person in `lit serve` drive the same
:class:`litcore.interactive.InteractiveSession`; this module only adds the
oracle's decisions.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from litcore.adapters.base import Adapter
from litcore.interactive.records import EpisodeRecord, StepRecord, derive_seed, seed_everything
from litcore.interactive.session import MODES, InteractiveSession, attach_adapter
from litcore.oracle import FeedbackOracle
from litcore.policy import UpdatePolicy
from litcore.task import Episode, TaskModel
from litcore.types import Action, Item

__all__ = ["EpisodeRecord", "LiveTrainer", "MODES", "StepRecord", "derive_seed", "seed_everything"]


class LiveTrainer:
    """One model x oracle x adapter x policy; runs episodes and yields records.

    `mode="propose"` (the paper's LIT): the adapted module only proposes
    revisions on failing items. `mode="replace"` (the paper's "replace
    decoder" ablation): after each update the adapted module replaces the
    model's own for the rest of the episode, and nothing is proposed.
    Updates run synchronously (the user "waits"), so records are exact.
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
        attach_adapter(model, adapter, seed=seed, targets=adapter_targets)

    def run(self, episodes: Iterable[Episode]) -> Iterator[StepRecord | EpisodeRecord]:
        for episode in episodes:
            yield from self.run_episode(episode)

    def open(self, episode: Episode, **options: Any) -> InteractiveSession:
        """The interactive session this trainer drives (options: see InteractiveSession)."""
        return InteractiveSession(self.model, self.adapter, self.policy, episode, seed=self.seed,
                                  mode=self.mode, fit_score=self.fit_score, **options)

    def run_episode(self, episode: Episode) -> Iterator[StepRecord | EpisodeRecord]:
        session = self.open(episode)
        try:
            while (item := session.next_item()) is not None:
                yield self._step(session, item)
        finally:
            session.close()
        yield session.episode_record()

    def _step(self, session: InteractiveSession, item: Item) -> StepRecord:
        rec = session.record
        if item.target is None:
            return session.finish_item()
        review = self.oracle.review(item.prediction, item.target)
        rec.score = rec.final_score = review.score
        if review.accepted:
            return session.finish_item()
        best, best_score = None, None
        if self.mode == "propose":
            best, best_score = self._propose(session, item, rec)
            if session.source == "revision":
                return session.finish_item()
        if self.max_corrections is not None and session.stats.user_corrections >= self.max_corrections:
            return session.finish_item(outcome="over-budget")
        fixed = self._correct(session, item, rec)
        return session.finish_item(outcome=None if fixed else "unfixed", best=best, best_score=best_score)

    def _propose(self, session: InteractiveSession, item: Item, rec: StepRecord):
        """Offer the trained adapters' revisions; accept the best if the oracle passes it."""
        best = None
        for cand, proposal in session.revisions():
            verdict = self.oracle.review(proposal, item.target)
            if best is None or verdict.score > best[2].score:
                best = (cand, proposal, verdict)
        if best is None:
            return None, None
        cand, proposal, verdict = best
        rec.proposal_score = verdict.score
        if verdict.accepted:
            session.accept_revision(cand, proposal)
            rec.final_score = verdict.score
        return cand, verdict.score

    def _correct(self, session: InteractiveSession, item: Item, rec: StepRecord) -> bool:
        """Ask the oracle for actions until the prediction is accepted or a final action ran."""
        taken: list[Action] = []
        prediction = item.prediction
        while True:
            action = self.oracle.next_action(prediction, item.target, taken)
            if action is None:
                break
            taken.append(action)
            prediction = session.apply(action)
            review = self.oracle.review(prediction, item.target)
            rec.final_score = review.score
            if review.accepted or action.final:
                break
        return bool(taken)  # False: the oracle had nothing to offer, not a user interaction

    def describe(self) -> dict[str, Any]:
        return {"model": self.model.describe(), "oracle": getattr(self.oracle, "name", type(self.oracle).__name__),
                "adapter": self.adapter.describe(), "policy": self.policy.describe(), "seed": self.seed,
                "max_corrections": self.max_corrections, "mode": self.mode}

"""The `calibrated` update (`--method lit-auto`): a step size set by the backbone's own weights.

The paper's fixed lr 1e-4 was chosen for SAM2.1's pretrained decoder; on other
backbones it can leave the adapter unable to fit the correction it trains on
(docs/calibrated-update.md). This policy needs no per-backbone setting:

- `anchor=weights` (the default): the step size is `relative_lr` (0.08) x the
  RMS of the weights the adapter changes (`Adapter.weight_scale()`). Adam moves
  each parameter by about its step size per step, so this is one *relative*
  change on every backbone. With `rungs=1` (the default) that is the whole
  rule: the paper's update (fresh AdamW, 40 steps, its early stopping, last
  weights) at that step size.
- `rungs > 1`, or `anchor=none` (the absolute ladder `lr, lr*growth, ...` up to
  `max_lr`): a short search. From the same starting weights, each step size of
  the ladder trains a probe for `search_steps` steps with its own fresh AdamW;
  the probe chosen by `pick` goes on (its weights and optimizer state) for the
  rest of the update's `max_steps`. Every probe step counts in `max_steps`.
  `reuse`: later updates of an episode start at the step size found, without a
  search, until one fails to fit; a new episode (`reset`) searches afresh.
- Each step is one-pass (`fast`), so scores come from the training forwards.
- `search_steps = 0`: the first rule, growing the lr within one run
  (`litcore.step_size.GrowingStep`).

Every choice here was made on the `train` splits by user corrections
(docs/calibrated-update.md lists the variants tried).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litcore.adapters.base import Adapter
from litcore.policy import PolicyConfig, PolicyOptionError, StepRun, UpdatePolicy, _check, _number, no_gradient
from litcore.step_size import ConstantStep, CosineStep, GrowingStep, StepSize
from litcore.task import Learner
from litcore.types import UpdateReport

PICKS = ("best", "smallest-fit")
ANCHORS = ("weights", "none")
PROBE_EVALS = ("none", "end")
DECAYS = ("none", "cosine")


@dataclass
class CalibratedConfig(PolicyConfig):
    """The paper's update with a step size chosen per correction (constants chosen on the `train` split)."""

    anchor: str = "weights"         # "weights": the ladder's top rung is relative_lr x the RMS of the weights the
                                    # adapter changes (Adam moves each parameter by about lr per step, so this is
                                    # one relative change on every backbone); "none": the absolute ladder lr..max_lr
    relative_lr: float = 0.08       # anchor=weights: the top rung over the weights' RMS (chosen on `train`)
    rungs: int = 1                  # anchor=weights: step sizes in the ladder, top / growth**k (1, the default
                                    # chosen on `train`: that one relative step size, no search)
    growth: float = 3.0             # ratio between neighbouring step sizes of the ladder (or of the growing rule)
    max_lr: float = 1e-2            # anchor=none: the largest step size tried
    min_gain: float = 0.0           # a smaller gain of the best score does not reset patience (the paper: 0)
    growth_gain: float = 0.02       # the growing rule (search_steps=0) and `backoff`: a smaller change is noise
    keep_best: bool = False         # the paper keeps the last weights; true keeps the best-scoring ones
    fast: bool = True               # one forward per step (docs/performance.md); false: the paper's two passes
    search_steps: int = 3           # probe steps per step size; 0: grow the lr within the update instead
    pick: str = "best"              # "best": the probe with the highest score (then the lowest loss);
                                    # "smallest-fit": the smallest lr whose probe fits (min_best_score)
    reuse: bool = True              # later updates of an episode start at the step size the last search
                                    # chose and search again only after an update that did not fit
    backoff: bool = False           # after the search: divide the lr by `growth` after a step whose score fell
                                    # by more than growth_gain (never below `lr`); false: keep the chosen lr
    probe_eval: str = "none"        # "end": score each probe's last weights once more (eval mode, one decode)
                                    # and rank probes by that score, i.e. where the update would go on from
    decay: str = "none"             # after the search: "none" keeps the chosen lr; "cosine" anneals it to 0
                                    # over the update's remaining steps
    search_in_max_steps: bool = True  # the probe steps count in `max_steps`; false: the chosen probe then
                                      # goes on for up to `max_steps` more (at most max_steps + 15 in all)
    settle: int = 0                 # go on `settle` rungs of the ladder below the chosen step size (never
                                    # below `lr`): the lr-range-test habit of training below the fastest lr

    def __post_init__(self) -> None:
        super().__post_init__()
        _check(_number(self.growth) and self.growth > 1, "growth", self.growth, "a number > 1")
        _check(_number(self.growth_gain) and self.growth_gain >= 0, "growth_gain", self.growth_gain, "a number >= 0")
        _check(_number(self.max_lr) and self.lr <= self.max_lr <= 1, "max_lr", self.max_lr,
               f"a number in [lr={self.lr}, 1]")
        _check(isinstance(self.search_steps, int) and not isinstance(self.search_steps, bool)
               and 0 <= self.search_steps, "search_steps", self.search_steps, "a whole number >= 0")
        _check(isinstance(self.reuse, bool), "reuse", self.reuse, "true or false")
        _check(isinstance(self.backoff, bool), "backoff", self.backoff, "true or false")
        _check(self.pick in PICKS, "pick", self.pick, f"choose from {', '.join(PICKS)}")
        _check(isinstance(self.search_in_max_steps, bool), "search_in_max_steps", self.search_in_max_steps,
               "true or false")
        _check(self.probe_eval in PROBE_EVALS, "probe_eval", self.probe_eval, f"choose from {', '.join(PROBE_EVALS)}")
        _check(self.decay in DECAYS, "decay", self.decay, f"choose from {', '.join(DECAYS)}")
        _check(isinstance(self.settle, int) and not isinstance(self.settle, bool) and self.settle >= 0,
               "settle", self.settle, "a whole number >= 0")

        _check(self.anchor in ANCHORS, "anchor", self.anchor, f"choose from {', '.join(ANCHORS)}")
        _check(_number(self.relative_lr) and self.relative_lr > 0, "relative_lr", self.relative_lr, "a number > 0")
        _check(isinstance(self.rungs, int) and not isinstance(self.rungs, bool) and self.rungs >= 1,
               "rungs", self.rungs, "a whole number >= 1")
        if self.anchor == "weights" and self.search_steps:
            for name in ("lr", "max_lr"):  # silently ignored options would mislead; say how to use them
                if getattr(self, name) != getattr(CalibratedConfig, name):
                    raise PolicyOptionError(
                        f"policy option {name}={getattr(self, name)!r} has no effect with anchor=weights (the "
                        f"ladder ends at relative_lr x the weights' RMS); pass anchor=none for an absolute ladder")

    def ladder(self, scale: float | None = None) -> list[float]:
        """The step sizes the search tries, smallest first.

        anchor=weights with a `scale` (the adapter's `weight_scale()`):
        `rungs` step sizes ending at `relative_lr * scale` (at most 1). Otherwise
        `lr * growth**k` up to `max_lr`.
        """
        if self.anchor == "weights" and scale:
            top = min(1.0, self.relative_lr * scale)
            return [top / self.growth ** k for k in range(self.rungs - 1, -1, -1)]
        out = [float(self.lr)]
        while out[-1] * self.growth <= self.max_lr * (1 + 1e-9):
            out.append(out[-1] * self.growth)
        return out

    def step_size(self) -> StepSize:
        return GrowingStep(self.lr, growth=self.growth, max_lr=self.max_lr, min_gain=self.growth_gain,
                           fitted=self.min_best_score)


class CalibratedPolicy(UpdatePolicy):
    """Every correction, with a step size chosen within the update (`CalibratedConfig`)."""

    name = "calibrated"
    config_class = CalibratedConfig

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.reset()  # the episode's state: the step size its last search found (`reuse`)

    def update(self, adapter: Adapter, learner: Learner, sample: Any) -> UpdateReport:
        cfg: CalibratedConfig = self.config  # type: ignore[assignment]
        if not cfg.search_steps:
            return super().update(adapter, learner, sample)
        batch = [*self._buffer, sample] if cfg.replay > 0 else [sample]
        start = time.perf_counter()
        ladder = cfg.ladder(adapter.weight_scale())
        if cfg.reuse and self._found is not None:
            found = self._found
            run = self.train(adapter, learner, batch, self.after_search(found, cfg.max_steps, ladder[0]), cfg.max_steps)
            if run.best < cfg.min_best_score:
                self._found = None  # did not fit: search again next time
            return self.finish(adapter, sample, batch, run, start, lr=found)
        chosen, spent = self.search(adapter, learner, batch, ladder)
        left = cfg.max_steps - spent if cfg.search_in_max_steps else cfg.max_steps
        if not chosen.stuck and left > 0:
            before, found = chosen.step, chosen.lr
            rule = self.after_search(found, left, ladder[0])
            chosen.lr = rule.lr
            chosen = self.train(adapter, learner, batch, rule, left, chosen)
            chosen.lr = found  # the step size the search chose (reuse starts from it)
            spent += chosen.step - before
        if chosen.best > 0.0:
            self._found = chosen.lr  # the chosen probe's (the last step ran a later probe if nothing went on)
        return self.finish(adapter, sample, batch, chosen, start, steps=spent, lr=chosen.lr)

    def reset(self) -> None:
        """A new episode searches afresh (the adapter is reset with it)."""
        super().reset()
        self._found: float | None = None

    def after_search(self, lr: float, steps: int, floor: float) -> StepSize:
        """The rule that goes on from the chosen step size for `steps` steps: constant (`settle` rungs
        lower), annealed (`decay`), or lowered when a step makes the fit worse (`backoff`); never below
        `floor`, the ladder's smallest step size."""
        cfg: CalibratedConfig = self.config  # type: ignore[assignment]
        lr = max(floor, lr / cfg.growth ** cfg.settle)
        if cfg.decay == "cosine":
            return CosineStep(lr, steps)
        if not cfg.backoff:
            return ConstantStep(lr)
        rule = GrowingStep(floor, growth=cfg.growth, max_lr=lr, min_gain=cfg.growth_gain, fitted=cfg.min_best_score)
        rule.lr = lr  # start at the chosen lr, never above it, back off from it
        return rule

    def search(self, adapter: Adapter, learner: Learner, batch: list[Any],
               ladder: list[float]) -> tuple[StepRun, int]:
        """Probe every step size of `ladder` from the same weights; leave the chosen probe's weights loaded.

        Returns the chosen run (its `lrs` are those of every probe step, in the
        order they ran, so the report shows what the search tried) and the
        number of steps spent.
        """
        cfg: CalibratedConfig = self.config  # type: ignore[assignment]
        initial = {k: v.detach().clone() for k, v in adapter.state_dict().items()}
        chosen: StepRun | None = None
        weights: dict[str, Any] = {}
        tried: list[float] = []
        losses: list[float] = []
        per_probe = max(1, min(cfg.search_steps, cfg.max_steps // len(ladder)))  # a short update cuts the search
        for lr in ladder:
            if len(tried) + per_probe > cfg.max_steps:
                break
            adapter.load_state_dict(initial)
            run = self.train(adapter, learner, batch, ConstantStep(lr), per_probe, stop=False)
            if cfg.probe_eval == "end":
                run.end = _score_now(run, learner, adapter, batch)
            tried += run.lrs
            losses += run.losses
            if chosen is None or _rank(run) > _rank(chosen):  # only the best probe's weights are kept
                chosen, weights = run, {k: v.detach().clone() for k, v in adapter.state_dict().items()}
            if run.best <= 0.0 and no_gradient(run.optimizer):
                run.stuck = True  # zero score and no gradient: no step size can move these weights
                break
            if cfg.pick == "smallest-fit" and run.best >= cfg.min_best_score:
                break  # the smallest step size that fits (it ranks above every earlier, unfit one)
        assert chosen is not None  # the ladder has at least `lr`, and one probe always fits max_steps >= 1
        adapter.load_state_dict(weights)
        chosen.lrs, chosen.losses = tried, losses
        return chosen, len(tried)


def _rank(run: StepRun) -> tuple[float, float]:
    """Probes compare by best score (or, with `probe_eval=end`, the score of their last weights), then by
    lowest training loss: a score can tie where the loss does not (an IoU of 0 for every step size while
    the mask logits already move towards the target)."""
    return (run.best if run.end is None else run.end), -min(run.losses)


def _score_now(run: StepRun, learner: Learner, adapter: Adapter, batch: list[Any]) -> float:
    """The score of the module's weights as they are (eval mode, no dropout); it counts in the run's best."""
    import torch

    run.set_mode(False)
    with torch.no_grad():
        score = float(learner.score(adapter.module, batch[-1]))
    run.best = max(run.best, score)
    return score


def calibrated(**options: Any) -> UpdatePolicy:
    """Train on each correction with a step size searched on the correction itself."""
    return CalibratedPolicy(**{"trigger": "every", **options})

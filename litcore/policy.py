"""Update policies: when the adapter trains and how.

The default follows the LIT paper: after every user correction, train on that
correction only, with a fresh AdamW (lr 1e-4, weight decay 0), at most 40
steps, stopping early when there was no improvement for 10 steps and the best
score is above 0.6, or at step 10 if the best score is still 0. The weights of
the last step are kept (as the authors' code does); `keep_best` is an option.

How big each step is comes from a step-size rule (`litcore.step_size`): the
paper's is constant; the `calibrated` policy (`litcore.calibrated`) searches it
on the correction itself. Both run through the same step loop below (`train`),
whose single step is `train_step`: two passes (train, then decode again to
score; the paper's code, `fast=false`) or one (`fast=true`: the score comes
from the training forward; docs/performance.md measures both).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

from litcore.adapters.base import Adapter
from litcore.errors import LitcoreError
from litcore.step_size import ConstantStep, StepSize
from litcore.task import Learner
from litcore.types import UpdateReport

TRIGGERS = ("every", "first")


class _ModeSwitch:
    """`module.train(mode)` without the per-call tree walk (a quarter of a small decoder's update time).

    Flips `training` directly on every submodule. Only used when no submodule
    overrides `train()`; otherwise falls back to the module's own method.
    """

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        mods = list(module.modules())
        plain = all(type(m).train is torch.nn.Module.train for m in mods)
        self.mods = mods if plain else None

    def __call__(self, mode: bool) -> None:
        if self.mods is None:
            self.module.train(mode)
            return
        for m in self.mods:
            m.__dict__["training"] = mode


class PolicyOptionError(LitcoreError, ValueError):
    """An update-policy option out of range (checked when the policy is built, before any episode)."""


def _check(ok: bool, option: str, value: Any, rule: str) -> None:
    if not ok:
        raise PolicyOptionError(f"policy option {option}={value!r} is out of range: {rule}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class PolicyConfig:
    trigger: str = "every"          # "every": each correction; "first": only the first (no continual learning)
    max_steps: int = 40
    lr: float = 1e-4
    weight_decay: float = 0.0
    patience: int = 10
    min_best_score: float = 0.6
    zero_check_step: int = 10
    replay: int = 0                 # also train on up to this many earlier corrections
    keep_best: bool = False
    min_gain: float = 0.0           # a smaller rise of the best score does not reset patience (paper: 0)
    fast: bool = False              # one forward per step (score from the training pass), fused AdamW,
                                    # and stop at once when a zero score comes with no gradient at all

    def __post_init__(self) -> None:
        _check(self.trigger in TRIGGERS, "trigger", self.trigger, f"choose from {', '.join(TRIGGERS)}")
        for name in ("max_steps", "patience", "zero_check_step"):
            value = getattr(self, name)
            _check(isinstance(value, int) and not isinstance(value, bool) and value >= 1, name, value,
                   "a whole number >= 1")
        _check(isinstance(self.replay, int) and not isinstance(self.replay, bool) and self.replay >= 0,
               "replay", self.replay, "a whole number >= 0")
        _check(_number(self.lr) and 0 < self.lr <= 1, "lr", self.lr, "a number in (0, 1]")
        _check(_number(self.weight_decay) and self.weight_decay >= 0, "weight_decay", self.weight_decay,
               "a number >= 0")
        _check(_number(self.min_best_score), "min_best_score", self.min_best_score, "a number")
        _check(isinstance(self.keep_best, bool), "keep_best", self.keep_best, "true or false")
        _check(isinstance(self.fast, bool), "fast", self.fast, "true or false")
        _check(_number(self.min_gain) and self.min_gain >= 0, "min_gain", self.min_gain, "a number >= 0")

    def step_size(self) -> StepSize:
        """A fresh step-size rule for one update (the paper's: constant `lr`)."""
        return ConstantStep(self.lr)


def make_optimizer(params: list[torch.nn.Parameter], lr: float, cfg: PolicyConfig) -> torch.optim.Optimizer:
    """A fresh AdamW per correction (the paper); `fast` uses torch's fused kernel (one call for all tensors)."""
    fused = cfg.fast and all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay, fused=fused or None)


def train_step(learner: Learner, module: torch.nn.Module, batch: list[Any], optimizer: torch.optim.Optimizer,
               set_mode: Any, *, one_pass: bool, on_score: Any = None) -> tuple[float, float]:
    """One optimiser step on `batch`; returns (loss, score of batch[-1]).

    Two-pass (the paper's code): train, step, then decode again in eval mode to
    score the *new* weights. One-pass: the learner's `loss_and_score` scores the
    frame from the training forward itself, i.e. the weights *before* the step
    and with dropout on, so early stopping lags one step and no second decode
    runs. Learners without `loss_and_score` always take the two-pass path.
    `on_score(score)` runs while the scored weights are still the module's (to
    snapshot the best ones).
    """
    one_pass = one_pass and hasattr(learner, "loss_and_score")
    set_mode(True)
    optimizer.zero_grad(set_to_none=True)
    if one_pass:
        loss, score = learner.loss_and_score(module, batch)
        score = float(score)
        if on_score is not None:
            on_score(score)
    else:
        loss = learner.loss(module, batch)
    loss.backward()
    optimizer.step()
    if not one_pass:
        set_mode(False)
        with torch.no_grad():
            score = float(learner.score(module, batch[-1]))
        if on_score is not None:
            on_score(score)
    return float(loss.detach()), score


def no_gradient(optimizer: torch.optim.Optimizer) -> bool:
    """True when the last backward gave every trainable tensor an all-zero gradient (one host sync).

    SAM2's object-score gate makes this common: on a frame the decoder calls
    "object absent" the mask loss has no gradient at all, and the paper's rule
    still runs 10 steps (`zero_check_step`) that cannot change any weight.
    """
    grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
    return not grads or not bool(torch.stack(torch._foreach_norm(grads)).any())


@dataclass
class StepRun:
    """The state of one update's step loop: optimizer, best score, patience, what each step did."""

    optimizer: torch.optim.Optimizer
    set_mode: Any
    lr: float
    best: float = float("-inf")
    since_best: int = 0
    step: int = 0
    score: float = 0.0
    stuck: bool = False
    best_state: dict[str, torch.Tensor] | None = None
    end: float | None = None  # a score of the last weights measured after the loop (a search's probe)
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)


class UpdatePolicy:
    """Decides whether to update after a correction, then runs the update."""

    name = "every"
    config_class: type[PolicyConfig] = PolicyConfig

    def __init__(self, **options: Any) -> None:
        valid = [f.name for f in fields(self.config_class)]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise PolicyOptionError(f"unknown policy option {unknown[0]!r}; valid options: {', '.join(valid)}")
        self.config = self.config_class(**options)
        self._buffer: deque[Any] = deque(maxlen=max(self.config.replay, 0) or None)

    def reset(self) -> None:
        """Forget replayed samples (called with the adapter reset at each episode)."""
        self._buffer.clear()

    def wants_update(self, adapter: Adapter) -> bool:
        if self.config.trigger == "first":
            return adapter.updates == 0
        return True

    def update(self, adapter: Adapter, learner: Learner, sample: Any) -> UpdateReport:
        """Train `adapter.module` on `sample` (plus replayed samples) and report."""
        cfg = self.config
        batch = [*self._buffer, sample] if cfg.replay > 0 else [sample]
        start = time.perf_counter()
        run = self.train(adapter, learner, batch, cfg.step_size(), cfg.max_steps)
        return self.finish(adapter, sample, batch, run, start)

    def train(self, adapter: Adapter, learner: Learner, batch: list[Any], rule: StepSize, max_steps: int,
              run: "StepRun | None" = None, *, stop: bool = True) -> "StepRun":
        """The step loop of every policy: up to `max_steps` steps with `rule`'s step sizes.

        `run` continues an earlier loop (its optimizer, best score and patience);
        `stop=False` runs all the steps (a probe of the step-size search).
        """
        cfg = self.config
        if run is None:
            run = StepRun(optimizer=make_optimizer(adapter.trainable_parameters(), rule.lr, cfg),
                          set_mode=_ModeSwitch(adapter.module), lr=rule.lr)
        for group in run.optimizer.param_groups:
            group["lr"] = run.lr

        def snapshot_if_best(s: float) -> None:
            if cfg.keep_best and s > run.best:
                run.best_state = {k: v.clone() for k, v in adapter.state_dict().items()}

        for _ in range(max_steps):
            loss, score = train_step(learner, adapter.module, batch, run.optimizer, run.set_mode,
                                     one_pass=cfg.fast, on_score=snapshot_if_best)
            run.step += 1
            run.losses.append(loss)
            run.lrs.append(run.lr)
            run.score, previous_best = score, run.best
            run.since_best = 0 if score > run.best + cfg.min_gain else run.since_best + 1
            run.best = max(run.best, score)
            if run.best <= 0.0 and (run.step >= cfg.zero_check_step or (cfg.fast and no_gradient(run.optimizer))):
                run.stuck = True  # nothing to learn: zero score (and, fast, not even a gradient)
                break
            if stop and run.since_best >= cfg.patience and run.best > cfg.min_best_score:
                break
            next_lr = rule.observe(score, previous_best, run.best)
            if next_lr != run.lr:
                run.lr = next_lr
                for group in run.optimizer.param_groups:
                    group["lr"] = next_lr
        return run

    def finish(self, adapter: Adapter, sample: Any, batch: list[Any], run: "StepRun", start: float,
               steps: int | None = None, lr: float | None = None) -> UpdateReport:
        """Keep the best weights if asked, count the update, remember the sample for replay."""
        score = run.score
        if self.config.keep_best and run.best_state is not None:
            adapter.load_state_dict(run.best_state)
            score = run.best
        adapter.module.eval()
        adapter.updates += 1
        if self.config.replay > 0:
            self._buffer.append(sample)
        return UpdateReport(steps=run.step if steps is None else steps, seconds=time.perf_counter() - start,
                            best_score=run.best, final_score=score, samples=len(batch), losses=run.losses,
                            lrs=run.lrs, lr=lr)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **asdict(self.config)}


def every_correction(**options: Any) -> UpdatePolicy:
    """The paper's LIT policy: train on each user correction."""
    return UpdatePolicy(**{"trigger": "every", **options})


def first_correction(**options: Any) -> UpdatePolicy:
    """The paper's "no continual learning" ablation: train only on the first correction."""
    policy = UpdatePolicy(**{**options, "trigger": "first"})
    policy.name = "first"
    return policy


def replay(**options: Any) -> UpdatePolicy:
    """Every correction, replaying up to `replay` earlier corrections (default 4)."""
    policy = UpdatePolicy(**{"replay": 4, **options, "trigger": "every"})
    policy.name = "replay"
    return policy

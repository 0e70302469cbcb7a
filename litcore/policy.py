"""Update policies: when the adapter trains and how.

The default follows the LIT paper: after every user correction, train on that
correction only, with a fresh AdamW (lr 1e-4, weight decay 0), at most 40
steps, stopping early when there was no improvement for 10 steps and the best
score is above 0.6, or at step 10 if the best score is still 0. The weights of
the last step are kept (as the authors' code does); `keep_best` is an option.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import torch

from litcore.adapters.base import Adapter
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
    fast: bool = False              # one forward per step (score from the training pass), fused AdamW; see train_step


def make_optimizer(params: list[torch.nn.Parameter], cfg: PolicyConfig) -> torch.optim.Optimizer:
    """A fresh AdamW per correction (the paper); `fast` uses torch's fused kernel (one call for all tensors)."""
    fused = cfg.fast and all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused or None)


def train_step(learner: Learner, module: torch.nn.Module, batch: list[Any], optimizer: torch.optim.Optimizer,
               set_mode: Any, *, one_pass: bool) -> tuple[float, float]:
    """One optimiser step on `batch`; returns (loss, score of batch[-1]).

    Two-pass (the paper's code): train, step, then decode again in eval mode to
    score the *new* weights. One-pass: the learner's `loss_and_score` scores the
    frame from the training forward itself, i.e. the weights *before* the step
    and with dropout on, so early stopping lags one step and no second decode
    runs. Learners without `loss_and_score` always take the two-pass path.
    """
    one_pass = one_pass and hasattr(learner, "loss_and_score")
    set_mode(True)
    optimizer.zero_grad(set_to_none=True)
    if one_pass:
        loss, score = learner.loss_and_score(module, batch)
    else:
        loss = learner.loss(module, batch)
    loss.backward()
    optimizer.step()
    if not one_pass:
        set_mode(False)
        with torch.no_grad():
            score = learner.score(module, batch[-1])
    return float(loss.detach()), float(score)


class UpdatePolicy:
    """Decides whether to update after a correction, then runs the update."""

    name = "every"

    def __init__(self, **options: Any) -> None:
        self.config = PolicyConfig(**options)
        if self.config.trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {self.config.trigger!r}; choose from {TRIGGERS}")
        if self.config.max_steps < 1:
            raise ValueError("max_steps must be >= 1")
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
        module = adapter.module
        batch = [*self._buffer, sample] if cfg.replay > 0 else [sample]
        params = adapter.trainable_parameters()
        optimizer = make_optimizer(params, cfg)
        start = time.perf_counter()
        set_mode = _ModeSwitch(module)
        best, since_best, step = float("-inf"), 0, 0
        best_state = None
        losses: list[float] = []
        score = 0.0
        for step in range(1, cfg.max_steps + 1):
            loss, score = train_step(learner, module, batch, optimizer, set_mode,
                                     one_pass=cfg.fast and not cfg.keep_best)  # keep_best snapshots post-step weights
            losses.append(loss)
            if score > best:
                best, since_best = score, 0
                if cfg.keep_best:
                    best_state = {k: v.clone() for k, v in adapter.state_dict().items()}
            else:
                since_best += 1
            if since_best >= cfg.patience and best > cfg.min_best_score:
                break
            if step == cfg.zero_check_step and best <= 0.0:
                break
        if cfg.keep_best and best_state is not None:
            adapter.load_state_dict(best_state)
            score = best
        module.eval()
        adapter.updates += 1
        if cfg.replay > 0:
            self._buffer.append(sample)
        return UpdateReport(steps=step, seconds=time.perf_counter() - start, best_score=best,
                            final_score=score, samples=len(batch), losses=losses)

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

"""Step-size rules of an update: how large each optimizer step is, decided step by step.

The update loop (`litcore.policy.UpdatePolicy.update`) asks a fresh rule for
its first `lr`, then reports every step's training score with `observe` and
uses the `lr` it returns for the next step. A rule sees only scores, never the
model, so one rule serves every task and adapter.
"""

from __future__ import annotations

import math


class StepSize:
    """Interface: `lr` is the step size of the next step."""

    lr: float

    def observe(self, score: float, previous_best: float, best: float) -> float:
        """Called after each step with its score and the best score before and after it; returns the next lr."""
        raise NotImplementedError


class ConstantStep(StepSize):
    """The paper's rule: the same lr for every step."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)

    def observe(self, score: float, previous_best: float, best: float) -> float:
        return self.lr


class GrowingStep(StepSize):
    """Start small, grow geometrically while the fit does not improve, back off when a step makes it worse.

    Changes of the score smaller than `min_gain` are noise. A step that raised
    the best score by less than that multiplies lr by `growth`, up to `max_lr`.
    A step whose score fell by more than that never grows the lr; once the lr
    has grown, it divides lr by `growth` and caps it there for the rest of the
    update: the rule settles at the largest step size that still improves the
    fit. Once the
    best score is above `fitted` (the paper's early-stopping threshold) the lr
    is kept and the paper's patience rule ends the update. The first step
    counts its gain from 0, so an update that starts from a good fit never grows.
    """

    def __init__(self, lr: float, *, growth: float, max_lr: float, min_gain: float, fitted: float) -> None:
        self.lr, self.base = float(lr), float(lr)
        self.growth, self.ceiling, self.min_gain, self.fitted = float(growth), float(max_lr), float(min_gain), fitted
        self.last: float | None = None

    def observe(self, score: float, previous_best: float, best: float) -> float:
        worse = self.last is not None and score < self.last - self.min_gain
        if worse:  # never grow on a worse step; below a grown lr that overshot, stay below it
            if self.lr > self.base:
                self.lr = self.ceiling = max(self.base, self.lr / self.growth)
        elif best <= self.fitted and best - max(previous_best, 0.0) < self.min_gain:
            self.lr = min(self.lr * self.growth, self.ceiling)
        self.last = score
        return self.lr


class CosineStep(StepSize):
    """A half cosine from `lr` to 0 over `steps` steps: large steps first, small ones to settle the fit.

    Annealing is the usual end of a fine-tuning schedule; here it follows the
    step size a search picked (`calibrated`, `decay=cosine`).
    """

    def __init__(self, lr: float, steps: int) -> None:
        self.peak, self.steps, self.done = float(lr), max(1, int(steps)), 0
        self.lr = self.peak

    def observe(self, score: float, previous_best: float, best: float) -> float:
        self.done += 1
        self.lr = 0.5 * self.peak * (1.0 + math.cos(math.pi * min(self.done, self.steps) / self.steps))
        return self.lr

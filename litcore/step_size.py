"""Step-size rules of an update: how large each optimizer step is, decided step by step.

The update loop (`litcore.policy.UpdatePolicy.update`) asks a fresh rule for
its first `lr`, then reports every step's training score with `observe` and
uses the `lr` it returns for the next step. A rule sees only scores, never the
model, so one rule serves every task and adapter.
"""

from __future__ import annotations


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
    """Start small, grow geometrically while the fit does not improve, back off after a collapse.

    A step that raised the best score by less than `min_gain` multiplies lr by
    `growth`, up to `max_lr`. Once the best score is above `fitted` (the paper's
    early-stopping threshold) the lr is kept, and the paper's patience rule ends
    the update. A score below half the best score (the step overshot) divides lr
    by `growth` and caps later growth there. The first step counts its gain
    from 0, so an update that starts from a fitting adapter never grows.
    """

    def __init__(self, lr: float, *, growth: float, max_lr: float, min_gain: float, fitted: float) -> None:
        self.lr, self.base = float(lr), float(lr)
        self.growth, self.ceiling, self.min_gain, self.fitted = float(growth), float(max_lr), float(min_gain), fitted

    def observe(self, score: float, previous_best: float, best: float) -> float:
        if score < 0.5 * best and self.lr > self.base:
            self.lr = self.ceiling = max(self.base, self.lr / self.growth)
        elif best <= self.fitted and best - max(previous_best, 0.0) < self.min_gain:
            self.lr = min(self.lr * self.growth, self.ceiling)
        return self.lr

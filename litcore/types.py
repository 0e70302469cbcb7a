"""Plain data passed between the loop, oracles, sessions and writers.

These carry no torch objects so that records can be written as JSON and the
core stays free of task-specific model code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Review:
    """The oracle's verdict on one prediction: its score and whether it passes."""

    score: float
    accepted: bool


@dataclass(frozen=True)
class Action:
    """One thing the (simulated) user does to correct a prediction.

    `kind` names the action in records ("click", "mask", "label"); `final`
    actions replace the prediction outright, so no further action follows.
    """

    kind: str = "action"
    final: bool = False


@dataclass(frozen=True)
class Click(Action):
    """A point prompt in pixel coordinates of the original image (x right, y down)."""

    x: int = 0
    y: int = 0
    positive: bool = True
    kind: str = "click"
    final: bool = False


@dataclass(frozen=True)
class MaskAction(Action):
    """The user paints the whole ground-truth mask (the fallback after clicks)."""

    mask: Any = None
    kind: str = "mask"
    final: bool = True


@dataclass(frozen=True)
class LabelAction(Action):
    """The user names the true class of an image."""

    label: int = -1
    kind: str = "label"
    final: bool = True


@dataclass
class Item:
    """One element of an episode as the task session produced it.

    `target` is None for items without ground truth: they are processed (a
    video frame is still propagated) but never checked or corrected.
    `confidence` is the model's own quality estimate (e.g. SAM2's predicted
    IoU), logged so its reliability can be studied. `scores` are optional
    per-label scores (a classifier's probabilities) for showing a person the
    model's top choices.
    """

    index: int
    name: str
    prediction: Any
    target: Any = None
    confidence: float | None = None
    scores: Any = None


@dataclass
class UpdateReport:
    """What one adapter update did (returned by an update policy)."""

    steps: int
    seconds: float
    best_score: float
    final_score: float
    samples: int
    losses: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)  # the step size of each step
    lr: float | None = None  # the step size a searching policy chose; None: a fixed one (the steps' own)

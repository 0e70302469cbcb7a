"""Shared fixtures: a tiny random-weight SAM2 (built in-process) and toy videos."""

from __future__ import annotations

import pytest
import torch

from litcore.vos.testing import moving_boxes
from litcore.vos.video import ArrayVideo


def toy_video(name: str = "toy", frames: int = 6, h: int = 48, w: int = 64, seed: int = 0) -> ArrayVideo:
    """Two textured rectangles; object 1 drifts right, object 2 appears on frame 2."""
    return moving_boxes(name, frames, h, w, seed)


@pytest.fixture(scope="session")
def registry():
    from litcore.plugins import build_registry

    return build_registry()


@pytest.fixture(scope="session")
def tiny_sam2(registry):
    """Random weights, 64-px input; the object-score head is biased so objects always 'appear'.

    With random weights the object score is arbitrary; forcing it positive lets
    the mechanics tests see gradients flow (the paper gates masks by it).
    """
    from litcore_vos_sam2.testing import force_objects_present

    torch.manual_seed(0)
    return force_objects_present(registry.create("model", "sam2", checkpoint=None, image_size=64, device="cpu", seed=0))


@pytest.fixture(scope="session")
def make_video():
    """Factory for toy videos (a fixture, so test modules need no package imports)."""
    return toy_video

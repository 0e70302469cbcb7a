"""Shared fixtures: tiny random-weight SAMURAI / DAM4SAM / SAM2 models and a moving-box clip."""

from __future__ import annotations

import pytest

from litcore.vos.testing import moving_boxes
from litcore.vos.video import ArrayVideo


def moving_clip(name: str = "clip", frames: int = 8, h: int = 48, w: int = 64, seed: int = 0) -> ArrayVideo:
    """Object 1 moves right 2 px/frame; object 2 (a look-alike) appears on frame 2."""
    return moving_boxes(name, frames, h, w, seed, width=14, wrap=30, second_box=(30, 42, 40, 54),
                        second_color=(190, 50, 40))


def _appearing(model):
    from litcore_vos_sam2.testing import force_objects_present

    return force_objects_present(model)


@pytest.fixture(scope="session")
def registry():
    from litcore.plugins import build_registry

    return build_registry()


@pytest.fixture(scope="session")
def tiny_samurai(registry):
    return _appearing(registry.create("model", "samurai", checkpoint=None, image_size=64, device="cpu", seed=0))


@pytest.fixture(scope="session")
def tiny_dam4sam(registry):
    return _appearing(registry.create("model", "dam4sam", checkpoint=None, image_size=64, device="cpu", seed=0))


@pytest.fixture(scope="session")
def clip():
    """Factory for moving-box clips (a fixture, so test modules need no package imports)."""
    return moving_clip


@pytest.fixture(scope="session")
def appearing():
    return _appearing

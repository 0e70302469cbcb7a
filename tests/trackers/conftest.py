"""Shared fixtures: tiny random-weight SAMURAI / DAM4SAM / SAM2 models and a moving-box clip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litcore.vos.video import ArrayVideo


def moving_clip(name: str = "clip", frames: int = 8, h: int = 48, w: int = 64, seed: int = 0) -> ArrayVideo:
    """Object 1 moves right 2 px/frame; object 2 (a look-alike) appears on frame 2."""
    rng = np.random.default_rng(seed)
    imgs, labs = [], []
    for t in range(frames):
        img = (rng.random((h, w, 3)) * 60).astype(np.uint8)
        lab = np.zeros((h, w), np.uint8)
        x = 4 + (2 * t) % 30
        lab[8:24, x:x + 14] = 1
        if t >= 2:
            lab[30:42, 40:54] = 2
        img[lab == 1] = (200, 40, 40)
        img[lab == 2] = (190, 50, 40)
        imgs.append(img)
        labs.append(lab)
    return ArrayVideo(name, imgs, labs)


def _appearing(model):
    """Random weights give arbitrary object scores; bias them so objects 'appear' (as tests/sam2 does)."""
    head = model.predictor.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(5.0)
    return model


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

"""Shared fixtures: a tiny random-weight SAM2 (built in-process) and toy videos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litcore.vos.video import ArrayVideo


def toy_video(name: str = "toy", frames: int = 6, h: int = 48, w: int = 64, seed: int = 0) -> ArrayVideo:
    """Two textured rectangles; object 1 drifts right, object 2 appears on frame 2."""
    rng = np.random.default_rng(seed)
    imgs, labs = [], []
    for t in range(frames):
        img = (rng.random((h, w, 3)) * 60).astype(np.uint8)
        lab = np.zeros((h, w), np.uint8)
        lab[8:24, 6 + 2 * t:26 + 2 * t] = 1
        if t >= 2:
            lab[30:42, 40:56] = 2
        img[lab == 1] = (200, 40, 40)
        img[lab == 2] = (40, 200, 40)
        imgs.append(img)
        labs.append(lab)
    return ArrayVideo(name, imgs, labs)


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
    torch.manual_seed(0)
    model = registry.create("model", "sam2", checkpoint=None, image_size=64, device="cpu", seed=0)
    head = model.predictor.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(5.0)
    return model


@pytest.fixture(scope="session")
def make_video():
    """Factory for toy videos (a fixture, so test modules need no package imports)."""
    return toy_video

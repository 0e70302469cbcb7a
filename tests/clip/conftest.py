"""CLIP plugin tests: a micro random-weight open_clip model built in-process, dataset fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def registry():
    from litcore.plugins import build_registry

    return build_registry()


@pytest.fixture(scope="session")
def micro(registry):
    """The `clip` task model with random weights of the micro config (2 ViT blocks, width 32)."""
    return registry.create("model", "clip", checkpoint=None, model_cfg="micro", seed=0, device="cpu")

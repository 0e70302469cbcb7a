"""Fixtures for the server tests: apps over a tiny random-weight SAM2 (mechanics) or the shipped one (parity)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from serve_helpers import make_client  # noqa: E402


@pytest.fixture(scope="session")
def registry():
    from litcore.plugins import build_registry

    return build_registry()


@pytest.fixture(scope="session")
def tiny_sam2(registry):
    """Random weights, 64-px input, objects forced present (so updates have gradients)."""
    from litcore_vos_sam2.testing import force_objects_present

    torch.manual_seed(0)
    return force_objects_present(registry.create("model", "sam2", checkpoint=None, image_size=64, device="cpu", seed=0))


@pytest.fixture(scope="session")
def synth_small(registry):
    return registry.create("dataset", "synth", split="hard", videos=2, frames=8, size=64)


@pytest.fixture()
def client(registry, tiny_sam2, synth_small):
    with make_client(registry, tiny_sam2, synth_small) as c:
        yield c


@pytest.fixture()
def client_factory(registry, tiny_sam2, synth_small):
    made = []

    def factory(**kw):
        c = make_client(registry, kw.pop("model", tiny_sam2), kw.pop("dataset", synth_small), **kw)
        c.__enter__()
        made.append(c)
        return c

    yield factory
    for c in made:
        c.__exit__(None, None, None)

"""Fixtures for the server tests: apps over a tiny random-weight SAM2 (mechanics) or the shipped one (parity)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from litcore.serve.app import create_app  # noqa: E402
from litcore.serve.codec import decode_rle  # noqa: E402
from litcore.serve.gallery import Gallery  # noqa: E402
from litcore.serve.sessions import ServeOptions  # noqa: E402


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


class GatedPolicy:
    """A policy whose updates wait for `gate` (so a test can hold an update 'running' without timing)."""

    def __init__(self, inner, gate: threading.Event, started: threading.Event) -> None:
        self.inner, self.gate, self.started = inner, gate, started

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def update(self, adapter, learner, sample):
        self.started.set()
        self.gate.wait(60)
        return self.inner.update(adapter, learner, sample)


def make_client(registry, model, dataset, *, token=None, study=None, policy=None, **options) -> TestClient:
    opts = ServeOptions(adapter=lambda: registry.create("adapter", "lora"),
                        policy=policy or (lambda: registry.create("policy", "every", max_steps=3)), **options)
    gallery = Gallery(dataset, model, registry.create("oracle", "vos-clicks"))
    return TestClient(create_app(gallery, opts, token=token, study=study(gallery) if study else None))


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


def mask_of(prediction: dict) -> np.ndarray:
    h, w = prediction["mask"]["size"]
    return decode_rle(prediction["mask"], (h, w))

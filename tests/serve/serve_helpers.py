"""Helpers of the server tests (a module of its own: every test folder has a `conftest`)."""

from __future__ import annotations

import threading

import numpy as np
from fastapi.testclient import TestClient

from litcore.serve.app import create_app
from litcore.serve.codec import decode_rle
from litcore.serve.gallery import Gallery
from litcore.serve.sessions import ServeOptions


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


def make_client(registry, model, dataset, *, token=None, study=None, policy=None, oracle="vos-clicks",
                **options) -> TestClient:
    defaults = model.default_adapter_options("lora")   # as `lit run` merges the backbone's defaults
    opts = ServeOptions(adapter=lambda: registry.create("adapter", "lora", **defaults),
                        policy=policy or (lambda: registry.create("policy", "every", max_steps=3)), **options)
    gallery = Gallery(dataset, model, registry.create("oracle", oracle))
    return TestClient(create_app(gallery, opts, token=token, study=study(gallery) if study else None))


def mask_of(prediction: dict) -> np.ndarray:
    h, w = prediction["mask"]["size"]
    return decode_rle(prediction["mask"], (h, w))

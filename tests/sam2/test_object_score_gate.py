"""The object-score gate: with the reference loss a frame the model calls "absent" teaches nothing;
`object_score_loss` lets the adapter learn to reopen the gate."""

from __future__ import annotations

import pytest
import torch

from litcore.vos.episodes import video_object_episodes
from litcore_vos_sam2.testing import force_objects_present


@pytest.fixture()
def absent_model(registry):
    """Random weights whose object-score head says "absent" (bias `logit`, -3 by default)."""
    def build(weight: float, logit: float = -3.0):
        model = registry.create("model", "sam2", checkpoint=None, image_size=64, device="cpu", seed=0,
                                object_score_loss=weight)
        return force_objects_present(model, logit=logit)
    return build


def _sample_and_lora(registry, model, make_video):
    adapter = registry.create("adapter", "lora")
    adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    session = model.session(next(video_object_episodes([make_video(frames=3)])))
    items = session.items()
    next(items)
    sample = session.training_sample(items.__next__())
    session.close()
    return sample, adapter


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_gradient_reaches_the_adapter_only_with_the_object_score_loss(registry, absent_model, make_video, weight):
    model = absent_model(weight)
    sample, adapter = _sample_and_lora(registry, model, make_video)
    assert float(sample.target.sum()) > 0  # the object is there, the model says it is not
    module = adapter.module.train()
    model.loss(module, [sample]).backward()
    grads = [p.grad for p in adapter.trainable_parameters() if p.grad is not None]
    total = sum(float(g.abs().sum()) for g in grads)
    if weight == 0.0:
        assert total == 0.0  # the reference protocol: a closed gate blocks every gradient
    else:
        assert total > 0.0
    assert model.describe()["object_score_loss"] == weight


def test_training_with_the_object_score_loss_opens_the_gate(registry, absent_model, make_video):
    model = absent_model(5.0, logit=-1.0)
    sample, adapter = _sample_and_lora(registry, model, make_video)
    module = adapter.module
    opt = torch.optim.AdamW(adapter.trainable_parameters(), lr=1e-2)
    with torch.no_grad():
        _, obj0 = model.decode(module.eval(), sample.feat, sample.high_res)
    for _ in range(30):
        module.train()
        opt.zero_grad()
        model.loss(module, [sample]).backward()
        opt.step()
    with torch.no_grad():
        _, obj1 = model.decode(module.eval(), sample.feat, sample.high_res)
    assert float(obj0) < 0 < float(obj1)

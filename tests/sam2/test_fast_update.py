"""The one-pass update step: same loss and score as the two-pass path; the faithful path stays selectable."""

from __future__ import annotations

import pytest
import torch

from litcore.loop import LiveTrainer, seed_everything
from litcore.vos.episodes import video_object_episodes


def _sample(registry, model, make_video, adapter_opts=None):
    tr = LiveTrainer(model, registry.create("oracle", "vos-clicks"),
                     registry.create("adapter", "lora", **(adapter_opts or {})), registry.create("policy", "every"))
    session = model.session(next(video_object_episodes([make_video(frames=3)])))
    items = session.items()
    next(items)
    sample = session.training_sample(next(items))
    session.close()
    with torch.no_grad():  # move LoRA B off zero so the adapted decoder differs from the base one
        for n, p in tr.adapter.module.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    return tr.adapter, sample


def test_one_pass_loss_and_score_equal_the_two_pass_path(registry, tiny_sam2, make_video):
    adapter, sample = _sample(registry, tiny_sam2, make_video, {"dropout": 0.0})
    module = adapter.module
    module.train()
    loss_two = tiny_sam2.loss(module, [sample])
    loss_one, score_one = tiny_sam2.loss_and_score(module, [sample])
    module.eval()
    with torch.no_grad():
        score_two = tiny_sam2.score(module, sample)
    assert torch.allclose(loss_one, loss_two)
    assert loss_one.requires_grad
    assert score_one == pytest.approx(score_two)


class _CountingLearner:
    """Delegates to the SAM2 learner and counts its calls."""

    def __init__(self, model, one_pass: bool = True) -> None:
        self.model, self.calls = model, {"loss": 0, "score": 0, "loss_and_score": 0}
        if one_pass:
            self.loss_and_score = self._loss_and_score

    def loss(self, module, samples):
        self.calls["loss"] += 1
        return self.model.loss(module, samples)

    def score(self, module, sample):
        self.calls["score"] += 1
        return self.model.score(module, sample)

    def _loss_and_score(self, module, samples):
        self.calls["loss_and_score"] += 1
        return self.model.loss_and_score(module, samples)


@pytest.mark.parametrize("fast", [False, True])
def test_policy_fast_option_selects_one_or_two_decodes_per_step(registry, tiny_sam2, make_video, fast):
    adapter, sample = _sample(registry, tiny_sam2, make_video)
    policy = registry.create("policy", "every", fast=fast, max_steps=4, patience=10**6, zero_check_step=10**6)
    learner = _CountingLearner(tiny_sam2)
    report = policy.update(adapter, learner, sample)
    assert report.steps == 4
    if fast:
        assert learner.calls == {"loss": 0, "score": 0, "loss_and_score": 4}
    else:  # the paper's code: a training forward, then a second (eval) decode to score
        assert learner.calls == {"loss": 4, "score": 4, "loss_and_score": 0}
    assert policy.describe()["fast"] is fast


def test_learners_without_loss_and_score_take_the_two_pass_path(registry, tiny_sam2, make_video):
    adapter, sample = _sample(registry, tiny_sam2, make_video)
    learner = _CountingLearner(tiny_sam2, one_pass=False)
    registry.create("policy", "every", fast=True, max_steps=2, zero_check_step=10**6).update(adapter, learner, sample)
    assert learner.calls["score"] == 2


@pytest.mark.parametrize("policy", ["every", "calibrated"])
def test_one_pass_keep_best_keeps_the_weights_that_scored_best(registry, tiny_sam2, make_video, policy):
    """One-pass scores the weights before each step, so the snapshot is taken before the step."""
    adapter, sample = _sample(registry, tiny_sam2, make_video, {"dropout": 0.0})
    learner = _CountingLearner(tiny_sam2)
    search = {"search_steps": 1} if policy == "calibrated" else {}
    report = registry.create("policy", policy, fast=True, keep_best=True, max_steps=5, patience=10**6,
                             zero_check_step=10**6, **search).update(adapter, learner, sample)
    assert learner.calls["loss_and_score"] == 5 and learner.calls["score"] == 0
    with torch.no_grad():
        assert tiny_sam2.score(adapter.module.eval(), sample) == pytest.approx(report.best_score)


def test_one_pass_update_trains_the_same_weights_as_two_pass(registry, tiny_sam2, make_video):
    """Without dropout the two paths take identical optimiser steps; only the scores' timing differs."""
    states = []
    for fast in (False, True):
        adapter, sample = _sample(registry, tiny_sam2, make_video, {"dropout": 0.0})
        seed_everything(0)
        policy = registry.create("policy", "every", fast=fast, max_steps=3, patience=10**6, zero_check_step=10**6)
        policy.update(adapter, tiny_sam2, sample)
        states.append({k: v.clone() for k, v in adapter.state_dict().items()})
    for k in states[0]:
        assert torch.allclose(states[0][k], states[1][k], atol=1e-6), k


def test_loss_size_names(registry):
    from litcore_vos_sam2.task import resolve_loss_size

    assert resolve_loss_size(None, 1024) == resolve_loss_size("image", 1024) == 1024
    assert resolve_loss_size("native", 1024) == 256
    assert resolve_loss_size(64, 1024) == 64
    for bad in ("huge", 0, -3):
        with pytest.raises(ValueError, match="loss_size"):
            resolve_loss_size(bad, 1024)


def test_native_loss_size_trains_on_the_decoder_output_without_upsampling(registry, tiny_sam2, make_video):
    before = tiny_sam2.loss_size
    try:
        tiny_sam2.loss_size = tiny_sam2.predictor.image_size // 4
        adapter, sample = _sample(registry, tiny_sam2, make_video)
        assert sample.target.shape[-1] == tiny_sam2.predictor.image_size // 4
        loss = tiny_sam2.loss(adapter.module, [sample])
        assert torch.isfinite(loss) and loss.requires_grad
    finally:
        tiny_sam2.loss_size = before


class _NoGradientLearner:
    """A loss that does not depend on the module (like SAM2's mask loss behind a closed object gate)."""

    def __init__(self) -> None:
        self.steps = 0

    def loss(self, module, samples):
        self.steps += 1
        return (next(module.parameters()) * 0.0).sum() + 1.0

    def score(self, module, sample):
        return 0.0

    def loss_and_score(self, module, samples):
        return self.loss(module, samples), 0.0


@pytest.mark.parametrize("fast,steps", [(False, 10), (True, 1)])
def test_fast_stops_at_once_when_a_zero_score_has_no_gradient(registry, fast, steps):
    from torch import nn

    adapter = registry.create("adapter", "full")
    adapter.attach(nn.Sequential(nn.Linear(3, 2)), None)
    learner = _NoGradientLearner()
    report = registry.create("policy", "every", fast=fast).update(adapter, learner, object())
    assert report.steps == learner.steps == steps  # faithful: the paper's zero check at step 10


def test_bf16_autocast_tracks_in_bf16_and_hands_the_adapter_fp32_samples(registry, make_video):
    import torch

    model = registry.create("model", "sam2", checkpoint=None, image_size=64, device="cpu", autocast="bf16")
    seen = set()
    lin = next(m for n, m in model.predictor.memory_attention.named_modules() if n.endswith("q_proj"))
    lin.register_forward_hook(lambda mod, i, o: seen.add(o.dtype))
    session = model.session(next(video_object_episodes([make_video(frames=3)])))
    items = session.items()
    next(items)
    sample = session.training_sample(next(items))
    session.close()
    assert torch.bfloat16 in seen
    assert sample.feat.dtype == torch.float32 and all(h.dtype == torch.float32 for h in sample.high_res)
    with pytest.raises(ValueError, match="autocast"):
        registry.create("model", "sam2", checkpoint=None, image_size=64, autocast="int8")

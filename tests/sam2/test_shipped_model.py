"""Behaviour of the embedded tiny SAM2 (the checkpoint shipped in the plugin)."""

from __future__ import annotations

import numpy as np
import pytest

from litcore.loop import LiveTrainer
from litcore.vos.episodes import video_object_episodes
from litcore.vos.masks import iou
from litcore.vos.synth import make_video
from litcore_vos_sam2.build import default_checkpoint_path

pytestmark = pytest.mark.skipif(not default_checkpoint_path().is_file(), reason="embedded checkpoint not built")


@pytest.fixture(scope="module")
def shipped(registry):
    return registry.create("model", "sam2", device="cpu")


def test_shipped_checkpoint_tracks_easy_videos(shipped):
    for index in (0, 1):
        video = make_video("easy", index)
        ep = next(video_object_episodes([video]))
        session = shipped.session(ep)
        scores = [iou(item.prediction, item.target) for item in session.items() if item.target is not None]
        session.close()
        assert np.mean(scores) >= 0.7, (video.name, np.mean(scores))


def test_lit_needs_fewer_corrections_than_the_baseline_on_hard_videos(registry, shipped):
    videos = [make_video("hard", i, num_frames=24) for i in (1, 2)]
    totals = {}
    for adapter in ("none", "lora"):
        tr = LiveTrainer(shipped, registry.create("oracle", "vos-clicks"), registry.create("adapter", adapter),
                         registry.create("policy", "every"), seed=0)
        records = list(tr.run(video_object_episodes(videos)))
        totals[adapter] = sum(r.metrics["user_corrections"] for r in records if r.kind == "episode")
        autos = sum(r.metrics["auto_corrections"] for r in records if r.kind == "episode")
        if adapter == "lora":
            assert autos > 0
    assert totals["lora"] < totals["none"], totals


def test_on_the_embedded_model_the_lora_speed_defaults_change_nothing(registry, shipped):
    """The fast dropout draw and the base-output reuse act only on inputs of >= 65,536 elements; the tiny
    model's 8 x 8 image tokens never reach that, so its corrections train bitwise as before them."""
    import torch

    from litcore.adapters.base_memo import MEMO_MIN
    from litcore.adapters.dropout_draw import FAST_DRAW_MIN

    video = make_video("hard", 0, num_frames=6)
    session = shipped.session(next(video_object_episodes([video])))
    items = session.items()
    next(items)
    sample = session.training_sample(next(items))
    session.close()
    assert sample.feat.numel() < min(MEMO_MIN, FAST_DRAW_MIN)  # the largest LoRA input: the image tokens
    weights = {}
    for name, opts in (("defaults", {}), ("before", {"dropout_draw": "torch", "reuse_base": False})):
        adapter = registry.create("adapter", "lora", **opts)
        torch.manual_seed(0)
        adapter.attach(shipped.adaptable_module(), shipped.adapter_targets("lora"))
        torch.manual_seed(1)
        report = registry.create("policy", "every", max_steps=4, patience=100).update(adapter, shipped, sample)
        weights[name] = (adapter.state_dict(), report.losses)
        if name == "defaults":
            assert adapter.describe()["dropout_draw"] == "fast" and adapter.describe()["reuse_base"]
            assert all(m._memo.out is None for m in adapter.module.modules() if hasattr(m, "_memo"))
    (a, losses_a), (b, losses_b) = weights["defaults"], weights["before"]
    assert losses_a == losses_b and len(losses_a) == 4
    assert all(torch.equal(a[k], b[k]) for k in a)

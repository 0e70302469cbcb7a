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

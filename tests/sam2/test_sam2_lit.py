"""SAM2 + LIT mechanics on a tiny random-weight SAM2 (no downloads)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litcore.loop import LiveTrainer
from litcore.vos.episodes import video_object_episodes
from litcore.vos.masks import iou



def _trainer(registry, model, adapter="lora", policy="every", **kw):
    kw.setdefault("max_steps", 8)  # mechanics only; the paper schedule is tested in tests/core
    return LiveTrainer(model, registry.create("oracle", "vos-clicks"), registry.create("adapter", adapter),
                       registry.create("policy", policy, **kw), seed=0)


def test_lora_has_paper_parameter_count_and_spares_memory_attention(registry, tiny_sam2):
    tr = _trainer(registry, tiny_sam2)
    assert tr.adapter.num_parameters() == 35_328
    names = [n for n, _ in tr.adapter.module.named_modules() if n.endswith("lora_A")]
    assert len(names) == 21  # q, k, v x (3 attentions x 2 layers + the final attention)
    assert all(n.startswith("transformer.") for n in names)
    # the base model (including memory attention's same-named q/k/v) is untouched
    base_lora = [n for n, _ in tiny_sam2.predictor.named_modules() if "lora" in n]
    assert base_lora == []
    assert all(type(m).__name__ == "Linear" for n, m in tiny_sam2.predictor.memory_attention.named_modules()
               if n.endswith(("q_proj", "k_proj", "v_proj")))


def test_full_finetune_counts_the_whole_decoder_transformer(registry, tiny_sam2):
    tr = _trainer(registry, tiny_sam2, adapter="full")
    expected = sum(p.numel() for p in tiny_sam2.predictor.sam_mask_decoder.transformer.parameters())
    assert tr.adapter.num_parameters() == expected == 3_291_264  # the paper's "3.3M" LIT-FT


def test_baseline_and_lora_loop_count_corrections_consistently(registry, tiny_sam2, make_video):
    video = make_video()
    for adapter in ("none", "lora"):
        tr = _trainer(registry, tiny_sam2, adapter=adapter)
        records = list(tr.run(video_object_episodes([video])))
        episodes = [r for r in records if r.kind == "episode"]
        assert [e.episode_id for e in episodes] == ["toy/1", "toy/2"]
        for ep in episodes:
            steps = [r for r in records if r.kind == "step" and r.episode_id == ep.episode_id]
            user = [s for s in steps if s.outcome == "user"]
            assert ep.metrics["user_corrections"] == len(user)
            assert ep.metrics["clicks"] == sum(s.clicks for s in user)
            for s in user:  # <= 3 clicks, a mask only after 3 clicks, mask output is the GT (IoU 1)
                assert s.clicks <= 3
                if s.correction == "mask":
                    assert s.clicks == 3 and s.final_score == 1.0
                else:
                    assert s.final_score >= 0.5
            # the prompt frame is not checked; object 2 starts on its first appearance (frame 2)
            first = min(s.index for s in steps)
            assert not steps[0].checked and first == (0 if ep.episode_id == "toy/1" else 2)
        if adapter == "none":
            assert all(r.update is None and r.proposal_score is None for r in records if r.kind == "step")
        else:
            upd = [r for r in records if r.kind == "step" and r.update is not None]
            assert upd and all(r.outcome == "user" for r in upd)
            assert all(1 <= r.update["steps"] <= 40 for r in upd)


def test_an_update_improves_the_adapted_decoder_on_the_corrected_frame(registry, tiny_sam2, make_video):
    """Features captured under inference mode are cloned, so training works and helps."""
    video = make_video(frames=3)
    tr = _trainer(registry, tiny_sam2)
    episode = next(video_object_episodes([video]))
    session = tiny_sam2.session(episode)
    items = session.items()
    next(items)  # prompt frame
    item = next(items)
    sample = session.training_sample(item)
    assert not sample.feat.is_inference()
    module = tr.adapter.module
    with torch.no_grad():
        before_loss = float(tiny_sam2.loss(module, [sample]))
    before = tiny_sam2.score(module, sample)
    report = tr.policy.update(tr.adapter, tiny_sam2, sample)
    with torch.no_grad():
        after_loss = float(tiny_sam2.loss(module.eval(), [sample]))
    assert after_loss < before_loss
    assert report.best_score >= before
    assert tr.adapter.trained
    session.close()


def test_adapter_is_reset_between_objects_and_videos(registry, tiny_sam2, make_video):
    tr = _trainer(registry, tiny_sam2)
    initial = {k: v.clone() for k, v in tr.adapter.state_dict().items()}
    seen = []
    orig_reset = tr.adapter.reset

    def spy_reset():
        orig_reset()
        seen.append(all(torch.equal(v, initial[k]) for k, v in tr.adapter.state_dict().items())
                    and not tr.adapter.trained)

    tr.adapter.reset = spy_reset
    eps = list(video_object_episodes([make_video("a", frames=4), make_video("b", frames=4, seed=1)]))
    records = list(tr.run(eps))
    assert len(seen) == len(eps) == 4 and all(seen)
    # something was learned inside the episodes, so the resets had work to do
    assert any(r.kind == "step" and r.update for r in records)
    # the same episode gives the same records whether it runs first or after others
    alone = [r.to_json() for r in _trainer(registry, tiny_sam2).run([eps[3]])]
    in_run = [r.to_json() for r in records if r.episode_id == eps[3].episode_id]
    for a, b in zip(alone, in_run):
        a.pop("seconds", None), b.pop("seconds", None)
        if a.get("update"):
            a["update"].pop("seconds"), b["update"].pop("seconds")
        if a["kind"] == "episode":
            for m in (a["metrics"], b["metrics"]):
                m.pop("update_seconds_mean"), m.pop("update_seconds_total")
    assert alone == in_run


def test_accepted_proposal_is_written_into_memory(registry, tiny_sam2, make_video):
    video = make_video(frames=4)
    episode = next(video_object_episodes([video]))
    tr = _trainer(registry, tiny_sam2)
    session = tiny_sam2.session(episode)
    items = session.items()
    next(items)
    item = next(items)
    proposal = session.revise(item, tr.adapter.module)
    assert proposal.shape == video.size and proposal.dtype == bool
    store = session.state["output_dict_per_obj"][0]["non_cond_frame_outputs"]
    before = store[item.index]["maskmem_features"].clone()
    session.accept(item, proposal)
    after = store[item.index]
    assert not torch.equal(before, after["maskmem_features"])
    written = torch.nn.functional.interpolate(after["pred_masks"].float(), size=video.size, mode="bilinear")[0, 0] > 0
    assert iou(written.numpy(), proposal.astype(np.uint8)) == pytest.approx(1.0, abs=0.02)
    session.close()


def test_mask_correction_becomes_a_conditioning_frame_and_clicks_do_not(registry, tiny_sam2, make_video):
    from litcore.types import Click, MaskAction

    video = make_video(frames=5)
    episode = next(video_object_episodes([video]))
    session = tiny_sam2.session(episode)
    items = session.items()
    next(items)
    item1 = next(items)
    session.apply(item1, Click(x=10, y=10, positive=True))
    out = session.state["output_dict_per_obj"][0]
    assert item1.index in out["non_cond_frame_outputs"] and item1.index not in out["cond_frame_outputs"]
    item2 = next(items)
    painted = session.apply(item2, MaskAction(mask=item2.target))
    assert np.array_equal(painted, item2.target == 1)
    assert item2.index in out["cond_frame_outputs"] and item2.index not in out["non_cond_frame_outputs"]
    item3 = next(items)  # tracking continues after the correction
    assert item3.index == item2.index + 1
    session.close()


def test_three_lora_pool_spawns_on_poor_proposals_and_counts_three_adapters(registry, tiny_sam2, make_video):
    tr = _trainer(registry, tiny_sam2, adapter="lora-pool")
    assert tr.adapter.num_parameters() == 3 * 35_328  # the paper's "105K"
    members = tr.adapter.members
    assert not torch.equal(members[0].state_dict()[next(iter(members[0].state_dict()))],
                           members[1].state_dict()[next(iter(members[1].state_dict()))])
    records = list(tr.run(video_object_episodes([make_video(frames=5)])))
    updates = [r for r in records if r.kind == "step" and r.update]
    assert updates
    # random weights: proposals stay poor (<= 0.4), so each correction spawns until the pool is full
    assert 1 <= tr.adapter.active <= 3
    assert tr.adapter.active == min(3, len([r for r in updates if r.episode_id == records[-1].episode_id]))


def test_replace_decoder_mode_swaps_the_tracking_decoder_for_the_episode_only(registry, tiny_sam2, make_video):
    base = tiny_sam2.predictor.sam_mask_decoder
    tr = LiveTrainer(tiny_sam2, registry.create("oracle", "vos-clicks"), registry.create("adapter", "lora"),
                     registry.create("policy", "every", max_steps=3), seed=0, mode="replace")
    seen = []
    episode = next(video_object_episodes([make_video(frames=4)]))
    for rec in tr.run_episode(episode):
        seen.append(tiny_sam2.predictor.sam_mask_decoder is tr.adapter.module)
        if rec.kind == "step":
            assert rec.proposal_score is None  # nothing is proposed in replace mode
    assert any(seen[1:-1])  # after the first update the adapted decoder tracks
    assert tiny_sam2.predictor.sam_mask_decoder is base  # restored when the episode ends

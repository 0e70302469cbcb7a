"""Our memory assembler with SAM2's default policy == stock SAM2 (tiny random model, CPU)."""

from __future__ import annotations

import pytest
import torch
from sam2.modeling.sam2_base import SAM2Base

from litcore_vos_sam2.build import build_predictor, default_config_path
from litcore_vos_sam2.memory import FrameContext
from litcore_vos_sam2.predictor import LitSam2Predictor

STOCK = "sam2.sam2_video_predictor.SAM2VideoPredictor"


def _pair(policy_class="litcore_vos_sam2.memory.MemoryPolicyPredictor", **kw):
    torch.manual_seed(0)
    stock = build_predictor(default_config_path(), None, predictor_class=STOCK, overrides=["model.image_size=64"])
    head = stock.sam_mask_decoder.pred_obj_score_head.layers[-1]
    with torch.no_grad():
        head.bias.fill_(5.0)  # objects appear, so memories and pointers carry real masks
    ours = build_predictor(default_config_path(), None, predictor_class=policy_class,
                           overrides=["model.image_size=64"] + [f"model.{k}={v}" for k, v in kw.items()])
    ours.load_state_dict(stock.state_dict())
    return stock, ours


def _scenario(p, video):
    """Two objects prompted on frame 2 (mask, click), forward, a correction + re-propagation, reverse."""
    st = LitSam2Predictor.init_video_state(p, video)  # works on a stock predictor too
    outs = []
    p.add_new_mask(st, 2, 1, torch.as_tensor(video.object_mask(2, 1) == 1))
    p.add_new_points_or_box(st, 2, 2, points=[[46, 36]], labels=[1])
    outs += [(f, m.clone()) for f, _, m in p.propagate_in_video(st)]
    _, _, m = p.add_new_points_or_box(st, 5, 1, points=[[20, 16]], labels=[1])
    outs.append((5, m.clone()))
    outs += [(f, m.clone()) for f, _, m in p.propagate_in_video(st, start_frame_idx=5)]
    outs += [(f, m.clone()) for f, _, m in p.propagate_in_video(st, start_frame_idx=2, reverse=True)]
    return st, outs


def test_default_policy_reproduces_stock_sam2_propagation(clip):
    stock, ours = _pair()
    video = clip(frames=8)
    st_a, a = _scenario(stock, video)
    st_b, b = _scenario(ours, video)
    assert [f for f, _ in a] == [f for f, _ in b] == [2, 3, 4, 5, 6, 7, 5, 5, 6, 7, 2, 1, 0]
    assert max(float((x - y).abs().max()) for (_, x), (_, y) in zip(a, b)) <= 1e-5
    # the comparison is not vacuous: masks change over frames and differ between objects
    assert not torch.equal(a[1][1][0], a[1][1][1]) and not torch.equal(a[1][1], a[4][1])
    for i in (0, 1):  # and the stored memories agree too
        for key in ("cond_frame_outputs", "non_cond_frame_outputs"):
            da, db = st_a["output_dict_per_obj"][i][key], st_b["output_dict_per_obj"][i][key]
            assert sorted(da) == sorted(db)
            for t in da:
                assert torch.allclose(da[t]["obj_ptr"], db[t]["obj_ptr"], atol=1e-5)


@pytest.mark.parametrize("stride,max_cond", [(1, -1), (3, 2)])
def test_assembler_matches_super_on_the_same_inputs(clip, stride, max_cond):
    """Direct check of `_prepare_memory_conditioned_features`, incl. a stride and a cond-frame cap."""
    _, ours = _pair()
    video = clip(frames=12)
    st = ours.init_video_state(video)
    for t in (0, 4, 8):  # three conditioning frames for one object
        ours.add_new_mask(st, t, 1, torch.as_tensor(video.object_mask(t, 1) == 1))
    for _ in ours.propagate_in_video(st):
        pass
    ours.memory_temporal_stride_for_eval, ours.max_cond_frames_in_attn = stride, max_cond
    out_dict = st["output_dict_per_obj"][0]
    checked = 0
    for t, reverse in [(11, False), (7, False), (3, True), (6, True), (1, False)]:
        _, _, feats, pos, sizes = ours._get_image_feature(st, t, 1)
        args = (t, False, feats[-1:], pos[-1:], sizes[-1:], out_dict, 12, reverse)
        with torch.inference_mode():
            expected = SAM2Base._prepare_memory_conditioned_features(ours, *args)
            got = ours._prepare_memory_conditioned_features(*args)
        assert float((expected - got).abs().max()) <= 1e-5
        checked += 1
    assert checked == 5


def test_samurai_decoder_step_equals_sam2s_while_the_filter_warms_up(clip):
    """SAMURAI's re-implemented head step, with SAM2's object threshold, is SAM2's during warm-up."""
    _, ours = _pair("litcore_vos_samurai.predictor.SamuraiPredictor", min_obj_score_logits=0.0)
    video = clip(frames=4)
    st = ours.init_video_state(video)
    ours.add_new_mask(st, 0, 1, torch.as_tensor(video.object_mask(0, 1) == 1))
    for _ in ours.propagate_in_video(st):
        pass
    out_dict = st["output_dict_per_obj"][0]
    with torch.inference_mode():
        _, _, feats, pos, sizes = ours._get_image_feature(st, 3, 1)
        pix = ours._prepare_memory_conditioned_features(3, False, feats[-1:], pos[-1:], sizes[-1:], out_dict, 4)
        high = [x.permute(1, 2, 0).view(x.size(1), x.size(2), *s) for x, s in zip(feats[:-1], sizes[:-1])]
        ctx = FrameContext(st, out_dict, 0, 3, False, True)
        got = ours._tracking_heads(ctx, pix, high)
        expected = SAM2Base._forward_sam_heads(ours, pix, None, None, high, True)
    for g, e in zip(got, expected):
        assert torch.allclose(g, e, atol=1e-5)
    assert ctx.extras["kf"].stable == out_dict["non_cond_frame_outputs"][2]["kf"].stable + 1

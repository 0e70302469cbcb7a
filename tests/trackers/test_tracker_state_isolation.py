"""Tracker state is per object and per video, and survives what interactive annotation does to it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import litcore_vos_dam4sam.drm as drm
from litcore_vos_samurai.kalman import BoxKalmanFilter, xyxy_to_xyah
from litcore_vos_samurai.predictor import mask_boxes


def _mask(video, t, obj):
    return torch.as_tensor(video.object_mask(t, obj) == 1)


def _kf(state, obj_idx):
    recs = state["output_dict_per_obj"][obj_idx]["non_cond_frame_outputs"]
    return {t: (r["kf"].stable, r.get("kf_iou") is not None, r["kf"].reverse) if "kf" in r else None
            for t, r in sorted(recs.items())}


def test_samurai_filter_is_per_object_and_fresh_after_reset(tiny_samurai, clip):
    p = tiny_samurai.predictor
    video = clip(frames=20)
    state = p.init_video_state(video)
    p.add_new_mask(state, 0, 1, _mask(video, 0, 1))
    p.add_new_mask(state, 10, 2, _mask(video, 10, 2))
    for _ in p.propagate_in_video(state):
        pass
    one, two = _kf(state, 0), _kf(state, 1)
    assert one[15] == (15, False, False) and one[16] == (15, True, False) and one[19][:2] == (15, True)
    assert two[11] == (1, False, False) and two[19] == (9, False, False)  # object 2 starts its own filter
    # reverse from object 2's prompt: a fresh filter that runs backwards
    for _ in p.propagate_in_video(state, start_frame_idx=10, reverse=True):
        pass
    two = _kf(state, 1)
    assert two[9] == (1, False, True) and two[8] == (2, False, True) and two[0] == (10, False, True)
    # a correction click is a measurement: the filter of frame 11 predicts and takes the click mask's box
    before = state["output_dict_per_obj"][0]["non_cond_frame_outputs"][11]["kf"]
    p.click(state, 1, 12, 20, 16, True)
    for _ in p.frames(state, 1, 13):
        pass
    one = _kf(state, 0)
    assert one[11] == (11, False, False) and one[12] == (12, False, False) and one[13] == (13, False, False)
    assert one[16] == (15, True, False) and one[19] == (15, True, False)  # warm-up not restarted
    rec12 = state["output_dict_per_obj"][0]["non_cond_frame_outputs"][12]
    high = torch.nn.functional.interpolate(rec12["pred_masks"].float(), size=(p.image_size,) * 2, mode="bilinear",
                                           align_corners=False)
    kf = BoxKalmanFilter()
    expected = kf.update(*kf.predict(before.mean, before.cov), xyxy_to_xyah(mask_boxes(high[0])[0]))
    np.testing.assert_allclose(rec12["kf"].mean, expected[0])
    np.testing.assert_allclose(rec12["kf"].cov, expected[1])
    assert "kf_iou" not in rec12 and "best_iou" not in rec12  # user-made: trusted as memory
    # a full-mask correction (a conditioning frame) and an accepted proposal are measurements too
    p.correct_with_mask(state, 1, 17, _mask(video, 17, 1).numpy())
    cond17 = state["output_dict_per_obj"][0]["cond_frame_outputs"][17]
    assert cond17["kf"].stable == 15 and "kf_iou" not in cond17
    rec = state["output_dict_per_obj"][0]["non_cond_frame_outputs"][15]
    p.write_output(state, 1, 15, rec["pred_masks"].clone(), rec["object_score_logits"].clone())
    replaced = state["output_dict_per_obj"][0]["non_cond_frame_outputs"][15]
    assert replaced["kf"].stable == 15 and "kf_iou" not in replaced
    # reset_state, then a new object: nothing of the old filter is left
    p.reset_state(state)
    p.add_new_mask(state, 3, 7, _mask(video, 3, 1))
    for _ in p.propagate_in_video(state):
        pass
    fresh = _kf(state, 0)
    assert fresh[4] == (1, False, False) and fresh[18] == (15, False, False) and fresh[19] == (15, True, False)
    assert not hasattr(p, "kf_mean") and not any(isinstance(v, np.ndarray) for v in vars(p).values())


def test_samurai_memory_keeps_the_previous_frame_and_drops_bad_ones(tiny_samurai, clip):
    p = tiny_samurai.predictor
    video = clip(frames=12)
    state = p.init_video_state(video)
    p.add_new_mask(state, 0, 1, _mask(video, 0, 1))
    for _ in p.propagate_in_video(state):
        pass
    out = state["output_dict_per_obj"][0]
    recs = out["non_cond_frame_outputs"]
    for r in recs.values():  # known scores, independent of the random weights
        r.update(best_iou=0.9, kf_iou=None, object_score_logits=torch.ones(1, 1))
    recs[10]["best_iou"] = 0.1   # the previous frame: kept even though it fails
    recs[8]["kf_iou"] = 0.0      # fails the KF test
    recs[7]["object_score_logits"] = torch.full_like(recs[7]["object_score_logits"], -2.0)
    sel = p._select_memory(11, out, 12, False)
    ids = {id(r): t for t, r in recs.items()}
    assert [(i, ids.get(id(o), "cond")) for i, o in sel.spatial] == [
        (6, "cond"), (5, 3), (4, 4), (3, 5), (2, 6), (1, 9), (0, 10)]
    p.exclude_frames_0_1 = True  # the original's quirk: frames 0 and 1 are never memory candidates
    try:
        sel = p._select_memory(5, out, 12, False)
    finally:
        p.exclude_frames_0_1 = False
    assert [(i, ids.get(id(o), "cond")) for i, o in sel.spatial] == [(6, "cond"), (2, 2), (1, 3), (0, 4)]
    sel = p._select_memory(5, out, 12, False)  # fixed by default: frame 1 is remembered
    assert [(i, ids.get(id(o), "cond")) for i, o in sel.spatial] == [(6, "cond"), (3, 1), (2, 2), (1, 3), (0, 4)]


def test_dam_drm_set_is_per_object_and_feeds_the_anchors(tiny_dam4sam, clip, monkeypatch):
    p = tiny_dam4sam.predictor
    video = clip(frames=18)
    # random weights are never confident: open the IoU gate and fake the distractor; size and gap rules stay real
    monkeypatch.setattr(p, "rule", dataclasses.replace(p.rule, iou_gate=-1.0))
    monkeypatch.setattr(drm, "distractor_present", lambda *a, **k: True)
    state = p.init_video_state(video)
    p.add_new_mask(state, 0, 1, _mask(video, 0, 1))
    p.add_new_mask(state, 2, 2, _mask(video, 2, 2))
    for _ in p.frames(state, 1, 0):
        pass
    monkeypatch.undo()
    for _ in p.frames(state, 2, 2):
        pass
    d1, d2 = (state["output_dict_per_obj"][i] for i in (0, 1))
    flagged = sorted(t for t, r in d1["non_cond_frame_outputs"].items() if r["drm"])
    assert flagged == [2, 8, 14]  # size history needs 2 entries; then more than 5 frames apart
    assert not any(r["drm"] for r in d2["non_cond_frame_outputs"].values())
    sel = p._select_memory(16, d1, 18, False)
    ids = {id(r): t for t, r in d1["non_cond_frame_outputs"].items()} | {id(d1["cond_frame_outputs"][0]): 0}
    assert [ids[id(o)] for i, o in sel.spatial if i == 6] == [0, 14, 8, 2]
    assert [ids[id(o)] for i, o in sel.spatial if i != 6] == [5, 10, 15]  # 7 slots - 4 anchors
    sel2 = p._select_memory(16, d2, 18, False)
    own = {id(r) for r in d2["non_cond_frame_outputs"].values()} | {id(d2["cond_frame_outputs"][2])}
    assert all(id(o) in own for _, o in sel2.spatial + sel2.pointers)
    # a corrected frame becomes an anchor (DAM's add_all_frames_to_correct_as_cond)
    p.click(state, 1, 12, 20, 16, True)
    assert 12 in d1["cond_frame_outputs"] and 12 not in d1["non_cond_frame_outputs"]
    sel = p._select_memory(16, d1, 18, False)
    assert [ids.get(id(o), "click") for i, o in sel.spatial if i == 6] == [0, 14, "click", 8]


@pytest.mark.parametrize("name", ["samurai", "dam4sam"])
def test_what_crashes_the_originals_works(request, clip, name):
    """Two objects batched, prompts after frame 0, reverse, corrections + re-propagation, removal, reset."""
    p = request.getfixturevalue(f"tiny_{name}").predictor
    video = clip(frames=10)
    state = p.init_video_state(video)
    p.add_new_mask(state, 3, 1, _mask(video, 3, 1))
    p.add_new_points_or_box(state, 4, 2, points=[[46, 36]], labels=[1])
    frames = [f for f, ids, m in p.propagate_in_video(state) if m.shape[0] == 2]
    assert frames == list(range(3, 10))
    p.add_new_points_or_box(state, 6, 1, points=[[24, 16]], labels=[1])
    p.add_new_mask(state, 7, 2, _mask(video, 7, 2))
    assert [f for f, _, _ in p.propagate_in_video(state, start_frame_idx=6)] == [6, 7, 8, 9]
    assert [f for f, _, _ in p.propagate_in_video(state, start_frame_idx=4, reverse=True)] == [4, 3, 2, 1, 0]
    p.remove_object(state, 1)
    assert state["obj_ids"] == [2]
    assert [f for f, _, m in p.propagate_in_video(state, start_frame_idx=0)] == list(range(10))
    p.reset_state(state)
    assert state["output_dict_per_obj"] == {}

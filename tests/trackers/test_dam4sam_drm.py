"""DAM4SAM's DRM admission rule on constructed masks, and its RAM/DRM memory selection on fabricated records."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from litcore_vos_dam4sam.drm import DrmRule, admit, distractor_present, largest_component, passes_gate, size_ratio

H, W = 60, 80


def _rect(y1, y2, x1, x2):
    m = np.zeros((H, W), bool)
    m[y1:y2, x1:x2] = True
    return m


TARGET = _rect(20, 40, 10, 30)  # 20 x 20
HISTORY = [400, 410, 395, 400]  # stable sizes, oldest first (the current frame is appended)


def _admit(alts, best_iou=0.9, area_hist=HISTORY, since=None, mask=TARGET):
    return admit(mask, alts, best_iou, list(area_hist) + [int(mask.sum())], since)


def test_far_alternative_blob_is_a_distractor():
    far = TARGET | _rect(20, 40, 55, 75)  # the target plus a look-alike far to the right
    assert _admit([TARGET.copy(), far])
    # only the largest 8-connected blob outside the mask counts: a far speck next to a big near blob does not
    near_big = TARGET | _rect(20, 40, 30, 33) | _rect(5, 6, 75, 76)
    assert not _admit([near_big])


def test_touching_or_overlapping_alternatives_are_not():
    assert not _admit([TARGET | _rect(22, 38, 30, 33)])  # a thin touching sliver: bbox IoU 20*20 / (23*20) > 0.7
    assert not _admit([TARGET.copy(), _rect(25, 35, 15, 25)])  # inside the target: nothing outside it
    assert not _admit([])


def test_bbox_iou_threshold_is_inclusive():
    # target box 20 x 20; a blob widening it to 20 x 28.57 would give IoU exactly 0.7
    rule = DrmRule()
    alt = TARGET | _rect(20, 40, 30, 38)  # box 20 x 28 -> IoU = 400 / 560 = 0.714 (> 0.7: no)
    assert not distractor_present(TARGET, [alt], rule)
    alt = TARGET | _rect(20, 40, 30, 39)  # 20 x 29 -> IoU = 0.69 (<= 0.7: yes)
    assert distractor_present(TARGET, [alt], rule)


@pytest.mark.parametrize("kwargs", [
    {"best_iou": 0.8},                      # predicted IoU must exceed 0.8
    {"area_hist": [600, 600, 600, 600]},    # area 400 / median 600 = 0.67 < 0.8
    {"area_hist": [300, 300, 300, 300]},    # 400 / 300 = 1.33 > 1.2
    {"area_hist": []},                      # history of one entry: ratio undefined
    {"since": 5},                           # last admission 5 frames ago: too soon
    {"mask": np.zeros((H, W), bool)},       # empty target
])
def test_gate_failures_block_admission(kwargs):
    far = TARGET | _rect(20, 40, 55, 75)
    assert _admit([far])  # the same case passes with the defaults...
    assert not _admit([far], **kwargs)  # ...and fails with one gate broken


def test_gap_and_ratio_edges():
    assert passes_gate(0.9, 400, HISTORY + [400], 6)  # 6 frames since the last admission is enough
    assert size_ratio(400, [0, 0, 400, 400]) == pytest.approx(1.0)  # zeros are kept but not in the median
    assert size_ratio(480, [100] * 5 + [400] * 10 + [480]) == pytest.approx(1.2)  # median of the last 10 non-empty
    assert size_ratio(0, [400, 0]) == -1 and size_ratio(400, [400]) == -1
    assert largest_component(np.zeros((4, 4), bool)).sum() == 0
    diag = np.eye(5, dtype=bool)  # 8-connected: one blob
    assert largest_component(diag).sum() == 5


# -- memory selection on fabricated records -------------------------------------------

def _rec(t, visible=True, **flags):
    return {"t": t, "pred_masks": torch.full((1, 1, 4, 4), 1.0 if visible else -1.0), "obj_ptr": None,
            "object_score_logits": torch.ones(1, 1), **flags}


def _records(n, cond=(0,), drm=(), invisible=()):
    out = {"cond_frame_outputs": {t: _rec(t, init_cond=(t == cond[0])) for t in cond},
           "non_cond_frame_outputs": {t: _rec(t, t not in invisible, drm=t in drm) for t in range(n) if t not in cond}}
    return out


def _frames(sel):
    anchors = [o["t"] for i, o in sel.spatial if i == 6]
    ram = [(i, o["t"]) for i, o in sel.spatial if i != 6]
    return anchors, ram


@pytest.mark.parametrize("t,drm,anchors,ram", [
    (23, (5, 8), [0, 8, 5], [(3, 10), (2, 15), (1, 20), (0, 22)]),
    (12, (5, 8), [0, 8, 5], [(1, 10), (0, 11)]),
    (10, (), [0], [(1, 5), (0, 9)]),
    (23, (5, 8, 13, 17, 22), [0, 17, 13, 8], [(2, 15), (1, 20), (0, 22)]),  # t-1 is never an anchor
])
def test_ram_and_drm_slots(tiny_dam4sam, t, drm, anchors, ram):
    sel = tiny_dam4sam.predictor._select_memory(t, _records(30, drm=drm), 30, False)
    assert _frames(sel) == (anchors, ram)
    assert len(sel.spatial) <= tiny_dam4sam.predictor.num_maskmem


def test_invisible_frames_are_skipped_and_pointers_need_visibility(tiny_dam4sam):
    sel = tiny_dam4sam.predictor._select_memory(23, _records(30, drm=(5, 8), invisible=(22, 20)), 30, False)
    anchors, ram = _frames(sel)
    assert anchors == [0, 8, 5] and ram == [(2, 10), (1, 15), (0, 21)]  # 22 and 20 are invisible
    frames = [o["t"] for _, o in sel.pointers]
    dists = [d for d, _ in sel.pointers]
    assert frames[:3] == [0, 8, 5] and dists[:3] == [23, 15, 18]  # past anchors, unsigned distances
    assert frames[3:] == [21, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9]  # t-1..t-15: visible, not anchors
    assert dists[3:] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def test_reverse_mirrors_and_user_corrections_compete_for_anchor_slots(tiny_dam4sam):
    recs = _records(30, cond=(29, 20, 3), drm=(25, 27))  # prompt on 29 (init), corrections on 20 and 3
    sel = tiny_dam4sam.predictor._select_memory(12, recs, 30, True)
    anchors, ram = _frames(sel)
    assert anchors == [29, 20, 3, 25]  # the initial prompt always, then the nearest, capped at 4
    assert ram == [(1, 15), (0, 13)]  # newest visible, then multiples of 5 above; 20 and 25 are anchors
    frames = [o["t"] for _, o in sel.pointers]
    assert frames[:3] == [29, 20, 25] and 3 not in frames  # only anchors on the past side give pointers

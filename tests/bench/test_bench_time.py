"""Annotation-time model on a hand-made list of step records; the paper-number calibration helper."""

from __future__ import annotations

import json

import pytest

from litcore.annotation_time import CostModel, annotation_time, implied_costs, run_annotation_time


def _step(group, checked=True, actions=(), proposal=None, update_s=None):
    return {"kind": "step", "group": group, "checked": checked, "actions": list(actions),
            "clicks": sum(a == "click" for a in actions), "proposal_score": proposal,
            "update": None if update_s is None else {"seconds": update_s, "steps": 3}}


STEPS = [
    _step("a", checked=False),                                            # prompt frame: free
    _step("a"),                                                           # reviewed, fine
    _step("a", actions=["click"], update_s=0.5),                          # 1 click + training
    _step("a", proposal=0.7),                                             # adapter proposal accepted
    _step("a", actions=["click", "click", "click", "mask"], proposal=0.2, update_s=0.25),
    _step("b", actions=["click", "click"]),
    {"kind": "episode", "group": "b"},                                    # not a step: ignored
]


def test_hand_computed_minutes_per_video():
    costs = CostModel(review_s=2.0, click_s=3.0, mask_s=30.0, proposal_s=1.5, compute_scale=2.0)
    out = annotation_time(STEPS, costs)
    a, b = out["groups"]["a"], out["groups"]["b"]
    assert a["review"] == 4 * 2.0 and a["clicks"] == 4 * 3.0 and a["masks"] == 30.0
    assert a["proposals"] == 2 * 1.5 and a["compute"] == pytest.approx(2.0 * 0.75)
    assert a["seconds"] == pytest.approx(8 + 12 + 30 + 3 + 1.5)
    assert b["seconds"] == pytest.approx(2.0 + 6.0)
    assert out["minutes_per_video"] == pytest.approx((54.5 + 8.0) / 60 / 2)
    no_compute = annotation_time(STEPS, CostModel(review_s=2.0, click_s=3.0, mask_s=30.0, proposal_s=1.5,
                                                  include_compute=False))
    assert no_compute["groups"]["a"]["seconds"] == pytest.approx(53.0)


def test_defaults_and_run_directory(tmp_path):
    (tmp_path / "steps.jsonl").write_text("\n".join(json.dumps(s) for s in STEPS[:-1]) + "\n")
    d = CostModel()
    expected_a = 4 * d.review_s + 4 * d.click_s + d.mask_s + 2 * d.proposal_s + 0.75
    out = run_annotation_time(tmp_path)
    assert out["groups"]["a"]["seconds"] == pytest.approx(expected_a)
    assert out["model"]["mask_s"] == d.mask_s


def test_options_are_checked():
    assert CostModel.from_options({"click_s": 2}).click_s == 2
    with pytest.raises(ValueError, match="clicks_s"):
        CostModel.from_options({"clicks_s": 2})


def test_implied_costs_from_the_paper_vost_rows():
    out = implied_costs((27.43, 18.24), (18.42, 12.91))
    per = (18.42 - 12.91) * 60 / (27.43 - 18.24)
    assert out["seconds_per_correction"] == pytest.approx(per) and 35 < per < 37
    assert out["base_seconds_per_video"] == pytest.approx(18.42 * 60 - 27.43 * per)
    with pytest.raises(ValueError):
        implied_costs((3, 3), (1, 2))

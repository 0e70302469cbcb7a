"""J and F against values computed independently: hand-derived formulas and a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from litcore.vos.jf import (JFWriter, ObjectScores, aggregate, boundary_f, boundary_map, boundary_pr, last_quarter,
                            region_j, tolerance)


def brute_boundary(seg: np.ndarray) -> np.ndarray:
    """The DAVIS rule written pixel by pixel: compare with the right, lower and lower-right neighbours."""
    h, w = seg.shape
    at = lambda y, x: bool(seg[y, x]) if y < h and x < w else False  # noqa: E731  outside = background
    out = np.zeros((h, w), bool)
    for y in range(h):
        for x in range(w):
            if y == h - 1 and x == w - 1:
                continue
            if y == h - 1:
                out[y, x] = at(y, x) != at(y, x + 1)
            elif x == w - 1:
                out[y, x] = at(y, x) != at(y + 1, x)
            else:
                out[y, x] = any(at(y, x) != at(y + dy, x + dx) for dy, dx in ((0, 1), (1, 0), (1, 1)))
    return out


def brute_f(pred: np.ndarray, gt: np.ndarray, radius: int) -> float:
    """Boundary F by checking every pair of boundary pixels for Euclidean distance <= radius."""
    pb, gb = np.argwhere(brute_boundary(pred)), np.argwhere(brute_boundary(gt))
    if len(pb) == 0 and len(gb) == 0:
        return 1.0
    if len(pb) == 0 or len(gb) == 0:
        return 0.0
    d2 = ((pb[:, None, :] - gb[None, :, :]) ** 2).sum(-1)
    precision = (d2.min(axis=1) <= radius * radius).mean()
    recall = (d2.min(axis=0) <= radius * radius).mean()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def square(shape, y, x, s):
    m = np.zeros(shape, bool)
    m[y:y + s, x:x + s] = True
    return m


def test_tolerance_is_davis_ceil_of_diagonal():
    assert tolerance((480, 854)) == math.ceil(0.008 * math.hypot(480, 854)) == 8
    assert tolerance((48, 64)) == 1  # 0.64 rounds up
    assert tolerance((48, 64), bound_th=3) == 3  # >= 1 means pixels


@pytest.mark.parametrize("s,k", [(20, 0), (20, 1), (12, 1), (9, 1)])
def test_square_shifted_within_tolerance(s, k):
    gt = square((48, 64), 10, 10, s)
    pred = np.roll(gt, k, axis=1)
    assert region_j(pred, gt) == pytest.approx((s - k) / (s + k))  # overlap s(s-k), union s(s+k)
    assert boundary_f(pred, gt) == 1.0  # every boundary pixel moved by k <= 1 pixel


@pytest.mark.parametrize("s", [5, 12, 20])
def test_square_shifted_by_two_with_tolerance_one(s):
    """Derived by hand: each map has 4s boundary pixels, 2s + 2 of them match, so P = R = (s+1)/(2s)."""
    gt = square((48, 64), 10, 10, s)
    pred = np.roll(gt, 2, axis=1)
    assert int(boundary_map(gt).sum()) == 4 * s
    p, r = boundary_pr(pred, gt)
    assert p == pytest.approx((s + 1) / (2 * s)) and r == pytest.approx((s + 1) / (2 * s))
    assert boundary_f(pred, gt) == pytest.approx((s + 1) / (2 * s))
    assert region_j(pred, gt) == pytest.approx((s - 2) / (s + 2))


def test_far_apart_and_empty_cases():
    gt = square((48, 64), 5, 5, 8)
    far = square((48, 64), 30, 40, 8)
    assert region_j(far, gt) == 0.0 and boundary_f(far, gt) == 0.0
    empty = np.zeros((48, 64), bool)
    assert region_j(empty, empty) == 1.0 and boundary_f(empty, empty) == 1.0
    assert region_j(empty, gt) == 0.0 and boundary_pr(empty, gt) == (1.0, 0.0) and boundary_f(empty, gt) == 0.0
    assert boundary_pr(gt, empty) == (0.0, 1.0) and boundary_f(gt, empty) == 0.0


def test_void_is_ignored_or_counted_as_background():
    gt = square((48, 64), 10, 10, 10).astype(np.uint8)
    gt[30:40, 30:40] = 255
    pred = (gt > 0)  # the object plus the whole void region
    assert region_j(pred, gt) == 1.0 and boundary_f(pred, gt) == 1.0
    assert region_j(pred, gt, ignore_void=False) == pytest.approx(100 / 200)  # VOST's official rule
    assert boundary_f(pred, gt, ignore_void=False) < 1.0


@settings(max_examples=60, deadline=None)
@given(pred=arrays(bool, (9, 11)), gt=arrays(bool, (9, 11)), radius=st.integers(1, 3))
def test_f_matches_brute_force(pred, gt, radius):
    assert np.array_equal(boundary_map(gt), brute_boundary(gt))
    assert boundary_f(pred, gt, bound_th=radius) == pytest.approx(brute_f(pred, gt, radius))
    union = (pred | gt).sum()
    assert region_j(pred, gt) == pytest.approx((pred & gt).sum() / union if union else 1.0)


def test_j_last_and_aggregation():
    values = [0.1 * i for i in range(8)]
    assert last_quarter(values) == values[6:]
    assert last_quarter([0.3]) == [0.3]
    a = ObjectScores("v/1", "v", ["a", "b", "c", "d"], [1.0, 0.5, 0.0, 0.2], [1.0, 1.0, 0.0, 0.0]).summary()
    assert a["J"] == pytest.approx(0.425) and a["F"] == pytest.approx(0.5) and a["JF"] == pytest.approx(0.4625)
    assert a["J_last"] == pytest.approx(0.2) and a["J_recall"] == pytest.approx(0.25)  # only 1.0 > 0.5
    b = ObjectScores("v/2", "v", ["a"], [1.0], [1.0]).summary()
    c = ObjectScores("w/1", "w", ["a"], [0.0], [0.0]).summary()
    agg = aggregate([a, b, c, ObjectScores("w/2", "w").summary()])  # no checked frame: left out
    assert agg["videos"]["v"]["JF"] == pytest.approx((0.4625 + 1.0) / 2) and agg["videos"]["w"]["objects"] == 1
    assert agg["totals"]["JF"] == pytest.approx((0.4625 + 1.0 + 0.0) / 3)  # DAVIS: mean over objects
    assert agg["totals"]["JF_per_video"] == pytest.approx(((0.4625 + 1.0) / 2 + 0.0) / 2)


class _Rec:
    def __init__(self, episode_id, index, name, output=None, checked=True, kind="step"):
        self.episode_id, self.group = episode_id, episode_id.split("/")[0]
        self.index, self.name, self.output, self.checked, self.kind = index, name, output, checked, kind


def test_writer_scores_kept_masks_against_dataset_gt(tmp_path, trees):
    from litcore.vos import benchmarks

    masks = trees.sav(tmp_path)
    ds = benchmarks.sav(tmp_path)
    w = JFWriter(tmp_path / "run", ds.video)
    gt4, gt8 = masks[("000", "00004")], masks[("000", "00008")]
    shifted = np.roll(gt8, 2, axis=1)
    w.write(_Rec("sav_000001/2", 4, "00004", output=gt4))  # an episode that dies before its end record
    for rec in (_Rec("sav_000001/1", 0, "00000", output=gt4, checked=False), _Rec("sav_000001/1", 4, "00004", gt4),
                _Rec("sav_000001/1", 8, "00008", shifted), _Rec("sav_000001/1", 0, "", kind="episode")):
        w.write(rec)
    w.close()
    import json

    out = json.loads((tmp_path / "run" / "jf.json").read_text())
    (obj,) = out["objects"]
    assert obj["episode_id"] == "sav_000001/1" and obj["frames"] == 2
    assert obj["J"] == pytest.approx((1.0 + region_j(shifted, gt8)) / 2)
    assert obj["F"] == pytest.approx((1.0 + brute_f(shifted, gt8, tolerance(gt8.shape))) / 2)
    assert (tmp_path / "run" / "jf.csv").read_text().splitlines()[0].startswith("episode_id,video,frames,J,F")

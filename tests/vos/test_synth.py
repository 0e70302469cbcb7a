"""Synthetic VOS benchmark: determinism, split isolation, and that each failure mode is really on screen.

The failure-mode checks recompute everything from the label maps and frames
(with scipy as an independent implementation) instead of trusting `meta`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from litcore.vos.davis import DavisDataset
from litcore.vos.synth import HARD_COMBOS, MODES, SynthVideo, make_video, video_seed
from litcore.vos.synth.cli import add_synth_parser, run_synth
from litcore.vos.synth.measure import appearance, appearance_distance, component_sizes, dilate

N_HARD = len(HARD_COMBOS)  # one full cycle of combinations


@lru_cache(maxsize=None)
def video(split: str, index: int) -> SynthVideo:
    return make_video(split, index)


def hard_with(mode: str) -> list[SynthVideo]:
    vids = [video("hard", i) for i in range(N_HARD) if mode in HARD_COMBOS[i]]
    assert vids, mode
    return vids


def visible_ratio(v: SynthVideo) -> np.ndarray:
    vis = np.array([(v.labels(t) == 1).sum() for t in range(len(v))])
    return vis / np.maximum(np.array(v.meta["target_area_unoccluded"]), 1)


def frame_hash(v: SynthVideo) -> str:
    return hashlib.sha1(v.image(0).tobytes() + v.labels(0).tobytes()).hexdigest()


# -- determinism and seeds ---------------------------------------------------------

def test_same_split_and_index_give_identical_videos():
    a, b = make_video("hard", 3), make_video("hard", 3)
    assert a.name == "hard_0003" and len(a) == len(b) == 48
    for t in range(len(a)):
        assert np.array_equal(a.image(t), b.image(t))
        assert np.array_equal(a.labels(t), b.labels(t))
    assert json.dumps(a.meta) == json.dumps(b.meta)
    c = video("hard", 4)
    assert not np.array_equal(a.image(0), c.image(0))


def test_splits_use_disjoint_seeds_and_produce_no_shared_videos():
    seeds = {s: video_seed(s, 0).generate_state(4).tolist() for s in ("train", "easy", "hard")}
    assert len({tuple(v) for v in seeds.values()}) == 3
    hashes = [frame_hash(video(s, i)) for s, n in (("train", 6), ("easy", 4), ("hard", N_HARD)) for i in range(n)]
    assert len(set(hashes)) == len(hashes)
    small = make_video("train", 0, num_frames=4, height=64, width=64)
    assert not np.array_equal(small.image(0), make_video("hard", 0, num_frames=4, height=64, width=64).image(0))


def test_unknown_split_lists_valid_ones():
    with pytest.raises(ValueError, match="train.*easy.*hard"):
        make_video("val", 0)
    with pytest.raises(ValueError):
        make_video("hard", -1)


# -- structure ---------------------------------------------------------------------

@pytest.mark.parametrize("split,count,frames", [("easy", 4, (24, 24)), ("hard", N_HARD, (48, 48)),
                                                 ("train", 6, (16, 24))])
def test_every_frame_labelled_and_target_visible_on_frame_zero(split, count, frames):
    for i in range(count):
        v = video(split, i)
        assert v.name == f"{split}_{i:04d}" and frames[0] <= len(v) <= frames[1]
        assert v.annotated_indices() == list(range(len(v)))
        assert v.labels(0).dtype == np.uint8 and v.image(0).shape == (128, 128, 3)
        assert 1 in v.object_ids and 1 <= len(v.object_ids) <= 3 and max(v.object_ids) <= 3
        area0 = int((v.labels(0) == 1).sum())
        assert area0 >= 150 and area0 == v.meta["target_area"][0]
        json.dumps(v.meta)  # the meta must be JSON-serialisable as written by the CLI


def test_size_and_frame_overrides():
    v = make_video("hard", 2, height=96, width=160, num_frames=12)
    assert len(v) == 12 and v.size == (96, 160) and v.labels(11).shape == (96, 160)
    assert (v.labels(0) == 1).sum() >= 150 * 96 * 160 / 128 ** 2


def test_too_short_clips_report_unrealised_modes_instead_of_claiming_them():
    unrealised = set()
    for i in (0, 6):  # occlusion cannot both happen and end within two frames
        v = make_video("hard", i, num_frames=2, height=64, width=64)
        m = v.meta
        assert set(m["modes"]) | set(m["unrealised_modes"]) == set(HARD_COMBOS[i])
        assert set(m["events"]) == set(m["modes"]) and not set(m["modes"]) & set(m["unrealised_modes"])
        assert (v.labels(0) == 1).sum() >= 150 * 64 * 64 / 128 ** 2
        unrealised |= set(m["unrealised_modes"])
    assert "occlusion" in unrealised


def test_easy_videos_are_single_slow_objects():
    for i in range(4):
        v = video("easy", i)
        assert v.object_ids == [1] and v.meta["modes"] == [] and v.meta["occluded_frames"] == []
        masks = [v.labels(t) == 1 for t in range(len(v))]
        ious = [(a & b).sum() / (a | b).sum() for a, b in zip(masks, masks[1:])]
        assert min(ious) > 0.8  # smooth, slow: trackable from the first mask alone


def test_hard_videos_combine_two_or_three_recorded_modes():
    for i in range(N_HARD):
        m = video("hard", i).meta
        assert 2 <= len(m["modes"]) <= 3 and set(m["modes"]) <= set(MODES)
        assert set(m["events"]) == set(m["modes"]) and m["unrealised_modes"] == {}
    assert set().union(*HARD_COMBOS) == set(MODES)


# -- failure modes, measured independently ----------------------------------------

def test_occlusion_drops_visibility_repeatedly_and_target_reemerges():
    for v in hard_with("occlusion"):
        ratio = visible_ratio(v)
        ev = v.meta["events"]["occlusion"]
        occluded = ev["occluded_frames"]
        assert occluded and all(ratio[t] < 0.5 for t in occluded)
        assert [t for t in range(len(v)) if ratio[t] < 0.5] == occluded
        assert len(ev["runs"]) >= 2  # the occluder sweeps over the target more than once
        for first, last in ev["runs"]:
            assert ratio[first - 1] >= 0.5 and max(ratio[last + 1:]) >= 0.8


def test_camouflage_distractor_looks_like_the_target_and_comes_close():
    for v in hard_with("camouflage"):
        ev = v.meta["events"]["camouflage"]
        d = ev["distractor_id"]
        assert d in v.object_ids and d != 1
        lab, img = v.labels(0), v.image(0)
        to_target = appearance_distance(img, lab == 1, lab == d)
        to_background = appearance_distance(img, lab == 1, lab == 0)
        assert to_target < 45 and to_target < 0.5 * to_background
        assert np.linalg.norm(appearance(img, lab == 1)[:3] - appearance(img, lab == d)[:3]) > 5  # not a clone
        near = []
        for t in range(len(v)):
            lab = v.labels(t)
            dist = ndimage.distance_transform_edt(lab != 1)
            near.append(bool((lab == d).any() and (dist[lab == d].min() <= 4 or (lab == 1).sum() == 0)))
        assert not near[0]
        encounters = ndimage.label(np.array(near))[1]
        assert encounters >= 2  # the look-alike crosses the target's path repeatedly


def test_separation_splits_target_into_pieces_that_keep_its_id():
    for v in hard_with("separation"):
        ratio = visible_ratio(v)
        n_parts = v.meta["events"]["separation"]["num_parts"]
        first = ndimage.label(v.labels(0) == 1)[1]
        assert first == 1
        late = [t for t in range(3 * len(v) // 4, len(v)) if ratio[t] >= 0.95]
        assert late
        for t in late:
            lab, n = ndimage.label(v.labels(t) == 1)
            sizes = np.bincount(lab.ravel())[1:]
            assert 2 <= (sizes >= 8).sum() <= n_parts + 1


def test_deformation_changes_scale_and_shape():
    for v in hard_with("deformation"):
        ratio = visible_ratio(v)
        areas = np.array([(v.labels(t) == 1).sum() for t in range(len(v)) if ratio[t] >= 0.95])
        assert areas.max() / areas.min() > 2.0
        aspect = np.array(v.meta["events"]["deformation"]["aspect"])
        assert aspect.max() / aspect.min() > 1.5  # elongates and shortens


def test_drift_changes_target_colour_slowly():
    for v in hard_with("drift"):
        means = [appearance(v.image(t), v.labels(t) == 1)[:3] for t in range(len(v))]
        assert np.linalg.norm(means[0] - means[-1]) > 40
        steps = [np.linalg.norm(a - b) for a, b in zip(means, means[1:]) if not np.isnan(a - b).any()]
        assert np.median(steps) < 10  # gradual, not a cut


def test_fast_motion_has_large_jumps():
    for v in hard_with("fast_motion"):
        ratio = visible_ratio(v)
        jumps = v.meta["events"]["fast_motion"]["jump_frames"]
        assert len(jumps) >= 2
        big = []
        for t in jumps:
            if ratio[t] >= 0.5 and ratio[t - 1] >= 0.5:
                a = ndimage.center_of_mass(v.labels(t) == 1)
                b = ndimage.center_of_mass(v.labels(t - 1) == 1)
                big.append(np.hypot(a[0] - b[0], a[1] - b[1]))
        assert big and max(big) > 15
    for i in range(4):
        assert max(video("easy", i).meta["target_step_px"]) < 3


# -- measurement helpers agree with scipy ----------------------------------------

@settings(max_examples=40, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 12), st.integers(1, 12))), st.integers(1, 3))
def test_components_and_dilation_match_scipy(mask, radius):
    lab, n = ndimage.label(mask)
    assert component_sizes(mask) == sorted(np.bincount(lab.ravel())[1:].tolist(), reverse=True)
    expected = ndimage.binary_dilation(mask, np.ones((2 * radius + 1,) * 2, bool)) if mask.any() else mask
    assert np.array_equal(dilate(mask, radius), expected)


# -- CLI ---------------------------------------------------------------------------

def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_synth_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    assert args.func is run_synth
    return args.func(args)


def test_cli_writes_readable_davis_with_meta_and_split_list(tmp_path, capsys):
    out = tmp_path / "synth"
    common = ["--split", "hard", "--out", str(out), "--size", "64", "--frames", "5"]
    assert _run(["synth", "--videos", "2", *common]) == 0
    assert _run(["synth", "--videos", "1", "--start", "2", *common]) == 0  # appends, keeps earlier
    ds = DavisDataset(out, split="hard")
    assert ds.video_names() == ["hard_0000", "hard_0001", "hard_0002"]
    meta = json.loads((out / "meta.json").read_text())
    assert sorted(meta) == ds.video_names()
    ref = make_video("hard", 1, height=64, width=64, num_frames=5)
    got = ds.video("hard_0001")
    assert len(got) == 5 and got.object_ids == ref.object_ids
    for t in range(5):
        assert np.array_equal(got.labels(t), ref.labels(t))  # PNG masks are lossless
        assert np.abs(got.image(t).astype(int) - ref.image(t)).mean() < 6  # JPEG is not
    assert meta["hard_0001"]["modes"] == ref.meta["modes"]
    assert _run(["synth", "--videos", "0", "--out", str(out)]) == 2
    assert "wrote 1 hard videos" in capsys.readouterr().out

"""VOST, LVOS v2, MOSEv2 and SA-V loaders on format-faithful fixtures: order, sparse GT, ids, errors."""

from __future__ import annotations

import numpy as np
import pytest

from litcore.errors import DataError
from litcore.vos import benchmarks
from litcore.vos.video import VOID


@pytest.fixture(scope="module")
def registry():
    from litcore.plugins import build_registry

    return build_registry()


def _episodes(registry, name, **options):
    ds = registry.create("dataset", name, **options)
    return [(e.episode_id, e.meta["start_frame"]) for e in ds.episodes()]


def test_vost_order_void_and_first_frame_objects(tmp_path, trees, registry):
    labs = trees.vost(tmp_path)
    ds = benchmarks.vost(tmp_path)
    assert ds.video_names() == ["1_cut_blob"]  # read from a list without a trailing newline
    v = ds.video("1_cut_blob")
    assert v.frame_names == [f"frame{n:05d}" for n in (0, 6, 12, 18, 24)]
    assert v.annotated_indices() == [0, 1, 2, 3, 4]
    assert v.object_ids == [1, 2]  # 255 is void, never an object
    m = v.object_mask(1, 1)
    assert np.array_equal(m == VOID, labs["frame00006"] == 255)
    assert np.array_equal(m == 1, labs["frame00006"] == 1)
    assert v.first_appearance(2) == 2
    # LIT runs VOST without "objects appearing later": object 2 (absent on frame 0) is not an episode
    assert _episodes(registry, "vost", root=str(tmp_path)) == [("1_cut_blob/1", "frame00000")]
    assert _episodes(registry, "vost", root=str(tmp_path), appearing_later=True) == [
        ("1_cut_blob/1", "frame00000"), ("1_cut_blob/2", "frame00012")]


def test_vost_denser_frames_are_unannotated(tmp_path, trees):
    trees.vost(tmp_path)
    src = tmp_path / "JPEGImages" / "1_cut_blob"
    dense = tmp_path / "JPEGImages_10fps" / "1_cut_blob"
    dense.mkdir(parents=True)
    for n in range(0, 25, 3):
        (dense / f"frame{n:05d}.jpg").write_bytes((src / "frame00000.jpg").read_bytes())
    v = benchmarks.vost(tmp_path, frames="JPEGImages_10fps").video("1_cut_blob")
    assert len(v) == 9
    assert [v.frame_names[i] for i in v.annotated_indices()] == [f"frame{n:05d}" for n in (0, 6, 12, 18, 24)]
    assert v.labels(1) is None and v.object_mask(1, 1) is None  # frame00003: processed, never checked


def test_vost_errors_name_the_file(tmp_path, trees):
    with pytest.raises(DataError, match="VOST root"):
        benchmarks.vost(tmp_path / "nope")
    trees.vost(tmp_path)
    with pytest.raises(DataError, match=r"ImageSets/test\.txt"):
        benchmarks.vost(tmp_path, split="test")
    (tmp_path / "ImageSets" / "val.txt").write_text("1_cut_blob\nghost")
    ds = benchmarks.vost(tmp_path)
    with pytest.raises(DataError, match=r"JPEGImages/ghost"):
        ds.video("ghost")
    (tmp_path / "Annotations" / "1_cut_blob" / "frame00099.png").write_bytes(
        (tmp_path / "Annotations" / "1_cut_blob" / "frame00000.png").read_bytes())
    with pytest.raises(DataError, match="frame00099"):
        ds.video("1_cut_blob")


@pytest.mark.parametrize("split_folder", ["valid", "val"])
def test_lvos_sparse_names_objects_appearing_later(tmp_path, trees, registry, split_folder):
    labs = trees.lvos(tmp_path, split=split_folder)
    ds = benchmarks.lvos(tmp_path, split="valid")  # both folder spellings are accepted
    assert ds.video_names() == ["abCD1234"]
    assert set(ds.meta["abCD1234"]["objects"]) == {"1", "2"}
    v = ds.video("abCD1234")
    assert v.frame_names == ["00000001", "00000006", "00000011", "00000016", "00000021", "00000026", "00000031"]
    assert v.annotated_indices() == [0, 1, 2, 3, 4, 5]
    assert v.labels(6) is None  # a frame without a mask: no ground truth
    assert v.object_ids == [1, 2]
    assert v.first_appearance(2) == 2
    assert np.array_equal(v.object_mask(3, 2) == 1, labs["00000016"] == 2)
    assert _episodes(registry, "lvos", root=str(tmp_path)) == [("abCD1234/1", "00000001"),
                                                                ("abCD1234/2", "00000011")]


def test_lvos_missing_or_bad_meta(tmp_path, trees):
    trees.lvos(tmp_path)
    meta = tmp_path / "valid" / "valid_meta.json"
    meta.write_text("{not json")
    with pytest.raises(DataError, match="valid_meta.json"):
        benchmarks.lvos(tmp_path)
    meta.unlink()
    with pytest.raises(DataError, match="valid_meta.json"):
        benchmarks.lvos(tmp_path)
    with pytest.raises(DataError, match="no split folder"):
        benchmarks.lvos(tmp_path, split="test")


def test_mose_public_valid_is_refused_full_gt_subset_runs(tmp_path, trees, registry):
    trees.mose(tmp_path)  # valid: 00000.png only, as released
    ds = benchmarks.mose(tmp_path)
    assert ds.video_names() == ["vidA"]
    with pytest.raises(DataError, match=r"only one annotated frame.*valid/Annotations/vidA"):
        ds.video("vidA")
    v = benchmarks.mose(tmp_path, require_full_gt=False).video("vidA")
    assert v.annotated_indices() == [0] and v.labels(3) is None
    labs = trees.mose(tmp_path, split="train", full=True, video="vidB")
    trees.mose(tmp_path, split="train", full=True, video="vidC")
    (tmp_path / "heldout.txt").write_text("vidB\n")
    ds = benchmarks.mose(tmp_path, split="train", video_list=str(tmp_path / "heldout.txt"))
    assert ds.video_names() == ["vidB"]
    v = ds.video("vidB")
    assert v.frame_names == [f"{t:05d}" for t in range(6)] and v.annotated_indices() == list(range(6))
    assert not (v.object_mask(3, 1) == 1).any()  # object 1 disappears on frame 3: an empty target
    assert np.array_equal(v.object_mask(4, 1) == 1, labs["00004"] == 1)
    with pytest.raises(DataError, match="missing.txt"):
        benchmarks.mose(tmp_path, split="train", video_list=str(tmp_path / "missing.txt"))


def test_sav_24fps_frames_6fps_per_object_masks_ids_from_zero(tmp_path, trees, registry):
    masks = trees.sav(tmp_path, missing=("001", "00008"))
    ds = benchmarks.sav(tmp_path, split="val")  # the parent of sav_val/ works as root
    assert ds.video_names() == ["sav_000001"]
    v = ds.video("sav_000001")
    assert v.frame_names == [f"{t:05d}" for t in range(14)]
    assert v.annotated_indices() == [0, 4, 8, 12]
    assert all(v.labels(t) is None for t in (1, 2, 3, 13))
    assert v.object_ids == [1, 2] and v.id_map == {1: 0, 2: 1}  # folder 000 -> id 1
    assert np.array_equal(v.object_mask(4, 1) == 1, masks[("000", "00004")])
    assert np.array_equal(v.object_mask(4, 2) == 1, masks[("001", "00004")])  # overlap kept per object
    assert v.object_mask(8, 2) is None and v.object_mask(8, 1) is not None  # missing PNG = no GT
    assert _episodes(registry, "sav", root=str(tmp_path / "sav_val")) == [("sav_000001/1", "00000"),
                                                                          ("sav_000001/2", "00000")]


def test_sav_errors_name_the_file(tmp_path, trees):
    trees.sav(tmp_path)
    with pytest.raises(DataError, match="sav_test.txt"):
        benchmarks.sav(tmp_path, split="test")
    with pytest.raises(DataError, match="unknown video 'sav_999'"):
        benchmarks.sav(tmp_path).video("sav_999")
    stray = tmp_path / "sav_val" / "Annotations_6fps" / "sav_000001" / "000" / "00099.png"
    stray.write_bytes((stray.parent / "00000.png").read_bytes())
    with pytest.raises(DataError, match="00099"):
        benchmarks.sav(tmp_path).video("sav_000001")

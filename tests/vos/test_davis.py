"""DAVIS/SA-V folder loading: ordering, layouts, and errors that name the culprit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import litcore.vos.davis as davis_mod
from litcore.vos.davis import DatasetError, DavisDataset, FolderVideo, write_davis
from litcore.vos.masks import write_label_png
from litcore.vos.video import ArrayVideo

H, W = 24, 32


def _frame(path: Path, grey: int, size=(H, W)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), grey, np.uint8)).save(path, quality=95)


def _labels(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = np.zeros((H, W), np.uint8)
    y, x = rng.integers(0, H - 8), rng.integers(0, W - 8)
    lab[y:y + 6, x:x + 8] = 1
    lab[-4:, :5] = 2
    return lab


def _palette_tree(root: Path, name="blob", stems=("frame00010", "frame2", "frame100", "frame0007"),
                  annotated=("frame2", "frame100")) -> dict[str, np.ndarray]:
    labs = {}
    for k, stem in enumerate(stems):
        _frame(root / "JPEGImages" / name / f"{stem}.jpg", 40 * (k + 1))
    for k, stem in enumerate(annotated):
        labs[stem] = _labels(k)
        write_label_png(root / "Annotations" / name / f"{stem}.png", labs[stem])
    return labs


def test_palette_layout_sparse_names_sorted_numerically(tmp_path):
    labs = _palette_tree(tmp_path)
    labs["frame100"][0, :3] = 255  # a void stripe must not become an object
    write_label_png(tmp_path / "Annotations/blob/frame100.png", labs["frame100"])
    v = DavisDataset(tmp_path).video("blob")
    assert v.frame_names == ["frame2", "frame0007", "frame00010", "frame100"]
    assert len(v) == 4 and v.size == (H, W)
    greys = [int(v.image(i).mean().round()) for i in range(4)]
    assert greys == pytest.approx([80, 160, 40, 120], abs=3)  # files were written in `stems` order
    assert v.image(0).shape == (H, W, 3) and v.image(0).dtype == np.uint8
    assert v.annotated_indices() == [0, 3]
    assert v.labels(1) is None and v.labels(2) is None
    assert np.array_equal(v.labels(0), labs["frame2"])
    assert np.array_equal(v.labels(3), labs["frame100"])
    assert v.object_ids == [1, 2]
    m = v.object_mask(3, 1)
    assert m[0, 0] == 255 and set(np.unique(m)) <= {0, 1, 255}
    assert np.array_equal(m == 1, labs["frame100"] == 1)


def test_object_ids_decode_each_mask_once(tmp_path, monkeypatch):
    _palette_tree(tmp_path)
    calls = []
    real = davis_mod.read_label_png
    monkeypatch.setattr(davis_mod, "read_label_png", lambda p: calls.append(p) or real(p))
    v = DavisDataset(tmp_path).video("blob")
    assert calls == []  # opening is lazy
    ids = v.object_ids
    assert v.object_ids == ids and v.first_appearance(2) == 0
    assert len(calls) == len(v.annotated_indices()) == 2


def test_480p_subfolder_and_split_file(tmp_path):
    for name in ("b", "a", "c"):
        _palette_tree(tmp_path / "_tmp", name=name)
    for kind in ("JPEGImages", "Annotations"):
        (tmp_path / kind).mkdir()
        (tmp_path / "_tmp" / kind).rename(tmp_path / kind / "480p")
    (tmp_path / "ImageSets/2017").mkdir(parents=True)
    (tmp_path / "ImageSets/2017/val.txt").write_text("c\na\n\n")
    assert DavisDataset(tmp_path).video_names() == ["a", "b", "c"]
    ds = DavisDataset(tmp_path, split="val")
    assert ds.video_names() == ["a", "c"]
    assert [v.name for v in ds.videos()] == ["a", "c"]
    assert ds.video("a").object_ids == [1, 2]


def _per_object_tree(root: Path, folders=("000", "001", "3")) -> dict[str, np.ndarray]:
    stems = ["00000", "00004", "00008", "00009"]
    for k, s in enumerate(stems):
        _frame(root / "JPEGImages/sav" / f"{s}.jpg", 50 + k)
    masks = {}
    base = np.zeros((H, W), bool)
    masks[folders[0]] = base.copy()
    masks[folders[0]][2:20, 2:20] = True  # big, overlaps the next one
    masks[folders[1]] = base.copy()
    masks[folders[1]][10:14, 10:30] = True
    masks[folders[2]] = base.copy()
    masks[folders[2]][18:22, 0:30] = True
    for f, m in masks.items():
        for s in stems[:3]:
            if f == folders[2] and s == "00004":
                continue  # this object has no ground truth on that frame
            scale = 255 if f == folders[1] else 1  # 0/255 and 0/1 files
            write_label_png(root / "Annotations/sav" / f / f"{s}.png", m.astype(np.uint8) * scale)
    return masks


def test_per_object_layout_with_id_zero_is_shifted(tmp_path):
    masks = _per_object_tree(tmp_path)
    v = DavisDataset(tmp_path).video("sav")
    assert v.id_map == {1: 0, 2: 1, 4: 3}
    assert v.object_ids == [1, 2, 4]
    assert v.annotated_indices() == [0, 1, 2] and v.labels(3) is None
    lab = v.labels(0)
    expected = np.zeros((H, W), np.uint8)
    for internal, orig in sorted(v.id_map.items(), reverse=True):
        expected[masks[{0: "000", 1: "001", 3: "3"}[orig]]] = internal
    assert np.array_equal(lab, expected)
    assert lab[12, 12] == 1  # overlap of objects 1 and 2: the lower id wins
    own = v.object_mask(0, 2)
    assert own.dtype == np.uint8 and set(np.unique(own)) == {0, 1}
    assert np.array_equal(own == 1, masks["001"])  # full mask, not what survives compositing
    assert v.object_mask(1, 4) is None  # missing file: no ground truth
    assert v.object_mask(1, 1) is not None and v.first_appearance(4) == 0


def test_per_object_layout_without_zero_keeps_ids(tmp_path):
    _per_object_tree(tmp_path, folders=("1", "2", "5"))
    v = DavisDataset(tmp_path).video("sav")
    assert v.id_map == {1: 1, 2: 2, 5: 5}
    assert v.object_ids == [1, 2, 5]


def _err(fn) -> str:
    with pytest.raises(DatasetError) as e:
        fn()
    return str(e.value)


def test_missing_frame_named(tmp_path):
    _palette_tree(tmp_path)
    write_label_png(tmp_path / "Annotations/blob/frame00055.png", np.zeros((H, W), np.uint8))
    assert "frame00055.png" in _err(lambda: DavisDataset(tmp_path).video("blob"))


def test_size_mismatch_names_mask_and_sizes(tmp_path):
    _palette_tree(tmp_path)
    write_label_png(tmp_path / "Annotations/blob/frame2.png", np.zeros((H - 4, W), np.uint8))
    v = DavisDataset(tmp_path).video("blob")
    msg = _err(lambda: v.labels(0))
    assert "frame2.png" in msg and f"{H - 4}x{W}" in msg and f"{H}x{W}" in msg


def test_rgb_mask_named(tmp_path):
    _palette_tree(tmp_path)
    Image.new("RGB", (W, H), (128, 0, 0)).save(tmp_path / "Annotations/blob/frame100.png")
    v = DavisDataset(tmp_path).video("blob")
    assert "frame100.png" in _err(lambda: v.labels(3))


def test_unreadable_jpg_named(tmp_path):
    _palette_tree(tmp_path)
    (tmp_path / "JPEGImages/blob/frame0007.jpg").write_bytes(b"definitely not a jpeg")
    v = DavisDataset(tmp_path).video("blob")
    assert "frame0007.jpg" in _err(lambda: v.image(1))


def test_unknown_video_lists_available(tmp_path):
    _palette_tree(tmp_path, name="bear")
    msg = _err(lambda: DavisDataset(tmp_path).video("horse"))
    assert "horse" in msg and "bear" in msg


def test_missing_split_and_folders_named(tmp_path):
    _palette_tree(tmp_path)
    assert "test-dev" in _err(lambda: DavisDataset(tmp_path, split="test-dev"))
    assert "nowhere" in _err(lambda: DavisDataset(tmp_path / "nowhere"))
    (tmp_path / "Annotations").rename(tmp_path / "Masks")
    assert "Annotations" in _err(lambda: DavisDataset(tmp_path))
    (tmp_path / "JPEGImages").rename(tmp_path / "Frames")
    assert "JPEGImages" in _err(lambda: DavisDataset(tmp_path))


def test_bad_frame_names(tmp_path):
    _frame(tmp_path / "f/00010.jpg", 0)
    _frame(tmp_path / "f/frame10.png", 0)
    (tmp_path / "a").mkdir()
    msg = _err(lambda: FolderVideo(tmp_path / "f", tmp_path / "a"))
    assert "frame10.png" in msg and "00010.jpg" in msg and "same number" in msg
    (tmp_path / "f/frame10.png").unlink()
    _frame(tmp_path / "f/cover.jpg", 0)
    assert "cover.jpg" in _err(lambda: FolderVideo(tmp_path / "f", tmp_path / "a"))


def test_write_davis_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 90, W)[None, :, None]
    frames = [np.broadcast_to(ramp + 15 * k + np.array([0, 40, 80]), (H, W, 3)).astype(np.uint8) for k in range(5)]
    labs = [rng.choice(np.array([0, 1, 2, 255], np.uint8), size=(H, W)) for _ in range(5)]
    labs[2] = None
    src = ArrayVideo("synth", frames, labs, names=["00000", "00005", "00010", "00015", "00100"])
    write_davis(src, tmp_path)
    v = DavisDataset(tmp_path).video("synth")
    assert v.frame_names == src.frame_names
    assert v.annotated_indices() == src.annotated_indices() == [0, 1, 3, 4]
    for i in range(5):
        assert (v.labels(i) is None) == (labs[i] is None)
        if labs[i] is not None:
            assert np.array_equal(v.labels(i), labs[i])
        diffs = [np.abs(v.image(i).astype(int) - f.astype(int)).mean() for f in frames]
        assert int(np.argmin(diffs)) == i and diffs[i] < 6  # JPEG is lossy, but it is the right frame
    assert v.object_ids == src.object_ids == [1, 2]

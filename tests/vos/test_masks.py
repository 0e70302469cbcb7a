"""Mask primitives: IoU semantics, palette, and strict index-PNG I/O."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from litcore.vos.masks import (
    MaskFormatError, bbox, davis_palette, iou, read_binary_png, read_label_png, target_to_bool, write_label_png,
)


def test_iou_perfect_partial_and_disjoint():
    t = np.zeros((8, 8), np.uint8)
    t[2:6, 2:6] = 1
    assert iou(t == 1, t) == 1.0
    half = np.zeros((8, 8), bool)
    half[2:4, 2:6] = True  # 8 of the 16 object pixels, nothing outside
    assert iou(half, t) == pytest.approx(8 / 16)
    far = np.zeros((8, 8), bool)
    far[7, 7] = True
    assert iou(far, t) == 0.0


def test_iou_ignores_void():
    t = np.zeros((6, 6), np.uint8)
    t[1:3, 1:3] = 1
    t[4:, :] = 255
    pred = t == 1
    spill = pred.copy()
    spill[4:, :] = True  # predicted object only inside void
    assert iou(spill, t) == 1.0
    spill[3, 0] = True  # one real false positive
    assert iou(spill, t) == pytest.approx(4 / 5)


def test_iou_empty_cases():
    empty_t = np.zeros((4, 5), np.uint8)
    empty_t[0] = 255
    none = np.zeros((4, 5), bool)
    assert iou(none, empty_t) == 1.0
    voided = none.copy()
    voided[0] = True
    assert iou(voided, empty_t) == 1.0
    some = none.copy()
    some[2, 2] = True
    assert iou(some, empty_t) == 0.0


def test_iou_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as e:
        iou(np.zeros((3, 4), bool), np.zeros((4, 3), np.uint8))
    assert "(3, 4)" in str(e.value) and "(4, 3)" in str(e.value)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_iou_matches_set_definition(data):
    shape = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    t = data.draw(arrays(np.uint8, shape, elements=st.sampled_from([0, 1, 255])))
    p = data.draw(arrays(bool, shape))
    valid = {(r, c) for r in range(shape[0]) for c in range(shape[1]) if t[r, c] != 255}
    P = {rc for rc in valid if p[rc]}
    G = {rc for rc in valid if t[rc] == 1}
    expected = 1.0 if not (P | G) else len(P & G) / len(P | G)
    assert iou(p, t) == pytest.approx(expected)
    assert np.array_equal(target_to_bool(t), t == 1)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9), st.integers(0, 9))
def test_bbox_of_rectangle(a, b, c, d):
    x0, x1 = sorted((a, b))
    y0, y1 = sorted((c, d))
    m = np.zeros((10, 12), bool)
    m[y0:y1 + 1, x0:x1 + 1] = True
    assert bbox(m) == (x0, y0, x1, y1)


def test_bbox_empty():
    assert bbox(np.zeros((3, 3), bool)) is None


def test_palette_layout():
    p = davis_palette()
    assert len(p) == 768
    col = lambda i: tuple(p[3 * i:3 * i + 3])  # noqa: E731
    assert col(0) == (0, 0, 0)
    assert col(1) == (128, 0, 0)
    assert col(2) == (0, 128, 0)
    assert col(3) == (128, 128, 0)
    assert col(4) == (0, 0, 128)
    assert col(8) == (64, 0, 0)
    assert col(255) == (224, 224, 192)
    assert len({col(i) for i in range(256)}) == 256


def test_palette_png_round_trip_preserves_ids(tmp_path):
    rng = np.random.default_rng(0)
    lab = rng.choice(np.array([0, 1, 2, 7, 254, 255], np.uint8), size=(13, 17))
    path = tmp_path / "deep" / "dir" / "00000.png"
    write_label_png(path, lab)
    with Image.open(path) as img:
        assert img.mode == "P"
        assert bytes(img.getpalette()[:768]) == davis_palette()
    back = read_label_png(path)
    assert back.dtype == np.uint8 and np.array_equal(back, lab)
    # P -> P again (what a loader that re-saves does) keeps the indices
    Image.open(path).save(tmp_path / "copy.png")
    assert np.array_equal(read_label_png(tmp_path / "copy.png"), lab)


def test_l_and_1_modes_are_indices(tmp_path):
    lab = np.array([[0, 3], [255, 1]], np.uint8)
    Image.fromarray(lab, mode="L").save(tmp_path / "l.png")
    assert np.array_equal(read_label_png(tmp_path / "l.png"), lab)
    Image.fromarray(lab > 0).convert("1").save(tmp_path / "one.png")
    assert np.array_equal(read_label_png(tmp_path / "one.png"), (lab > 0).astype(np.uint8))


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_colour_png_rejected_with_filename(tmp_path, mode):
    path = tmp_path / f"colour_{mode}.png"
    Image.new(mode, (4, 4)).save(path)
    with pytest.raises(MaskFormatError) as e:
        read_label_png(path)
    assert path.name in str(e.value) and "palette" in str(e.value)
    assert isinstance(e.value, ValueError)


def test_corrupt_and_truncated_rejected(tmp_path):
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x00not a png at all" * 5)
    with pytest.raises(MaskFormatError, match="garbage.png"):
        read_label_png(garbage)
    good = tmp_path / "good.png"
    write_label_png(good, np.random.default_rng(1).integers(0, 3, (64, 64)).astype(np.uint8))
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(MaskFormatError, match="cut.png"):
        read_label_png(cut)
    with pytest.raises(MaskFormatError, match="missing.png"):
        read_label_png(tmp_path / "missing.png")


def test_read_binary_png_accepts_01_and_0255(tmp_path):
    m = np.zeros((5, 6), bool)
    m[1:3, 2:5] = True
    write_label_png(tmp_path / "a.png", m.astype(np.uint8))
    Image.fromarray(m.astype(np.uint8) * 255, mode="L").save(tmp_path / "b.png")
    for name in ("a.png", "b.png"):
        out = read_binary_png(tmp_path / name)
        assert out.dtype == bool and np.array_equal(out, m)
    Image.new("RGB", (3, 3)).save(tmp_path / "rgb.png")
    with pytest.raises(MaskFormatError, match="rgb.png"):
        read_binary_png(tmp_path / "rgb.png")

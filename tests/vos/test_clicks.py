"""Click placement: checked against a brute-force distance, not against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litcore.vos.clicks import next_click


def brute_depth(region: np.ndarray) -> np.ndarray:
    """Euclidean distance of each region pixel to the nearest pixel outside it (frame border counts)."""
    h, w = region.shape
    rr, cc = np.mgrid[-1:h + 1, -1:w + 1]
    padded = np.zeros((h + 2, w + 2), bool)
    padded[1:-1, 1:-1] = region
    outside = np.stack([rr[~padded], cc[~padded]], axis=1)
    out = np.zeros((h, w))
    for r, c in zip(*np.nonzero(region)):
        out[r, c] = np.sqrt(((outside - (r, c)) ** 2).sum(axis=1).min())
    return out


@st.composite
def masks(draw, shape):
    """Union of a few rectangles, optionally with random pixel noise (blobs)."""
    h, w = shape
    m = np.zeros(shape, bool)
    for _ in range(draw(st.integers(0, 3))):
        y0, y1 = sorted((draw(st.integers(0, h - 1)), draw(st.integers(0, h - 1))))
        x0, x1 = sorted((draw(st.integers(0, w - 1)), draw(st.integers(0, w - 1))))
        m[y0:y1 + 1, x0:x1 + 1] = True
    if draw(st.booleans()):
        flips = draw(st.lists(st.tuples(st.integers(0, h - 1), st.integers(0, w - 1)), max_size=6))
        for r, c in flips:
            m[r, c] = ~m[r, c]
    return m


@st.composite
def cases(draw):
    shape = draw(st.tuples(st.integers(2, 14), st.integers(2, 14)))
    gt = draw(masks(shape))
    pred = draw(masks(shape))
    target = gt.astype(np.uint8)
    void = draw(masks(shape)) if draw(st.booleans()) else np.zeros(shape, bool)
    target[void] = 255
    return pred, target


@settings(max_examples=150, deadline=None)
@given(cases())
def test_click_is_centre_of_the_larger_error(case):
    pred, target = case
    gt = (target > 0) & (target != 255)  # void is background for placement
    fn, fp = gt & ~pred, ~gt & pred
    d_fn, d_fp = brute_depth(fn), brute_depth(fp)
    click = next_click(pred, target)
    if not fn.any() and not fp.any():
        assert click is None
        return
    assert click is not None
    assert isinstance(click.x, int) and isinstance(click.y, int)
    assert 0 <= click.x < pred.shape[1] and 0 <= click.y < pred.shape[0]
    region, depth = (fn, d_fn) if click.positive else (fp, d_fp)
    assert region[click.y, click.x], "click outside the error region it names"
    assert depth[click.y, click.x] == pytest.approx(depth.max())
    assert click.positive == (d_fn.max() > d_fp.max() + 1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 3), st.booleans())
def test_tie_goes_negative(h, w, offset, swap):
    """Two congruent disjoint rectangles, one missed and one hallucinated: equal depth."""
    shape = (2 * h + 3 + offset, 2 * w + 3)
    a = np.zeros(shape, bool)
    b = np.zeros(shape, bool)
    a[0:h, 0:w] = True
    b[h + 2 + offset:2 * h + 2 + offset, w + 2:2 * w + 2] = True
    gt, pred = (a, b) if not swap else (b, a)
    click = next_click(pred, gt.astype(np.uint8))
    assert click is not None and not click.positive
    assert pred[click.y, click.x] and not gt[click.y, click.x]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_identical_masks_give_none(data):
    shape = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12)))
    gt = data.draw(masks(shape)) if min(shape) > 1 else np.ones(shape, bool)
    target = gt.astype(np.uint8)
    assert next_click(gt, target) is None
    assert next_click(gt, target * 3) is None  # any non-void id is "object"


def test_x_is_column_y_is_row():
    target = np.zeros((8, 20), np.uint8)
    target[2:5, 10:13] = 1  # 3x3 square whose only deepest pixel is row 3, column 11
    click = next_click(np.zeros_like(target, bool), target)
    assert click.positive and (click.x, click.y) == (11, 3)


def test_prediction_on_void_earns_a_negative_click():
    target = np.full((7, 7), 255, np.uint8)
    pred = np.ones((7, 7), bool)
    click = next_click(pred, target)
    assert click is not None and not click.positive and (click.x, click.y) == (3, 3)


def test_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(3, 4\)"):
        next_click(np.zeros((3, 3), bool), np.zeros((3, 4), np.uint8))

"""The page's COCO RLE codec (static/js/rle.js), run in Chromium, against pycocotools.

Masks travel between page and server as compressed RLE strings, so the
browser must write exactly pycocotools' bytes and read any string it writes.
Large frames are built on both sides from rectangles, so 1080p masks with
multi-byte runs are covered without shipping millions of pixels over the
DevTools pipe.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from browser_kit import browser, static_server

ENCODE = """async ([h, w, bits]) => {
  const rle = await import('/js/rle.js');
  const m = Uint8Array.from(bits);
  const r = rle.encode(m, h, w);
  return {counts: r.counts, size: r.size, area: rle.area(r), back: Array.from(rle.decode(r))};
}"""
DECODE = """async ([h, w, counts]) => {
  const rle = await import('/js/rle.js');
  return Array.from(rle.decode({size: [h, w], counts}));
}"""
RECTS = """async ([h, w, rects]) => {
  const rle = await import('/js/rle.js');
  const m = new Uint8Array(h * w);
  for (const [y0, y1, x0, x1] of rects) for (let y = y0; y < y1; y++) m.fill(1, y * w + x0, y * w + x1);
  const r = rle.encode(m, h, w);
  const back = rle.decode(r);
  let same = back.length === m.length;
  for (let i = 0; same && i < m.length; i++) same = back[i] === m[i];
  return {counts: r.counts, area: rle.area(r), same};
}"""
FAILS = """async ([h, w, counts]) => {
  const rle = await import('/js/rle.js');
  try { rle.decode({size: [h, w], counts}); return null; } catch (e) { return e.message; }
}"""


@pytest.fixture(scope="module")
def page():
    with browser() as b, static_server() as base:
        pg = b.new_page()
        pg.route(f"{base}/blank.html", lambda route: route.fulfill(body="<!doctype html><title>rle</title>",
                                                                     content_type="text/html"))
        pg.goto(f"{base}/blank.html")
        yield pg


def coco(mask: np.ndarray) -> str:
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii")


masks = st.tuples(st.integers(1, 40), st.integers(1, 40), st.floats(0, 1), st.integers(0, 2**32 - 1)).map(
    lambda a: (np.random.default_rng(a[3]).random((a[0], a[1])) < a[2]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mask=masks)
def test_small_masks_match_pycocotools_both_ways(page, mask):
    h, w = mask.shape
    out = page.evaluate(ENCODE, [h, w, mask.astype(int).ravel().tolist()])
    assert out["counts"] == coco(mask)
    assert out["size"] == [h, w]
    assert out["area"] == int(mask.sum())
    assert np.array_equal(np.array(out["back"]).reshape(h, w), mask)
    assert np.array_equal(np.array(page.evaluate(DECODE, [h, w, coco(mask)])).reshape(h, w), mask)


rects = st.lists(st.tuples(st.integers(0, 1079), st.integers(0, 1079), st.integers(0, 1919), st.integers(0, 1919))
                 .map(lambda r: (min(r[0], r[1]), max(r[0], r[1]), min(r[2], r[3]), max(r[2], r[3]))), max_size=4)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rects=rects)
def test_full_hd_masks_match_pycocotools(page, rects):
    h, w = 1080, 1920
    mask = np.zeros((h, w), bool)
    for y0, y1, x0, x1 in rects:
        mask[y0:y1, x0:x1] = True
    out = page.evaluate(RECTS, [h, w, [list(r) for r in rects]])
    assert out["counts"] == coco(mask)
    assert out["area"] == int(mask.sum())
    assert out["same"]


def test_bad_strings_are_refused(page):
    assert "invalid character" in page.evaluate(FAILS, [2, 2, "4 "])
    assert "exceed" in page.evaluate(FAILS, [2, 2, "0:"])          # a run of 10 in a 4-pixel mask
    assert "expected 4" in page.evaluate(FAILS, [2, 2, "02"])       # runs cover 2 of 4 pixels
    assert page.evaluate(FAILS, [2, 2, coco(np.eye(2, dtype=bool))]) is None

"""Regenerate the screenshots in docs/serve.md: `python3 docs/serve/screenshot.py`.

Runs the real `lit serve` (embedded tiny SAM2 on the generated hard videos;
then the CLIP plugin on the synthetic birds) in a thread, drives the page in
headless Chromium exactly as the browser test does (tests/serve/browser_kit.py),
and saves the page at a moment worth showing: the adapter's revision offered
on a flagged frame, and a classification image with its top-5 labels.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "serve"))

from browser_kit import browser, lit_serve  # noqa: E402

WAIT = 120_000


def slider(page) -> int:
    return page.evaluate("() => Number(document.getElementById('slider').value)")


def vos(b) -> None:
    with lit_serve("--dataset-opt", "start=1", "--dataset-opt", "videos=3", "--dataset-opt", "frames=30") as (base, app):
        video = app.state.gallery.dataset.video("hard_0001")
        page = b.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page.goto(base + "/")
        page.wait_for_selector(".gallery .entry img[src]", timeout=WAIT)
        page.screenshot(path=str(HERE / "gallery.png"))
        page.click(".gallery .entry[data-group=hard_0001]")
        page.wait_for_function("() => document.getElementById('frame-label').textContent.includes('frontier')",
                               timeout=WAIT)
        import numpy as np

        f0 = slider(page)
        ys, xs = np.nonzero(video.object_mask(f0, 1) == 1)
        box = page.locator("#stage").bounding_box()
        h, w = video.size
        page.mouse.click(box["x"] + (np.median(xs) + 0.5) * box["width"] / w,
                         box["y"] + (np.median(ys) + 0.5) * box["height"] / h)
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Positive')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#update[data-state=ready]", timeout=WAIT)
        page.keyboard.press(" ")
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) >= {f0 + 8}", timeout=WAIT)
        page.keyboard.press(" ")
        page.wait_for_function("() => document.body.dataset.busy === '0'", timeout=WAIT)
        page.keyboard.press("f")
        page.wait_for_selector("body[data-mode=revision]", timeout=WAIT)
        page.mouse.move(box["x"] + box["width"] + 40, box["y"] + 20)
        page.screenshot(path=str(HERE / "page.png"))


def labels(b) -> None:
    with lit_serve("--model", "clip", "--dataset", "synth-cls", "--dataset-opt", "per_class=4") as (base, app):
        page = b.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page.goto(base + "/")
        page.click(".gallery .entry >> nth=0")
        page.wait_for_selector("#cls-labels li button", timeout=WAIT)
        page.keyboard.press("Enter")
        page.wait_for_function("() => Number(document.getElementById('slider').value) === 1", timeout=WAIT)
        page.wait_for_selector("#cls-labels li button", timeout=WAIT)
        page.screenshot(path=str(HERE / "labels.png"))


if __name__ == "__main__":
    with browser() as b:
        vos(b)
        labels(b)
    print("wrote", ", ".join(str(HERE / n) for n in ("gallery.png", "page.png", "labels.png")))

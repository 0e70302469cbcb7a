"""End to end in headless Chromium: a person's session on `lit serve` through the page.

The server is the real `lit serve` (embedded tiny SAM2, generated hard
videos) in a thread on a free port; Playwright drives Debian's chromium. The
test clicks on the canvas, accepts, waits for the background update,
propagates and stops, flags a frame and accepts the adapter's revision,
flags another, rejects and paints the mask with the brush, switches LIT off
and on, then checks the counters against the server and every exported mask
(COCO RLE, palette PNG, per-object PNG) against the kept predictions.
"""

from __future__ import annotations

import io
import json
import urllib.request
import warnings
import zipfile

import numpy as np
import pytest
from PIL import Image

from browser_kit import browser, lit_serve

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytestmark = pytest.mark.slow

GROUP = "hard_0001"       # its first object: a centre click gives a real mask with the shipped tiny SAM2
OBJ_RGB = (31, 119, 180)     # palette.js colour of object 1
WAIT = 90_000                # ms: generous, the CI box is shared


def api(base: str, path: str):
    with urllib.request.urlopen(base + path) as r:
        body = r.read()
    return json.loads(body) if r.headers.get_content_type() == "application/json" else body


def rle_mask(rle: dict) -> np.ndarray:
    from pycocotools import mask as mask_utils

    with warnings.catch_warnings():  # pycocotools 2.0.x trips NumPy 2's `copy=` deprecation inside decode
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def canvas_pixels(page) -> np.ndarray:
    data = page.evaluate("""() => { const c = document.getElementById('stage');
        return [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""")
    w, h, px = data
    return np.array(px, dtype=np.int16).reshape(h, w, 4)[..., :3]


def frontier(page) -> int:
    return page.evaluate("() => Number(document.getElementById('slider').value)")


def counters(page) -> dict:
    return {k: int(page.text_content(f"#c-{k}")) for k in ("corrections", "clicks", "auto", "updates")}


def wait_idle(page) -> None:
    page.wait_for_function("() => document.body.dataset.busy === '0' && !document.querySelector('#accept').disabled",
                           timeout=WAIT)


@pytest.fixture(scope="module")
def served():
    with lit_serve("--dataset-opt", "start=1", "--dataset-opt", "videos=1", "--dataset-opt", "frames=30",
                   "--seed", "0") as (base, app):
        yield base, app


def test_page_session_end_to_end(served, tmp_path):
    base, app = served
    video = app.state.gallery.dataset.video(GROUP)
    errors: list[str] = []
    with browser() as b:
        ctx = b.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.click(f".gallery .entry[data-group={GROUP}]")
        page.wait_for_function("() => document.getElementById('frame-label').textContent.includes('frontier')",
                               timeout=WAIT)
        sid = page.evaluate("() => decodeURIComponent(location.hash.split('=')[1])")
        state = api(base, f"/api/sessions/{sid}")
        f0 = state["frontier"]
        assert frontier(page) == f0 and state["object"] == "1"

        # 1. a positive click at the centre of the true object on the frontier
        gt = video.object_mask(f0, 1) == 1
        ys, xs = np.nonzero(gt)
        cy, cx = int(np.median(ys)), int(np.median(xs))
        box = page.locator("#stage").bounding_box()
        h, w = gt.shape
        page.mouse.click(box["x"] + (cx + 0.5) * box["width"] / w, box["y"] + (cy + 0.5) * box["height"] / h)
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Positive click')",
                               timeout=WAIT)
        assert f"({cx}, {cy})" in page.text_content("#status")   # page → image pixel mapping is exact
        pred = api(base, f"/api/sessions/{sid}/items/{f0}/prediction")
        assert pred["source"] == "corrected"

        # the canvas shows exactly the server's mask over the server's frame (away from the click marker)
        img = np.asarray(Image.open(io.BytesIO(api(base, f"/api/sessions/{sid}/items/{f0}/image"))).convert("RGB"),
                         dtype=np.int16)
        mask = rle_mask(pred["mask"])
        shown = canvas_pixels(page)
        yy, xx = np.mgrid[:h, :w]
        far = (yy - cy) ** 2 + (xx - cx) ** 2 > 8 ** 2
        inner = mask & np.roll(mask, 1, 0) & np.roll(mask, -1, 0) & np.roll(mask, 1, 1) & np.roll(mask, -1, 1)
        a = 105 / 255
        blend = img * (1 - a) + np.array(OBJ_RGB) * a
        assert (inner & far).sum() > 100
        assert np.abs(shown[inner & far] - blend[inner & far]).max() <= 3
        assert np.abs(shown[~mask & far] - img[~mask & far]).max() <= 1

        # 2. Enter accepts: one user correction with one click; the update runs in the background
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) === {f0 + 1}", timeout=WAIT)
        assert counters(page)["corrections"] == 1 and counters(page)["clicks"] == 1
        page.wait_for_selector("#update[data-state=ready]", timeout=WAIT)
        assert "1 update" in page.text_content("#update")

        # 3. propagate forward (streamed) with the button, stop with Space after a few frames
        #    (Space stops it; it must not re-activate the focused button and start again)
        start = frontier(page)
        page.click("#propagate")
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) >= {start + 3}", timeout=WAIT)
        page.keyboard.press(" ")
        wait_idle(page)
        state = api(base, f"/api/sessions/{sid}")
        assert state["object"] == "1" and not state["busy"]
        assert start + 3 <= state["frontier"] < len(video) - 1, "propagation did not stop when asked"
        assert frontier(page) == state["frontier"]
        assert page.text_content("#status") == "Stopped."

        # 4. flag the frontier: the adapter's revision is shown first, Enter accepts it
        f1 = state["frontier"]
        page.keyboard.press("f")
        page.wait_for_selector("body[data-mode=revision]", timeout=WAIT)
        assert "Adapter's revision" in page.text_content("#banner")
        assert "revision" in page.text_content("#frame-label")
        assert api(base, f"/api/sessions/{sid}/items/{f1}/prediction")["source"] == "revision"
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) === {f1 + 1}", timeout=WAIT)
        assert counters(page)["auto"] == 1

        # 5. flag again, Esc rejects, the brush paints the mask, Enter applies it, Enter accepts the frame
        f2 = f1 + 1
        page.keyboard.press("f")
        page.wait_for_selector("body[data-mode=revision]", timeout=WAIT)
        page.keyboard.press("Escape")
        page.wait_for_selector("body[data-mode=correcting]", timeout=WAIT)
        assert api(base, f"/api/sessions/{sid}/items/{f2}/prediction")["source"] == "model"
        page.keyboard.press("b")
        page.wait_for_function("() => document.getElementById('banner').textContent.startsWith('Brush')")
        assert page.locator("#stage").bounding_box() == box      # the canvas never moves under the mouse
        x0, y0, x1 = 4, h - 10, w - 5       # a horizontal stroke near the bottom edge
        page.mouse.move(box["x"] + (x0 + 0.5) * box["width"] / w, box["y"] + (y0 + 0.5) * box["height"] / h)
        page.mouse.down()
        page.mouse.move(box["x"] + (x1 + 0.5) * box["width"] / w, box["y"] + (y0 + 0.5) * box["height"] / h, steps=40)
        page.mouse.up()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Mask painted')",
                               timeout=WAIT)
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) === {f2 + 1}", timeout=WAIT)
        painted = rle_mask(api(base, f"/api/sessions/{sid}/items/{f2}/prediction")["mask"])
        assert painted[y0, x0 + 2:x1 - 2].all(), "the brush stroke is not in the kept mask"

        # 6. LIT off and on again with the switch's key
        page.keyboard.press("l")
        page.wait_for_selector("#update[data-state=off]", timeout=WAIT)
        assert api(base, f"/api/sessions/{sid}")["lit"] is False
        page.keyboard.press("l")
        page.wait_for_function("() => document.getElementById('update').dataset.state !== 'off'", timeout=WAIT)
        assert api(base, f"/api/sessions/{sid}")["lit"] is True

        # 7. the counters are the server's
        page.wait_for_selector("#update[data-state=ready]", timeout=WAIT)
        page.wait_for_timeout(1200)          # one poll of the state
        state = api(base, f"/api/sessions/{sid}")
        c = counters(page)
        assert c == {"corrections": state["counters"]["user_corrections"], "clicks": state["counters"]["clicks"],
                     "auto": state["counters"]["auto_corrections"], "updates": state["update"]["updates"]}
        assert c["corrections"] == 2 and c["clicks"] == 1 and c["auto"] == 1 and c["updates"] == 2
        minutes, seconds = page.text_content("#c-time").split(":")
        assert 0 < 60 * int(minutes) + int(seconds) <= state["counters"]["seconds"] + 2

        # 8. exports: every format holds exactly the kept masks of the done frames
        kept = {i: rle_mask(api(base, f"/api/sessions/{sid}/items/{i}/prediction")["mask"])
                for i in range(state["first"], state["frontier"])}
        files = {}
        for fmt in ("coco", "palette", "per-object"):
            with page.expect_download() as d:
                page.click(f".export button[data-format={fmt}]")
            files[fmt] = tmp_path / d.value.suggested_filename
            d.value.save_as(files[fmt])
        assert page.text_content("#status").startswith("Exported")

        coco = json.loads(files["coco"].read_text())
        names = video.frame_names
        by_frame = {im["id"]: im["frame"] for im in coco["images"]}
        got = {names.index(by_frame[a["image_id"]]): rle_mask(a["segmentation"]) for a in coco["annotations"]}
        assert set(got) == {i for i, m in kept.items() if m.any()}
        for i, m in got.items():
            assert np.array_equal(m, kept[i]), f"COCO mask of frame {i} differs"

        with zipfile.ZipFile(files["palette"]) as z:
            for i, m in kept.items():
                lab = np.asarray(Image.open(io.BytesIO(z.read(f"{GROUP}/{names[i]}.png"))))
                assert np.array_equal(lab == 1, m), f"palette PNG of frame {i} differs"
        with zipfile.ZipFile(files["per-object"]) as z:
            for i, m in kept.items():
                lab = np.asarray(Image.open(io.BytesIO(z.read(f"{GROUP}/001/{names[i]}.png"))))
                assert np.array_equal(lab == 1, m), f"per-object PNG of frame {i} differs"
        ctx.close()
    assert not errors, errors


def test_page_classification_picks_labels(tmp_path):
    """The CLIP plugin on the same page: top-5 labels, number keys pick, LIT learns, F shows its revision."""
    with lit_serve("--model", "clip", "--dataset", "synth-cls", "--dataset-opt", "per_class=4", "--seed", "0") as (
            base, app), browser() as b:
        group = app.state.gallery.groups[0]
        truth = [ref.label for ref in app.state.gallery.episodes(group)[0][0].payload.images]
        page = b.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.click(f".gallery .entry[data-group='{group}']")
        page.wait_for_selector("#cls-labels li button", timeout=WAIT)
        assert page.is_hidden("#propagate") and page.is_hidden("#c-clicks") and page.is_visible("#cls")
        sid = page.evaluate("() => decodeURIComponent(location.hash.split('=')[1])")
        wrong = 0
        for i in range(len(truth) - 1):
            page.wait_for_function(f"() => Number(document.getElementById('slider').value) === {i}"
                                   " && document.querySelector('#cls-labels li button')", timeout=WAIT)
            if i == len(truth) - 2 and wrong:
                # once corrected, the adapter's revision is offered first; Enter accepts it
                page.wait_for_selector("#update[data-state=ready]", timeout=WAIT)
                page.keyboard.press("f")
                page.wait_for_selector("body[data-mode=revision]", timeout=WAIT)
                assert api(base, f"/api/sessions/{sid}/items/{i}/prediction")["source"] == "revision"
                page.keyboard.press("Enter")
                continue
            shown = [int(x) for x in page.eval_on_selector_all("#cls-labels li button", "bs => bs.map(b => b.dataset.label)")]
            assert shown == [lab["label"] for lab in api(base, f"/api/sessions/{sid}/items/{i}/prediction")["labels"]]
            wrong += shown[0] != truth[i]
            if truth[i] in shown:
                page.keyboard.press(str(shown.index(truth[i]) + 1))
            else:
                page.select_option("#cls-other", str(truth[i]))
        page.wait_for_function(f"() => Number(document.getElementById('slider').value) === {len(truth) - 1}",
                               timeout=WAIT)
        records = api(base, f"/api/sessions/{sid}/records")["steps"]
        outcomes = [r["outcome"] for r in records]
        assert outcomes.count("user") == wrong and int(page.text_content("#c-corrections")) == wrong
        picked = [r for r in records[:-1] if r["outcome"] in ("ok", "user")]
        assert all(api(base, f"/api/sessions/{sid}/items/{r['index']}/prediction")["labels"][0]["label"]
                   == truth[r["index"]] for r in picked), "a kept label is not the one picked"
        assert wrong, "this seeded stream has a wrong top-1 to correct, so the revision step ran"
        assert outcomes[-1] == "auto" and page.text_content("#c-auto") == "1"
        assert not errors, errors


def test_page_study_mode(tmp_path):
    """A participant sees their counterbalanced assignments, cannot switch LIT, and their session becomes a run."""
    study = tmp_path / "study.toml"
    study.write_text('name = "pilot"\nout = "runs"\nvideos = ["hard_0001", "hard_0002"]\nparticipants = ["p1", "p2"]\n')
    with lit_serve("--dataset-opt", "start=1", "--dataset-opt", "videos=2", "--dataset-opt", "frames=6",
                   "--study", str(study)) as (base, app), browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 860})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.wait_for_selector("#study-load:not([hidden])", timeout=WAIT)
        assert page.is_hidden("#lit-start-label")
        page.fill("#user", "p2")
        page.click("#study-load")
        page.wait_for_selector(".gallery .entry", timeout=WAIT)
        cards = page.eval_on_selector_all(".gallery .entry", "es => es.map(e => [e.dataset.group, e.textContent])")
        expected = app.state.study.assignments("p2")
        assert [g for g, _ in cards] == [g for g, _ in expected]
        for (_, text), (_, lit) in zip(cards, expected):
            assert f"LIT {'on' if lit else 'off'}" in text
        group, lit = expected[0]
        page.click(f".gallery .entry[data-group={group}]")
        page.wait_for_function("() => document.getElementById('frame-label').textContent.includes('frontier')",
                               timeout=WAIT)
        assert page.is_checked("#lit") is lit and page.is_disabled("#lit")
        page.keyboard.press("l")      # refused by the server, said on the page
        page.wait_for_function("() => document.getElementById('status').classList.contains('error')", timeout=WAIT)
        assert "study" in page.text_content("#status")
        # accept everything the model does, object after object, to the end of the video
        for _ in range(40):
            if page.evaluate("() => document.getElementById('banner').textContent.startsWith('All objects')"):
                break
            page.keyboard.press(" ")
            wait_idle_or_done(page)
        assert page.text_content("#banner").startswith("All objects are done")
        # one colour per object: the finished object's outline is drawn with the current one's mask
        px = canvas_pixels(page)
        for k, rgb in enumerate([(31, 119, 180), (255, 127, 14)][:len(app.state.gallery.episodes(group)[0])]):
            assert (px == rgb).all(axis=-1).sum() > 5, f"object {k + 1}'s colour is not on the canvas"
        page.click("#finish")
        page.wait_for_selector("#start:not([hidden]) .gallery .entry", timeout=WAIT)
        run = tmp_path / "runs" / "p2" / ("lit" if lit else "baseline")
        steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
        assert {s["group"] for s in steps} == {group} and len({s["episode_id"] for s in steps}) == \
            len(app.state.gallery.episodes(group)[0])
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["study"]["participant"] == "p2" and manifest["study"]["lit"] is lit
        assert not errors, errors


def wait_idle_or_done(page) -> None:
    page.wait_for_function("() => document.body.dataset.busy === '0' && (!document.querySelector('#accept').disabled"
                           " || document.getElementById('banner').textContent.startsWith('All objects'))",
                           timeout=WAIT)


def test_page_with_access_token():
    """With a token the page works from `/?token=...` alone, and drops the token from the address bar."""
    with lit_serve("--dataset-opt", "videos=1", "--dataset-opt", "frames=4", "--token", "s3cret-token") as (
            base, _), browser() as b:
        page = b.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        assert page.goto(base + "/").status == 401
        page.goto(base + "/?token=s3cret-token")
        page.wait_for_selector(".gallery .entry img[src]", timeout=WAIT)
        assert "token" not in page.url
        page.click(".gallery .entry >> nth=0")
        page.wait_for_function("() => document.getElementById('frame-label').textContent.includes('frontier')",
                               timeout=WAIT)
        page.reload()                  # the tab keeps its token: the session resumes from the address
        page.wait_for_function("() => document.getElementById('frame-label').textContent.includes('frontier')",
                               timeout=WAIT)
        other = b.new_page()           # a new tab without the token: the API refuses it
        assert other.goto(base + "/api/gallery").status == 401
        assert not errors, errors

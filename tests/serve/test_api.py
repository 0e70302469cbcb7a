"""The serve API through FastAPI's test client: gallery, sessions, items, propagation, exports."""

from __future__ import annotations

import io
import json
import time
import zipfile

import numpy as np
from PIL import Image

from serve_helpers import mask_of


def open_session(client, user="ann", group="hard_0000", **kw):
    r = client.post("/api/sessions", json={"user": user, "group": group, **kw})
    assert r.status_code in (200, 201), r.text
    return r.json()


def wait_idle(client, sid, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upd = client.get(f"/api/sessions/{sid}").json()["update"]
        if not upd["running"] and not upd["queued"]:
            return upd
        time.sleep(0.05)
    raise AssertionError("update did not finish")


def test_gallery_lists_the_dataset_groups_with_objects_and_thumbnails(client):
    g = client.get("/api/gallery").json()
    assert g["group_noun"] == "video"
    assert [e["group"] for e in g["entries"]] == ["hard_0000", "hard_0001"]
    assert all(e["objects"] and e["length"] == 8 and e["kind"] == "mask" for e in g["entries"])
    png = client.get(g["entries"][0]["thumbnail"])
    assert png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] <= 160


def test_session_shows_the_frontier_after_the_prompt_frame(client):
    st = open_session(client)
    assert st["kind"] == "mask" and st["object"] == st["objects"][0]
    assert st["frontier"] == st["first"] + 1 and not st["done"]
    pred = client.get(f"/api/sessions/{st['id']}/items/{st['frontier']}/prediction").json()
    assert pred["state"] == "frontier" and pred["source"] == "model"
    assert mask_of(pred).shape == (64, 64)
    img = client.get(f"/api/sessions/{st['id']}/items/{st['frontier']}/image")
    assert Image.open(io.BytesIO(img.content)).size == (64, 64)
    done = client.get(f"/api/sessions/{st['id']}/items/{st['first']}/prediction").json()
    assert done["state"] == "done" and done["outcome"] == "unchecked"
    later = client.get(f"/api/sessions/{st['id']}/items/{st['frontier'] + 1}/prediction")
    assert later.status_code == 404 and "index" in later.json()["detail"]


def test_reopening_the_same_user_and_video_returns_the_open_session(client):
    a = open_session(client)
    assert open_session(client)["id"] == a["id"]
    assert open_session(client, user="bob")["id"] != a["id"]


def test_a_click_then_accept_counts_one_user_correction_and_trains(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    r = client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 10, "y": 12, "positive": True})
    assert r.status_code == 200 and r.json()["source"] == "corrected"
    st2 = client.post(f"/api/sessions/{sid}/items/{f}/accept").json()
    assert st2["frontier"] == f + 1
    assert st2["counters"] == {**st2["counters"], "user_corrections": 1, "clicks": 1, "auto_corrections": 0}
    upd = wait_idle(client, sid)
    assert upd["updates"] == 1 and upd["last_seconds"] > 0
    steps = client.get(f"/api/sessions/{sid}/records").json()["steps"]
    rec = [s for s in steps if s["index"] == f][0]
    assert rec["outcome"] == "user" and rec["actions"] == ["click"] and rec["update"]["steps"] >= 1
    assert [e["event"] for e in rec["events"]] == ["show", "click", "accept"]
    assert all(e["t"] > 1e9 for e in rec["events"])  # wall-clock timestamps


def test_flag_offers_the_trained_adapters_revision_and_accepting_it_is_automatic(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    assert client.post(f"/api/sessions/{sid}/items/{f}/flag").json() == {"revision": None}  # untrained
    client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 30, "y": 30})
    client.post(f"/api/sessions/{sid}/items/{f}/accept")
    wait_idle(client, sid)
    rev = client.post(f"/api/sessions/{sid}/items/{f + 1}/flag").json()["revision"]
    assert rev is not None and rev["source"] == "revision"
    st3 = client.post(f"/api/sessions/{sid}/items/{f + 1}/accept").json()
    assert st3["counters"]["auto_corrections"] == 1 and st3["counters"]["user_corrections"] == 1


def test_reject_goes_back_to_the_models_prediction(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    base = client.get(f"/api/sessions/{sid}/items/{f}/prediction").json()
    client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 3, "y": 3})
    client.post(f"/api/sessions/{sid}/items/{f}/accept")
    wait_idle(client, sid)
    client.post(f"/api/sessions/{sid}/items/{f + 1}/flag")
    back = client.post(f"/api/sessions/{sid}/items/{f + 1}/reject").json()
    assert back["source"] == "model"
    assert base["mask"]["size"] == back["mask"]["size"]


def test_full_mask_action_replaces_the_prediction(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    want = np.zeros((64, 64), bool)
    want[5:20, 8:30] = True
    from litcore.serve.codec import encode_rle

    r = client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "mask", "mask": encode_rle(want)})
    assert r.status_code == 200
    assert np.array_equal(mask_of(r.json()), want)
    # the uncompressed form (a list of column-major runs) is accepted too
    runs = [64 * 64 - 10, 10]
    r = client.post(f"/api/sessions/{sid}/items/{f}/action",
                    json={"kind": "mask", "mask": {"size": [64, 64], "counts": runs}})
    assert r.status_code == 200 and mask_of(r.json()).sum() == 10


def test_propagate_streams_items_until_asked_and_moves_the_frontier(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    events = []
    with client.stream("GET", f"/api/sessions/{sid}/propagate", params={"until": f + 3}) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    items = [d["index"] for k, d in events if k == "item"]
    assert items == [f + 1, f + 2, f + 3]
    end = events[-1]
    assert end[0] == "end" and end[1]["reason"] == "until" and end[1]["state"]["frontier"] == f + 3
    for i in range(f, f + 3):
        assert client.get(f"/api/sessions/{sid}/items/{i}/prediction").json()["state"] == "done"


def test_propagating_to_the_end_starts_the_next_object_and_then_finishes(client):
    st = open_session(client, group="hard_0001")
    sid = st["id"]
    reasons = []
    for _ in range(len(st["objects"]) + 1):
        r = client.get(f"/api/sessions/{sid}/propagate")
        if r.status_code == 409:
            break
        reasons.append(json.loads(r.text.strip().split("data: ")[-1])["reason"])
    final = client.get(f"/api/sessions/{sid}").json()
    assert final["done"] and final["frontier"] is None
    assert reasons[: len(st["objects"]) - 1] == ["object"] * (len(st["objects"]) - 1)
    eps = client.get(f"/api/sessions/{sid}/records").json()["episodes"]
    assert [e["episode_id"] for e in eps] == [f"hard_0001/{o}" for o in st["objects"]]


def test_cancel_without_a_running_propagation_says_so(client):
    sid = open_session(client)["id"]
    assert client.post(f"/api/sessions/{sid}/cancel").json() == {"cancelled": False}


def test_exports_palette_per_object_and_coco(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    client.get(f"/api/sessions/{sid}/propagate", params={"until": f + 2})
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/sessions/{sid}/export?format=palette").content))
    assert len(z.namelist()) == 8 and all(n.startswith("hard_0000/") for n in z.namelist())
    z = zipfile.ZipFile(io.BytesIO(client.get(f"/api/sessions/{sid}/export?format=per-object").content))
    assert any(f"/{int(st['object']):03d}/" in n for n in z.namelist())
    coco = client.get(f"/api/sessions/{sid}/export?format=coco").json()
    assert len(coco["images"]) == 8
    bad = client.get(f"/api/sessions/{sid}/export?format=tiff")
    assert bad.status_code == 400 and bad.json()["field"] == "format"


def test_lit_off_offers_no_revision_and_does_not_train(client):
    st = open_session(client, lit=False)
    sid, f = st["id"], st["frontier"]
    client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 3, "y": 3})
    st2 = client.post(f"/api/sessions/{sid}/items/{f}/accept").json()
    assert st2["update"]["updates"] == 0 and not st2["update"]["running"]
    assert client.post(f"/api/sessions/{sid}/items/{f + 1}/flag").json() == {"revision": None}
    assert client.post(f"/api/sessions/{sid}/lit", json={"enabled": True}).json()["lit"] is True


def test_delete_closes_the_session(client):
    sid = open_session(client)["id"]
    assert client.delete(f"/api/sessions/{sid}").json() == {"closed": sid}
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_openapi_schema_is_published(client):
    schema = client.get("/openapi.json").json()
    assert "/api/sessions/{sid}/items/{i}/action" in schema["paths"]


def test_cancel_stops_a_running_propagation_after_the_current_item(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    session = client.app.state.manager.get(sid)
    seen = []
    real_step = session.propagate_step

    def step():  # the person presses "stop" while the second frame is being computed
        seen.append(session.frontier_index())
        if len(seen) == 2:
            assert client.post(f"/api/sessions/{sid}/cancel").json() == {"cancelled": True}
        return real_step()

    session.propagate_step = step
    body = client.get(f"/api/sessions/{sid}/propagate").text
    end = json.loads(body.strip().split("data: ")[-1])
    assert end["reason"] == "cancelled" and end["state"]["frontier"] == f + 2 and not end["state"]["busy"]
    assert body.count("event: item") == 2
    r = client.post(f"/api/sessions/{sid}/items/{f + 2}/action", json={"kind": "click", "x": 1, "y": 1})
    assert r.status_code == 200   # editable again once the stream ended

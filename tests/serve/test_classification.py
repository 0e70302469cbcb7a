"""The same server and session API on image classification (CLIP): top-5 labels, the person picks one."""

from __future__ import annotations

import pytest

from serve_helpers import make_client


@pytest.fixture(scope="module")
def cls_client(registry):
    pytest.importorskip("open_clip")
    model = registry.create("model", "clip", checkpoint=None, model_cfg="micro", seed=0, device="cpu")
    dataset = registry.create("dataset", "synth-cls")
    with make_client(registry, model, dataset, oracle="cls-label") as c:
        yield c


def test_classification_items_show_the_top5_labels_and_learn_from_a_picked_label(cls_client):
    c = cls_client
    g = c.get("/api/gallery").json()
    assert g["group_noun"] == "stream" and g["entries"][0]["kind"] == "labels"
    st = c.post("/api/sessions", json={"user": "ann", "group": g["entries"][0]["group"]}).json()
    sid, f = st["id"], st["frontier"]
    assert st["kind"] == "labels" and st["image"] is None and len(st["labels"]) > 5 and f == 0
    pred = c.get(f"/api/sessions/{sid}/items/{f}/prediction").json()
    labels = pred["labels"]
    assert len(labels) == 5 and len({x["label"] for x in labels}) == 5
    probs = [x["prob"] for x in labels]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
    assert all(x["name"] == st["labels"][x["label"]] for x in labels)
    assert c.get(f"/api/sessions/{sid}/items/{f}/image").headers["content-type"] == "image/png"
    pick = labels[-1]["label"]
    r = c.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "label", "label": pick}).json()
    assert r["source"] == "corrected" and r["labels"][0]["label"] == pick
    st2 = c.post(f"/api/sessions/{sid}/items/{f}/accept").json()
    assert st2["counters"]["user_corrections"] == 1 and st2["frontier"] == 1
    c.app.state.manager.get(sid).active.worker.wait(120)
    assert c.get(f"/api/sessions/{sid}").json()["update"]["updates"] == 1
    rev = c.post(f"/api/sessions/{sid}/items/1/flag").json()["revision"]
    assert rev is not None and rev["source"] == "revision" and len(rev["labels"]) == 5
    by_name = c.post(f"/api/sessions/{sid}/items/1/action", json={"kind": "label", "label_name": st["labels"][2]})
    assert by_name.json()["labels"][0]["label"] == 2


@pytest.mark.parametrize("body, field", [
    ({"kind": "label", "label": 10_000}, "label"),
    ({"kind": "label", "label": -1}, "label"),
    ({"kind": "label", "label_name": "not a bird"}, "label_name"),
    ({"kind": "label"}, "label"),
    ({"kind": "click", "x": 1, "y": 1}, "kind"),
])
def test_bad_labels_are_400_naming_the_field(cls_client, body, field):
    c = cls_client
    group = c.get("/api/gallery").json()["entries"][1]["group"]
    st = c.post("/api/sessions", json={"user": "bob", "group": group}).json()
    r = c.post(f"/api/sessions/{st['id']}/items/{st['frontier']}/action", json=body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert c.get(f"/api/sessions/{st['id']}/export").status_code == 409

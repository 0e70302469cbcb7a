"""Bad requests are 4xx naming the field, never a 500 and never a broken session; access and limits."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from serve_helpers import GatedPolicy


def open_session(client, user="ann", group="hard_0000", **kw):
    r = client.post("/api/sessions", json={"user": user, "group": group, **kw})
    assert r.status_code in (200, 201), r.text
    return r.json()


@pytest.mark.parametrize("body, field", [
    ({"kind": "click", "x": 64, "y": 3}, "x"),
    ({"kind": "click", "x": -1, "y": 3}, "x"),
    ({"kind": "click", "x": 3, "y": 999}, "y"),
    ({"kind": "click", "y": 3}, "x"),
    ({"kind": "mask", "mask": {"size": [64, 64], "counts": "!!!"}}, "mask.counts"),
    ({"kind": "mask", "mask": {"size": [64, 64], "counts": "0"}}, "mask.counts"),   # covers 0 pixels
    ({"kind": "mask", "mask": {"size": [64, 64], "counts": [10, -5]}}, "mask.counts"),
    ({"kind": "mask", "mask": {"size": [32, 32], "counts": [1024]}}, "mask.size"),
    ({"kind": "mask"}, "mask"),
    ({"kind": "label", "label": 1}, "kind"),
])
def test_bad_actions_are_400_naming_the_field_and_the_session_still_works(client, body, field):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    r = client.post(f"/api/sessions/{sid}/items/{f}/action", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field and r.json()["detail"].startswith(field)
    ok = client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 1, "y": 1})
    assert ok.status_code == 200
    assert client.post(f"/api/sessions/{sid}/items/{f}/accept").json()["counters"]["user_corrections"] == 1


def test_schema_errors_are_422(client):
    sid = open_session(client)["id"]
    assert client.post(f"/api/sessions/{sid}/items/1/action", json={"kind": "paint"}).status_code == 422
    assert client.post(f"/api/sessions/{sid}/items/x/action", json={"kind": "click"}).status_code == 422
    assert client.post("/api/sessions", json={"user": "../etc", "group": "hard_0000"}).status_code == 422


def test_unknown_session_group_object_and_index(client):
    assert client.get("/api/sessions/nope").status_code == 404
    r = client.post("/api/sessions", json={"user": "a", "group": "../../etc/passwd"})
    assert r.status_code == 404 and r.json()["field"] == "group"
    r = client.post("/api/sessions", json={"user": "a", "group": "hard_0000", "object": "9"})
    assert r.status_code == 404 and r.json()["field"] == "object"
    sid = open_session(client)["id"]
    for i in (8, 1000, -1):
        r = client.get(f"/api/sessions/{sid}/items/{i}/image")
        assert r.status_code == 404 and r.json()["field"] == "index"


def test_editing_a_done_item_is_a_conflict(client):
    st = open_session(client)
    sid, f = st["id"], st["frontier"]
    client.post(f"/api/sessions/{sid}/items/{f}/accept")
    r = client.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 1, "y": 1})
    assert r.status_code == 409 and "frontier is" in r.json()["detail"]
    r = client.post(f"/api/sessions/{sid}/items/{f + 3}/flag")
    assert r.status_code == 404


def test_token_is_required_on_every_request_when_set(client_factory):
    c = client_factory(token="s3cret")
    assert c.get("/api/gallery").status_code == 401
    assert c.get("/openapi.json").status_code == 401
    assert c.get("/api/gallery", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/gallery", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/api/gallery", headers={"X-Lit-Token": "s3cret"}).status_code == 200
    r = c.get("/?token=s3cret")
    assert r.status_code == 200 and c.cookies.get("lit_token") == "s3cret"
    assert c.get("/api/gallery").status_code == 200   # the cookie now carries it


def test_non_local_host_gets_a_generated_token(monkeypatch, capsys):
    import litcore.serve.cli as serve_cli

    seen = {}
    monkeypatch.setattr(serve_cli, "build_app", lambda args, token=None: seen.setdefault("token", token))
    import sys
    import types

    fake = types.SimpleNamespace(run=lambda app, **kw: seen.setdefault("run", kw))
    monkeypatch.setitem(sys.modules, "uvicorn", fake)
    import argparse

    p = argparse.ArgumentParser()
    serve_cli.add_serve_command(p.add_subparsers())
    assert serve_cli.cmd_serve(p.parse_args(["serve", "--host", "0.0.0.0"])) == 0
    out = capsys.readouterr().out
    assert seen["token"] and seen["token"] in out and seen["run"]["host"] == "0.0.0.0"
    seen.clear()
    serve_cli.cmd_serve(p.parse_args(["serve"]))
    assert seen["token"] is None and seen["run"]["host"] == "127.0.0.1"


def test_sessions_are_bounded_and_idle_ones_expire(client_factory):
    c = client_factory(max_sessions=2, idle_seconds=1000)
    a = open_session(c, user="a")["id"]
    open_session(c, user="b")
    r = c.post("/api/sessions", json={"user": "c", "group": "hard_0000"})
    assert r.status_code == 429 and r.json()["field"] == "sessions"
    manager = c.app.state.manager
    assert manager.expire(now=manager.get(a).last_used + 2000) and not manager.sessions
    assert c.get(f"/api/sessions/{a}").status_code == 404
    assert c.post("/api/sessions", json={"user": "c", "group": "hard_0000"}).status_code == 201


def test_sessions_are_isolated_one_users_corrections_never_reach_another(client):
    a, b = open_session(client, user="a"), open_session(client, user="b")
    manager = client.app.state.manager
    sa, sb = manager.get(a["id"]), manager.get(b["id"])
    before_b = {k: v.clone() for k, v in sb.adapter.state_dict().items()}
    before_a = {k: v.clone() for k, v in sa.adapter.state_dict().items()}
    assert sa.adapter.module is not sb.adapter.module
    f = a["frontier"]
    client.post(f"/api/sessions/{a['id']}/items/{f}/action", json={"kind": "click", "x": 30, "y": 30})
    client.post(f"/api/sessions/{a['id']}/items/{f}/accept")
    sa.active.worker.wait(120)
    assert any(not torch.equal(before_a[k], v) for k, v in sa.adapter.state_dict().items())
    assert all(torch.equal(before_b[k], v) for k, v in sb.adapter.state_dict().items())
    assert client.get(f"/api/sessions/{b['id']}").json()["update"]["updates"] == 0
    assert client.post(f"/api/sessions/{b['id']}/items/{b['frontier']}/flag").json() == {"revision": None}


def test_training_in_one_session_does_not_delay_a_click_in_another(registry, client_factory):
    gate, started = threading.Event(), threading.Event()
    c = client_factory(policy=lambda: GatedPolicy(registry.create("policy", "every", max_steps=2), gate, started))
    a, b = open_session(c, user="a"), open_session(c, user="b")
    try:
        f = a["frontier"]
        c.post(f"/api/sessions/{a['id']}/items/{f}/action", json={"kind": "click", "x": 30, "y": 30})
        assert c.post(f"/api/sessions/{a['id']}/items/{f}/accept").status_code == 200  # returns before training
        assert started.wait(60)
        r = c.post(f"/api/sessions/{b['id']}/items/{b['frontier']}/action", json={"kind": "click", "x": 5, "y": 5})
        assert r.status_code == 200
        # the click in b was answered while a's update is still held running
        assert c.get(f"/api/sessions/{a['id']}").json()["update"]["running"] is True
        # and a itself stays responsive: its next item can be viewed and revised (no trained adapter yet)
        assert c.post(f"/api/sessions/{a['id']}/items/{f + 1}/flag").json() == {"revision": None}
    finally:
        gate.set()
    c.app.state.manager.get(a["id"]).active.worker.wait(120)
    upd = c.get(f"/api/sessions/{a['id']}").json()["update"]
    assert upd["updates"] == 1 and not upd["running"]


def test_idle_sessions_expire_without_any_request(client_factory):
    c = client_factory(idle_seconds=0.2)
    sid = open_session(c)["id"]
    manager = c.app.state.manager
    deadline = time.monotonic() + 60
    while sid in manager.sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sid not in manager.sessions


def test_groups_reaching_a_symlink_out_of_the_root_are_refused(tmp_path, registry, tiny_sam2):
    from litcore.vos.davis import write_davis
    from litcore.vos.testing import moving_boxes

    root, outside = tmp_path / "root", tmp_path / "outside"
    write_davis(moving_boxes("inside", 4, 32, 32, 0), root)
    write_davis(moving_boxes("leak", 4, 32, 32, 1), outside)
    (root / "JPEGImages" / "leak").symlink_to(outside / "JPEGImages" / "leak")
    (root / "Annotations" / "leak").symlink_to(outside / "Annotations" / "leak")
    dataset = registry.create("dataset", "davis", root=str(root))
    assert "leak" in dataset.groups()          # the loader alone would follow the link
    from litcore.serve.gallery import Gallery

    gallery = Gallery(dataset, tiny_sam2, root=root)
    assert gallery.groups == ["inside"] and gallery.refused == ["leak"]
    from litcore.serve.app import create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(gallery)) as c:
        assert [e["group"] for e in c.get("/api/gallery").json()["entries"]] == ["inside"]
        r = c.post("/api/sessions", json={"user": "a", "group": "leak"})
        assert r.status_code == 404 and r.json()["field"] == "group"
        assert c.get("/api/gallery/leak/thumbnail").status_code == 404
        assert c.get("/static/../../../etc/passwd").status_code == 404


def test_sync_updates_finish_before_accept_returns(client_factory):
    c = client_factory(background=False)
    st = open_session(c)
    sid, f = st["id"], st["frontier"]
    c.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 3, "y": 3})
    upd = c.post(f"/api/sessions/{sid}/items/{f}/accept").json()["update"]
    assert upd["updates"] == 1 and not upd["running"]


def _serve_args(*argv):
    from litcore.cli import build_parser

    return build_parser().parse_args(["serve", *argv])


def test_serve_method_names_the_adapter_and_policy_like_lit_run():
    from fastapi.testclient import TestClient

    from litcore.calibrated import CalibratedPolicy
    from litcore.serve.cli import build_app

    app = build_app(_serve_args("--method", "lit-auto", "--policy-opt", "search_steps=2"))
    with TestClient(app) as client:
        sid = open_session(client)["id"]
        policy = client.app.state.manager.get(sid).policy
    assert isinstance(policy, CalibratedPolicy) and policy.config.search_steps == 2


@pytest.mark.parametrize("method, message", [
    ("replace-decoder", "--method replace-decoder: its mode 'replace'"),
    ("lit-autoo", "lit-auto"),  # unknown: the error lists the registered methods
])
def test_serve_refuses_a_method_it_cannot_run_in_one_line(method, message):
    from litcore.errors import LitcoreError
    from litcore.serve.cli import build_app

    with pytest.raises((LitcoreError, LookupError)) as info:  # what `lit` prints as one line
        build_app(_serve_args("--method", method))
    assert message in str(info.value) and "\n" not in str(info.value)

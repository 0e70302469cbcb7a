"""Study mode: counterbalanced LIT on/off per participant, human sessions written as `lit run` directories."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from litcore.serve.study import Study, StudyError
from serve_helpers import make_client

VIDEOS = ["hard_0000", "hard_0001"]


def write_study(tmp_path, **extra):
    keys = {"name": "pilot", "out": "runs", "videos": VIDEOS, "participants": ["p1", "p2", "p3", "p4"], **extra}
    lines = [f"{k} = {json.dumps(v)}" for k, v in keys.items()]
    path = tmp_path / "study.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture()
def study_client(registry, tiny_sam2, synth_small, tmp_path):
    path = write_study(tmp_path)
    with make_client(registry, tiny_sam2, synth_small, study=lambda g: Study.load(path, g)) as c:
        yield c, tmp_path / "runs"


def test_assignment_is_counterbalanced(study_client):
    c, _ = study_client
    plans = {p: c.get(f"/api/study/{p}").json()["assignments"] for p in ("p1", "p2", "p3", "p4")}
    per_video = Counter((a["group"], a["lit"]) for rows in plans.values() for a in rows)
    assert all(per_video[(v, on)] == 2 for v in VIDEOS for on in (True, False))   # each video both ways, equally
    per_position = Counter((i, a["lit"]) for rows in plans.values() for i, a in enumerate(rows))
    assert all(per_position[(i, on)] == 2 for i in range(2) for on in (True, False))
    assert [a["group"] for a in plans["p1"]] != [a["group"] for a in plans["p3"]]   # orders rotate
    assert c.get("/api/study/stranger").status_code == 404


def test_study_sessions_take_the_assigned_condition_and_write_run_directories(study_client):
    from litcore.compare import compare_runs

    c, out = study_client
    for user in ("p1", "p2"):   # p2 sees each video in the other condition (counterbalanced)
        plan = c.get(f"/api/study/{user}").json()["assignments"]
        for row in plan:
            st = c.post("/api/sessions", json={"user": user, "group": row["group"], "lit": not row["lit"]}).json()
            assert st["lit"] == row["lit"]   # the study decides, not the request
            assert c.post(f"/api/sessions/{st['id']}/lit", json={"enabled": True}).status_code == 409
            f = st["frontier"]
            c.post(f"/api/sessions/{st['id']}/items/{f}/action", json={"kind": "click", "x": 3, "y": 3})
            c.post(f"/api/sessions/{st['id']}/items/{f}/accept")
            while c.get(f"/api/sessions/{st['id']}/propagate").status_code == 200:
                pass
        assert all(r["done"] for r in c.get(f"/api/study/{user}").json()["assignments"])
    for cond in ("lit", "baseline"):
        d = out / "p1" / cond
        assert {"manifest.json", "steps.jsonl", "episodes.csv", "summary.json"} <= {p.name for p in d.iterdir()}
        manifest = json.loads((d / "manifest.json").read_text())
        assert manifest["study"]["participant"] == "p1" and manifest["study"]["lit"] == (cond == "lit")
        steps = [json.loads(line) for line in (d / "steps.jsonl").read_text().splitlines()]
        assert any(s["outcome"] == "user" and s["events"][1]["event"] == "click" for s in steps)
        summary = json.loads((d / "summary.json").read_text())
        assert summary["totals"]["user_corrections"] >= 1
        assert manifest["status"] == "complete"   # every video of the condition was annotated
    # the same video annotated with and without LIT, by two participants: `lit compare` reads them unchanged
    p1 = {a["group"]: a["lit"] for a in c.get("/api/study/p1").json()["assignments"]}
    video = VIDEOS[0]
    lit_run = out / ("p1" if p1[video] else "p2") / "lit"
    base_run = out / ("p2" if p1[video] else "p1") / "baseline"
    table = compare_runs([base_run, lit_run])
    assert video in table.groups
    r = c.post("/api/sessions", json={"user": "p2", "group": "hard_0000_nope"})
    assert r.status_code in (404, 409)


def test_bad_study_files_name_the_key(tmp_path, synth_small, tiny_sam2):
    from litcore.serve.gallery import Gallery

    g = Gallery(synth_small, tiny_sam2)
    with pytest.raises(StudyError, match="videos"):
        Study.load(write_study(tmp_path, videos=["nope"]), g)
    with pytest.raises(StudyError, match="order"):
        Study.load(write_study(tmp_path, order="random"), g)
    (tmp_path / "bad.toml").write_text("videos = [")
    with pytest.raises(StudyError, match="bad.toml"):
        Study.load(tmp_path / "bad.toml", g)

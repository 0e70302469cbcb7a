"""Parity: a robot playing the simulated user through the HTTP API gets exactly `lit run`'s counts.

Two generated hard videos, the shipped tiny SAM2, LIT-LoRA, the same seed.
The robot sees only what a browser sees (predictions as RLE, revisions on
flag) plus the dataset's ground truth, and decides with the same click
oracle; the server trains on the ground truth (`train_on="truth"`, as the
simulated user does) in the background, and the robot waits for each update
to finish before it flags the next frame, as a patient person would.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from serve_helpers import make_client, mask_of
from litcore.experiment import Experiment, ExperimentSpec
from litcore.serve.codec import encode_rle
from litcore.types import Click
from litcore_vos_sam2.build import default_checkpoint_path

pytestmark = pytest.mark.skipif(not default_checkpoint_path().is_file(), reason="embedded checkpoint not built")

DATA = {"split": "hard", "videos": 2, "frames": 16}
SEED = 0


def lit_run_counts():
    exp = Experiment(ExperimentSpec(model="sam2", dataset="synth", method="lit-lora", dataset_options=DATA, seed=SEED))
    eps = [r for r in exp.records() if r.kind == "episode"]
    return {e.episode_id: {k: e.metrics[k] for k in ("user_corrections", "clicks", "auto_corrections")} for e in eps}


def wait_idle(client, sid):
    while True:
        upd = client.get(f"/api/sessions/{sid}").json()["update"]
        if not upd["running"] and not upd["queued"]:
            return
        time.sleep(0.02)


def robot(client, dataset, oracle, group):
    st = client.post("/api/sessions", json={"user": "robot", "group": group}).json()
    sid = st["id"]
    videos = {e.episode_id: e.payload for e in dataset.episodes(groups=[group])}
    while not st["done"]:
        vo = videos[f"{group}/{st['object']}"]
        f = st["frontier"]
        target = vo.video.object_mask(f, vo.obj_id)
        url = f"/api/sessions/{sid}/items/{f}"
        pred = mask_of(client.get(f"{url}/prediction").json())
        if target is not None and not oracle.review(pred, target).accepted:
            wait_idle(client, sid)
            rev = client.post(f"{url}/flag").json()["revision"]
            if rev is None or not oracle.review(mask_of(rev), target).accepted:
                if rev is not None:
                    client.post(f"{url}/reject")
                taken = []
                while (action := oracle.next_action(pred, target, taken)) is not None:
                    taken.append(action)
                    if isinstance(action, Click):
                        body = {"kind": "click", "x": int(action.x), "y": int(action.y), "positive": bool(action.positive)}
                    else:
                        body = {"kind": "mask", "mask": encode_rle(np.asarray(action.mask) == 1)}
                    pred = mask_of(client.post(f"{url}/action", json=body).json())
                    if oracle.review(pred, target).accepted or action.final:
                        break
        st = client.post(f"{url}/accept").json()
    wait_idle(client, sid)
    eps = client.get(f"/api/sessions/{sid}/records").json()["episodes"]
    return {e["episode_id"]: {k: e["metrics"][k] for k in ("user_corrections", "clicks", "auto_corrections")}
            for e in eps}


def test_robot_through_http_matches_lit_run(registry):
    expected = lit_run_counts()
    model = registry.create("model", "sam2", device="cpu")
    dataset = registry.create("dataset", "synth", **DATA)
    oracle = registry.create("oracle", "vos-clicks")
    with make_client(registry, model, dataset, policy=lambda: registry.create("policy", "every", **model.default_policy_options("every")),
                     train_on="truth", seed=SEED) as client:
        got = {}
        for group in dataset.groups():
            got.update(robot(client, dataset, oracle, group))
    assert got == expected
    assert sum(v["auto_corrections"] for v in got.values()) > 0   # the adapter's revisions were exercised

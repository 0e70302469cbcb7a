"""Latencies of `lit serve` as a person feels them, on the embedded tiny SAM2 and generated hard videos.

    python benchmarks/bench_serve.py [--clicks 30] [--json out.json]

Through the real ASGI app (FastAPI's in-process test client: the same
handlers, no socket), measures:
- click-to-mask round trip (POST .../action, the refined mask back as RLE),
  p50/p95, with no update running;
- the same while another session's adapter update runs in the background
  (only clicks that start and end while it is running are kept);
- propagation: frames per second of the SSE stream over a whole object;
- flag-to-revision: POST .../flag on a trained adapter, p50/p95.
Side by side, the same operations without HTTP (the task session called
directly: plain propagation, a click on the predictor), so the server's own
overhead is a ratio that does not depend on how loaded the machine is.
Targets (issue 12): click p95 <= 150 ms, >= 15 frames/s, revision <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import threading
import time

import numpy as np
import torch


def _app(max_steps: int):
    from fastapi.testclient import TestClient

    from litcore.plugins import build_registry
    from litcore.serve.app import create_app
    from litcore.serve.gallery import Gallery
    from litcore.serve.sessions import ServeOptions

    reg = build_registry()
    model = reg.create("model", "sam2", device="cpu")
    dataset = reg.create("dataset", "synth", split="hard", videos=5)
    opts = ServeOptions(adapter=lambda: reg.create("adapter", "lora"),
                        policy=lambda: reg.create("policy", "every", max_steps=max_steps, patience=max_steps),
                        max_sessions=16)
    return TestClient(create_app(Gallery(dataset, model, reg.create("oracle", "vos-clicks")), opts))


def _pct(xs: list[float]) -> dict[str, float]:
    a = np.asarray(xs) * 1000
    return {"n": len(xs), "p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1)}


def _open(c, user, group, lit=True):
    return c.post("/api/sessions", json={"user": user, "group": group, "lit": lit}).json()


def click_latencies(c, sid, n, busy=None) -> list[float]:
    """Click on successive frontier frames (a click, then accept), timing only the clicks."""
    out = []
    rng = np.random.default_rng(0)
    while len(out) < n:
        st = c.get(f"/api/sessions/{sid}").json()
        if st["done"]:
            break
        f, w, h = st["frontier"], st["image"]["width"], st["image"]["height"]
        body = {"kind": "click", "x": int(rng.integers(w)), "y": int(rng.integers(h)), "positive": True}
        before = busy() if busy else True
        t = time.perf_counter()
        r = c.post(f"/api/sessions/{sid}/items/{f}/action", json=body)
        dt = time.perf_counter() - t
        assert r.status_code == 200, r.text
        if before and (busy() if busy else True):
            out.append(dt)
        c.post(f"/api/sessions/{sid}/items/{f}/accept")
    return out


def keep_training(c, sid, stop: threading.Event) -> None:
    """Session `sid` corrects a frame whenever its last update has finished, so one is always running."""
    while not stop.is_set():
        st = c.get(f"/api/sessions/{sid}").json()
        if st["done"]:
            return
        if st["update"]["running"] or st["update"]["queued"]:
            time.sleep(0.01)
            continue
        f = st["frontier"]
        c.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 10, "y": 10})
        c.post(f"/api/sessions/{sid}/items/{f}/accept")


def propagation_fps(c, sid) -> float:
    t = time.perf_counter()
    with c.stream("GET", f"/api/sessions/{sid}/propagate") as resp:
        n = sum(1 for line in resp.iter_lines() if line == "event: item")
    return n / (time.perf_counter() - t)


def flag_latencies(c, sid, n) -> list[float]:
    st = c.get(f"/api/sessions/{sid}").json()
    f = st["frontier"]
    c.post(f"/api/sessions/{sid}/items/{f}/action", json={"kind": "click", "x": 20, "y": 20})
    c.post(f"/api/sessions/{sid}/items/{f}/accept")
    out = []
    while len(out) < n:
        while c.get(f"/api/sessions/{sid}").json()["update"]["running"]:
            time.sleep(0.01)
        st = c.get(f"/api/sessions/{sid}").json()
        if st["done"]:
            break
        f = st["frontier"]
        t = time.perf_counter()
        r = c.post(f"/api/sessions/{sid}/items/{f}/flag").json()
        dt = time.perf_counter() - t
        if r["revision"] is not None:
            out.append(dt)
        c.post(f"/api/sessions/{sid}/items/{f}/accept")
    return out


def direct(c, n: int) -> dict:
    """The same work without HTTP: propagation frames/s and click latency on the task session itself."""
    from litcore.types import Click

    gallery = c.app.state.gallery
    eps, view = gallery.episodes("hard_0004")
    session = gallery.model.session(eps[0])
    t = time.perf_counter()
    items = 0
    rng = np.random.default_rng(0)
    clicks = []
    for item in session.items():
        items += 1
        if len(clicks) < n and item.index > eps[0].payload.start:
            t0 = time.perf_counter()
            session.apply(item, Click(x=int(rng.integers(view.width)), y=int(rng.integers(view.height))))
            clicks.append(time.perf_counter() - t0)
    fps = items / (time.perf_counter() - t - sum(clicks))
    session.close()
    return {"propagation_fps": round(fps, 1), "click": _pct(clicks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=30)
    ap.add_argument("--max-steps", type=int, default=40, help="steps of each background update")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res: dict = {"machine": platform.platform(), "cpus": torch.get_num_threads()}
    with _app(args.max_steps) as c:
        idle = _open(c, "idle", "hard_0000", lit=False)
        _open(c, "warm", "hard_0003", lit=False)
        res["click_idle"] = _pct(click_latencies(c, idle["id"], args.clicks))
        trainer, clicker = _open(c, "trainer", "hard_0001"), _open(c, "clicker", "hard_0002", lit=False)
        stop = threading.Event()
        th = threading.Thread(target=keep_training, args=(c, trainer["id"], stop), daemon=True)
        th.start()
        running = lambda: c.get(f"/api/sessions/{trainer['id']}").json()["update"]["running"]  # noqa: E731
        res["click_during_update"] = _pct(click_latencies(c, clicker["id"], args.clicks, busy=running))
        stop.set()
        th.join()
        prop = _open(c, "prop", "hard_0003", lit=False)
        res["propagation_fps"] = round(propagation_fps(c, prop["id"]), 1)
        flagger = _open(c, "flagger", "hard_0000")
        res["flag_to_revision"] = _pct(flag_latencies(c, flagger["id"], max(5, args.clicks // 3)))
        res["direct"] = direct(c, args.clicks)
        res["ratios"] = {"click_p50_serve_over_direct": round(res["click_idle"]["p50_ms"] / res["direct"]["click"]["p50_ms"], 2),
                         "propagation_serve_over_direct": round(res["propagation_fps"] / res["direct"]["propagation_fps"], 2)}
    print(json.dumps(res, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()

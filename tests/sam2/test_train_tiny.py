"""Smoke test of the tiny SAM 2 training recipe: a few steps at 64 px, exact resume, export, evaluation."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

TRAINING = Path(__file__).resolve().parents[2] / "plugins" / "vos_sam2" / "training"
sys.path.insert(0, str(TRAINING))

import evaluate_tiny  # noqa: E402
import train_tiny  # noqa: E402

from litcore.vos.synth import make_video  # noqa: E402
from litcore_vos_sam2.build import build_predictor, default_config_path  # noqa: E402

SMALL = ["--override", "model.image_size=64", "--batch", "2", "--clip-len", "3", "--image-batch", "2",
         "--p-image", "0.5", "--warmup", "2", "--log-every", "1", "--save-every", "2"]


def _run(out: Path, steps: int, *extra: str):
    threads = torch.get_num_threads()
    try:
        return train_tiny.main(["--out", str(out), "--steps", str(steps), *SMALL, *extra])
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    return out, _run(out, 4, "--export", str(out / "export.pt"))


def test_trains_logs_and_exports(straight):
    out, run = straight
    recs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in recs] == [1, 2, 3, 4]
    assert all(r["loss_total"] == r["loss_total"] and r["loss_total"] > 0 for r in recs)  # finite, positive
    assert {r["kind"] for r in recs} <= {"image", "clip"}
    payload = torch.load(out / "export.pt", weights_only=True)
    assert payload["litcore"]["step"] == 4 and payload["litcore"]["schedule_finished"]
    model = build_predictor(default_config_path(), out / "export.pt", overrides=["model.image_size=64"])
    ref = run.model.state_dict()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, ref[k], rtol=1e-3, atol=1e-4)


def test_resume_is_exact(straight, tmp_path):
    _, full = straight
    _run(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.glob("ckpt_*.pt")) == ["ckpt_0000002.pt"]
    with open(tmp_path / "log.jsonl", "a") as log:  # a step logged after the last checkpoint
        log.write('{"step": 3, "loss_total": 1.0}\n')
    resumed = _run(tmp_path, 4)
    assert resumed.step == 4
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    ref = full.model.state_dict()
    for k, v in resumed.model.state_dict().items():
        assert torch.equal(v, ref[k]), k


def test_time_budget_stops_and_saves(tmp_path):
    run = _run(tmp_path, 1000, "--max-minutes", "0.01")
    assert run.step < 1000 and list(tmp_path.glob("ckpt_*.pt"))


def test_evaluate_reports_mean_j(straight):
    _, run = straight
    model = run.model.eval()
    try:
        result = evaluate_tiny.evaluate(model, [make_video("easy", 0, height=64, width=64, num_frames=5)],
                                        log=lambda *_: None)
    finally:
        model.train()
    assert 0.0 <= result["mean_j"] <= 1.0 and list(result["per_video"]) == ["easy_0000"]


def test_prerendered_training_is_the_on_demand_run(tmp_path):
    """`--prerender` (for keeping a GPU fed) renders the same videos in workers: identical training."""
    plain = _run(tmp_path / "plain", 3)
    pre = _run(tmp_path / "pre", 3, "--prerender", "4", "--workers", "2")
    assert len(pre.source._pinned) == 4
    v = make_video("train", 2, height=64, width=64)
    assert (pre.source._pinned[2].image(0) == v.image(0)).all()
    for (k, a), (_, b) in zip(plain.model.state_dict().items(), pre.model.state_dict().items()):
        assert torch.equal(a, b), k
    logs = [[json.loads(line)["loss_total"] for line in (d / "log.jsonl").read_text().splitlines()]
            for d in (tmp_path / "plain", tmp_path / "pre")]
    assert logs[0] == logs[1]

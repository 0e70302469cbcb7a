"""`lit run` / `lit compare` for classification, through the core's one loop function."""

from __future__ import annotations

import io
import json
import re
import tokenize
from pathlib import Path

import torch
from clip_fixtures import write_cub

import litcore.loop
from litcore.adapters import LoraAdapter
from litcore.cli import main
from litcore.loop import LiveTrainer
from litcore.policy import UpdatePolicy
from litcore_cls_clip.oracle import ClassLabelOracle

MICRO = ["--model", "clip", "--model-opt", "checkpoint=null", "--model-opt", "model_cfg=micro", "--quiet"]


def steps(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]


def test_run_baseline_and_lit_on_cub_fixture_then_compare(tmp_path, capsys, monkeypatch):
    write_cub(tmp_path / "data", test=4)
    calls = []
    original = LiveTrainer.run_episode

    def spy(self, episode):
        calls.append(episode.episode_id)
        return original(self, episode)

    monkeypatch.setattr(LiveTrainer, "run_episode", spy)
    common = ["run", *MICRO, "--dataset", "cub", "--root", str(tmp_path / "data"), "--policy-opt", "max_steps=3"]
    assert main(common + ["--method", "baseline", "--out", str(tmp_path / "base")]) == 0
    assert main(common + ["--method", "lit-lora", "--out", str(tmp_path / "lit")]) == 0
    groups = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]
    assert calls == groups + groups  # every class stream went through the core's loop function
    base, lit = steps(tmp_path / "base"), steps(tmp_path / "lit")
    assert len(base) == len(lit) == 12 and all(s["checked"] for s in base)
    assert [s["score"] for s in base] == [s["score"] for s in lit]  # same base predictions either way
    for run, rows in (("base", base), ("lit", lit)):
        summary = json.loads((tmp_path / run / "summary.json").read_text())
        for g in groups:
            users = sum(s["outcome"] == "user" for s in rows if s["group"] == g)
            assert summary["groups"][g]["user_corrections"] == users
        assert all(s["correction"] == "label" for s in rows if s["outcome"] == "user")
        assert all(s["outcome"] in ("ok", "user", "auto") for s in rows)
    assert all(s["update"] is None for s in base)
    assert all((s["update"] is not None) == (s["outcome"] == "user") for s in lit)
    manifest = json.loads((tmp_path / "lit" / "manifest.json").read_text())
    assert manifest["components"]["adapter"]["parameters"] == 3584
    assert manifest["components"]["oracle"] == "cls-label"
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "lit")]) == 0
    out = capsys.readouterr().out
    assert "003.Sooty_Albatross" in out and "reduction vs first" in out


def test_run_on_the_embedded_synthetic_data_with_stream_all(tmp_path, capsys):
    args = ["run", *MICRO, "--dataset", "synth-cls", "--dataset-opt", "per_class=1", "--dataset-opt", "stream=all",
            "--method", "lit-lora", "--policy-opt", "max_steps=2", "--out", str(tmp_path / "r")]
    assert main(args) == 0
    rows = steps(tmp_path / "r")
    assert len(rows) == 27 and {s["group"] for s in rows} == {"all"}
    assert sorted(s["name"] for s in rows) == sorted(f"test/{c:02d}_0000" for c in range(27))
    assert "27 episodes" not in capsys.readouterr().out


def test_missing_image_fails_with_its_name(tmp_path, capsys):
    base = write_cub(tmp_path / "data")
    victim = next((base / "images").rglob("*_0002_*.jpg"))
    victim.unlink()
    code = main(["run", *MICRO, "--dataset", "cub", "--root", str(tmp_path / "data"), "--method", "baseline",
                 "--out", str(tmp_path / "r")])
    assert code == 2 and victim.name in capsys.readouterr().err


def test_adapter_is_reset_between_class_streams(micro, tmp_path):
    from litcore_cls_clip.datasets import synth_birds

    adapter = LoraAdapter()
    trainer = LiveTrainer(micro, ClassLabelOracle(), adapter, UpdatePolicy(max_steps=3))
    seen = []
    original = micro.session

    def session(episode):  # called by run_episode right after the reset
        seen.append({k: v.clone() for k, v in adapter.state_dict().items()})
        return original(episode)

    micro.session = session
    try:
        groups = ["001.red_capped_white_winged_forktail", "002.red_capped_white_winged_roundtail"]
        records = list(trainer.run(synth_birds(per_class=4).episodes(groups=groups)))
    finally:
        del micro.session
    first = [r for r in records if r.kind == "step" and r.episode_id.startswith("001")]
    assert any(r.update for r in first)  # the adapter trained during the first stream ...
    assert len(seen) == 2
    for state in seen:  # ... and was back at its initial weights when each stream started
        assert all(torch.equal(state[k], adapter._initial[k]) for k in state)
    second = [r for r in records if r.kind == "step" and r.episode_id.startswith("002")]
    first_failure = next(r for r in second if r.outcome != "ok")
    assert first_failure.proposal_score is None  # nothing trained yet in the new stream, so no proposal


def test_the_core_loop_has_no_task_specific_code():
    """Names and string literals of litcore/loop.py (comments aside) mention no task, backbone or dataset."""
    source = Path(litcore.loop.__file__).read_text()
    code = " ".join(tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type in (tokenize.NAME, tokenize.STRING))
    words = [r"\bclip", "classif", r"\bvos\b", r"\bsam\b", "sam2", "samurai", "dam4sam", "segment", "video",
             "frame", "davis", r"\bcub\b", "sun397", r"\bcars?\b", "image", "label", "logit", "pixel", r"\biou\b"]
    assert [w for w in words if re.search(w, code, re.IGNORECASE)] == []
    assert not re.search(r"import\s+(open_clip|sam2|torchvision|litcore_)", source)
    assert re.search(r"def run_episode\(self, episode", source)  # the one function both tasks run through


def test_replace_mode_installs_the_adapted_tower_and_a_pool_of_loras_runs(tmp_path, monkeypatch):
    from litcore_cls_clip.task import ClipSession

    installs = []
    original = ClipSession.install
    monkeypatch.setattr(ClipSession, "install", lambda self, m: installs.append(m) or original(self, m))
    common = ["run", *MICRO, "--dataset", "synth-cls", "--dataset-opt", "per_class=4", "--policy-opt", "max_steps=2",
              "--groups", "001.red_capped_white_winged_forktail,002.red_capped_white_winged_roundtail"]
    assert main(common + ["--method", "replace-decoder", "--out", str(tmp_path / "replace")]) == 0
    rows = steps(tmp_path / "replace")
    updates = sum(s["update"] is not None for s in rows)
    assert updates >= 1 and len(installs) == updates
    assert all(s["proposal_score"] is None and s["outcome"] != "auto" for s in rows)  # nothing is proposed
    assert main(common + ["--method", "lit-3lora", "--out", str(tmp_path / "pool")]) == 0
    assert len(steps(tmp_path / "pool")) == 8

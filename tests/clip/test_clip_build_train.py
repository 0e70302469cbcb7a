"""Model sources (random, our checkpoint, open_clip names), the demo's guard and the training script."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from litcore.cli import main
from litcore.errors import LitcoreError
from litcore_cls_clip import build, synth
from litcore_cls_clip.build import (MICRO_CONFIG, ModelLoadError, build_clip, load_checkpoint, load_model,
                                    save_checkpoint)
from litcore_cls_clip.prompts import text_classifier

SCRIPT = Path(__file__).resolve().parents[2] / "plugins" / "cls_clip" / "training" / "train_tiny_clip.py"


def test_checkpoint_round_trip_keeps_used_token_rows_only(tmp_path):
    import open_clip

    model = build_clip(MICRO_CONFIG, seed=3).eval()
    tok = open_clip.SimpleTokenizer(context_length=32)
    classes, templates = synth.class_names()[:4], synth.TEMPLATES
    used = torch.unique(tok([t.format(c) for c in classes for t in templates]))
    path = save_checkpoint(model, tmp_path / "m.pt", MICRO_CONFIG, used, meta={"steps": 7})
    loaded, cfg, meta = load_checkpoint(path)
    assert cfg == MICRO_CONFIG and meta == {"steps": 7}
    emb = loaded.token_embedding.weight
    assert torch.equal(emb[used], model.token_embedding.weight[used])
    assert int((emb.abs().sum(1) > 0).sum()) == len(used)  # every other row is zero
    with torch.no_grad():
        a = text_classifier(model, tok, classes, templates)
        b = text_classifier(loaded.eval(), tok, classes, templates)
        x = torch.randn(2, 3, 32, 32)
        assert torch.allclose(model.encode_image(x), loaded.encode_image(x), atol=1e-6)
    assert torch.allclose(a, b, atol=1e-6)
    assert path.stat().st_size < 0.5e6  # without the 49k-row embedding (6.3 MB at width 32)


def test_missing_or_foreign_checkpoints_are_named(tmp_path, monkeypatch):
    with pytest.raises(ModelLoadError, match="nope.pt"):
        load_model(checkpoint=str(tmp_path / "nope.pt"))
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(ModelLoadError, match="model_name"):
        load_model(checkpoint=str(tmp_path / "other.pt"))
    with pytest.raises(ModelLoadError, match="nope.bin"):
        load_model(model_name="ViT-B-32", checkpoint=str(tmp_path / "nope.bin"))
    monkeypatch.setattr(build, "default_checkpoint_path", lambda: tmp_path / "clip_tiny_birds.pt")
    with pytest.raises(ModelLoadError, match="train_tiny_clip.py") as err:
        load_model()
    assert "clip_tiny_birds.pt" in str(err.value)


def test_pretrained_fetch_failure_says_online_only(monkeypatch):
    import open_clip

    def offline(*_, **__):
        raise RuntimeError("Failed to download weights for tag 'openai'")

    monkeypatch.setattr(open_clip, "create_model", offline)
    with pytest.raises(ModelLoadError, match="only when online") as err:
        load_model(model_name="ViT-B-16", pretrained="openai")
    assert isinstance(err.value, LitcoreError)


def test_demo_without_checkpoint_names_the_file_and_the_training_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build, "default_checkpoint_path", lambda: tmp_path / "clip_tiny_birds.pt")
    assert main(["demo", "--task", "classification", "--out", str(tmp_path / "demo"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "clip_tiny_birds.pt" in err and "train_tiny_clip.py --out" in err
    assert not (tmp_path / "demo" / "baseline").exists()


def test_demo_runs_side_by_side_with_a_given_checkpoint(tmp_path, capsys):
    from litcore_cls_clip.demo import run_classification_demo

    import open_clip

    model = build_clip(MICRO_CONFIG, seed=0)
    used = torch.unique(open_clip.SimpleTokenizer(context_length=32)(
        [t.format(c) for c in synth.class_names() for t in synth.TEMPLATES]))
    ckpt = save_checkpoint(model, tmp_path / "micro.pt", MICRO_CONFIG, used)
    summary = run_classification_demo(tmp_path / "demo", videos=2, quiet=True,
                                      model_options={"checkpoint": str(ckpt)}, dataset_options={"per_class": 3})
    assert summary["runs"] == ["baseline", "lit-lora", "lit-auto"] and len(summary["groups"]) == 2
    assert [r["method"] for r in summary["methods"]] == summary["runs"]
    assert (tmp_path / "demo" / "corrections_per_stream.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "reduction vs first" in printed
    assert all(f"| {m} " in printed for m in summary["runs"]) and "accuracy accepted proposals" in printed
    assert "J accepted" not in printed  # the task's own score name, not VOS's


def _script():
    spec = importlib.util.spec_from_file_location("train_tiny_clip", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_script_learns_exports_and_resumes(tmp_path):
    script = _script()
    common = ["--config", "micro", "--out", str(tmp_path / "run"), "--batch", "8", "--pool-per-class", "2",
              "--eval-every", "3", "--val-per-class", "1", "--test-per-class", "1", "--warmup", "1",
              "--target-acc", "0", "--export", str(tmp_path / "m.pt"), "--card", str(tmp_path / "card.md")]
    assert script.main(common + ["--steps", "3"]) == 0
    first = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert first["steps"] == 3 and first["stopped by"] == "steps"
    model, cfg, meta = load_checkpoint(tmp_path / "m.pt")
    assert cfg == MICRO_CONFIG and meta["steps"] == 3
    assert "| test zero-shot accuracy |" in (tmp_path / "card.md").read_text()
    assert script.main(common + ["--steps", "6"]) == 0  # resumes from step 3, does not start over
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    assert not torch.equal(load_checkpoint(tmp_path / "m.pt")[0].visual.conv1.weight, model.visual.conv1.weight)

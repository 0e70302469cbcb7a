"""Prompt construction, the cached zero-shot text classifier, and the label oracle."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from litcore.types import LabelAction
from litcore_cls_clip.oracle import ClassLabelOracle
from litcore_cls_clip.prompts import build_prompts, text_classifier


def test_prompts_fill_every_template_for_every_class():
    prompts = build_prompts(["Laysan Albatross", "Sooty Albatross"],
                            ["a photo of a {}, a type of bird.", "a blurry photo of a {}."])
    assert prompts == [["a photo of a Laysan Albatross, a type of bird.", "a blurry photo of a Laysan Albatross."],
                       ["a photo of a Sooty Albatross, a type of bird.", "a blurry photo of a Sooty Albatross."]]
    assert build_prompts(["x"], "a {}.") == [["a {}.".format("x")]]  # one template as a plain string
    with pytest.raises(ValueError, match="{}"):
        build_prompts(["x"], ["a photo of a bird."])


def test_text_classifier_is_the_normalised_mean_over_templates(micro):
    classes, templates = ["red thing", "blue thing", "green thing"], ["a photo of a {}.", "a {} again."]
    weights = text_classifier(micro.clip, micro.tokenizer, classes, templates)
    assert weights.shape == (3, micro.clip.text_projection.shape[1])
    assert torch.allclose(weights.norm(dim=-1), torch.ones(3), atol=1e-5)
    with torch.no_grad():  # computed independently, one class at a time
        for i, name in enumerate(classes):
            per = F.normalize(micro.clip.encode_text(micro.tokenizer([t.format(name) for t in templates])), dim=-1)
            assert torch.allclose(weights[i], F.normalize(per.mean(0), dim=-1), atol=1e-5)


def test_text_features_are_cached_per_classes_and_templates(micro, monkeypatch):
    calls = []
    original = micro.clip.encode_text
    monkeypatch.setattr(micro.clip, "encode_text", lambda tokens: calls.append(len(tokens)) or original(tokens))
    micro._text.clear()
    a = micro.text_features(["a", "b"], ("x {}.",))
    b = micro.text_features(["a", "b"], ("x {}.",))
    assert a is b and calls == [2]
    micro.text_features(["a", "b"], ("y {}.",))
    assert calls == [2, 2]


def test_oracle_accepts_exactly_the_true_label_and_gives_it_once():
    oracle = ClassLabelOracle()
    assert oracle.review(3, 3).accepted and oracle.review(3, 3).score == 1.0
    wrong = oracle.review(2, 3)
    assert not wrong.accepted and wrong.score == 0.0
    action = oracle.next_action(2, 3, [])
    assert action == LabelAction(label=3) and action.final and action.kind == "label"
    assert oracle.next_action(3, 3, [action]) is None
    with pytest.raises(ValueError, match="tau"):
        ClassLabelOracle(tau=0.5)


def test_oracle_registered_for_classification(registry):
    entry = registry.get("oracle", "cls-label")
    assert entry.task == "classification" and entry.plugin == "clip"
    assert registry.get("model", "clip").task == "classification"
    assert {"cub", "cars", "sun397", "synth-cls"} <= set(registry.names("dataset", task="classification"))

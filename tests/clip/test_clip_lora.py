"""The split attention, the LoRA placement and count, and what one update does."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litcore.adapters import LoraAdapter
from litcore.policy import UpdatePolicy
from litcore_cls_clip.attention import SplitAttention, split_attention
from litcore_cls_clip.build import MICRO_CONFIG, TINY_CONFIG, build_clip
from litcore_cls_clip.data import ClassStream, ImageRef
from litcore_cls_clip.synth import make_image
from litcore.task import Episode


@pytest.mark.parametrize("batch_first", [True, False])
def test_split_attention_computes_what_multihead_attention_computes(batch_first):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first).eval()
    with torch.no_grad():
        mha.in_proj_bias.normal_()
    split = SplitAttention.from_mha(mha).eval()
    x = torch.randn(3, 5, 16) if batch_first else torch.randn(5, 3, 16)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)
    for mask in (None, causal, torch.zeros(5, 5).masked_fill(causal, float("-inf"))):
        ref = mha(x, x, x, need_weights=False, attn_mask=mask)[0]
        assert torch.allclose(split(x, x, x, need_weights=False, attn_mask=mask)[0], ref, atol=1e-5)


def test_split_vision_tower_gives_the_same_features():
    model = build_clip(MICRO_CONFIG, seed=1).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        before = model.encode_image(x)
        assert split_attention(model.visual) == MICRO_CONFIG["vision_cfg"]["layers"]
        after = model.encode_image(x)
    assert not any(isinstance(m, nn.MultiheadAttention) for m in model.visual.modules())
    assert torch.allclose(before, after, atol=1e-5)


def expected_lora_parameters(cfg: dict, blocks: int, rank: int = 4) -> int:
    """r * (in + out) for q, k, v, out (width -> width), c_fc (width -> mlp) and c_proj (mlp -> width)."""
    width = cfg["vision_cfg"]["width"]
    mlp = int(width * cfg["vision_cfg"]["mlp_ratio"])
    per_block = 4 * rank * (width + width) + rank * (width + mlp) + rank * (mlp + width)
    return blocks * per_block


def test_lora_parameter_count_and_placement(micro):
    adapter = LoraAdapter()
    adapter.attach(micro.adaptable_module(), micro.adapter_targets("lora"))
    assert adapter.num_parameters() == expected_lora_parameters(MICRO_CONFIG, blocks=2) == 3584
    assert sorted(adapter.targets)[:2] == ["transformer.resblocks.0.attn.k_proj",
                                           "transformer.resblocks.0.attn.out_proj"]
    assert len(adapter.targets) == 12
    assert expected_lora_parameters(TINY_CONFIG, blocks=2) == 18_432  # the embedded model's default (docs)


def test_lora_blocks_and_layers_options(registry):
    model = registry.create("model", "clip", checkpoint=None, model_cfg="micro", device="cpu",
                            lora_blocks=1, lora_layers=["q_proj", "v_proj"])
    adapter = LoraAdapter()
    adapter.attach(model.adaptable_module(), model.adapter_targets("lora"))
    assert sorted(adapter.targets) == ["transformer.resblocks.1.attn.q_proj", "transformer.resblocks.1.attn.v_proj"]
    assert adapter.num_parameters() == 2 * 4 * (32 + 32)
    with pytest.raises(ValueError, match="lora_blocks"):
        registry.create("model", "clip", checkpoint=None, model_cfg="micro", device="cpu", lora_blocks=3)


def one_image_session(model, label: int = 0):
    ref = ImageRef("img", label, make=lambda: make_image(label, "test", 0))
    stream = ClassStream(["red bird", "blue bird", "green bird", "grey bird"], ("a photo of a {}.",), [ref])
    session = model.session(Episode("e", "e", stream))
    item = next(session.items())
    return session, item


def test_an_update_on_a_corrected_image_raises_its_true_class_logit(micro):
    session, item = one_image_session(micro)
    wrong = [c for c in range(4) if c != item.prediction]
    item.target = wrong[0]  # pretend the true class is one the model did not predict
    sample = session.training_sample(item)
    adapter = LoraAdapter()
    adapter.attach(micro.adaptable_module(), micro.adapter_targets("lora"))
    with torch.no_grad():
        before = micro.logits(micro.clip.visual, sample.image, sample.text)[0]
    report = UpdatePolicy().update(adapter, micro, sample)  # the paper's defaults: AdamW 1e-4, <= 40 steps
    adapter.module.eval()
    with torch.no_grad():
        after = micro.logits(adapter.module, sample.image, sample.text)[0]
        base_again = micro.logits(micro.clip.visual, sample.image, sample.text)[0]
    assert report.steps >= 1 and report.losses[-1] < report.losses[0]
    assert after[item.target] > before[item.target]
    assert after.softmax(-1)[item.target] > before.softmax(-1)[item.target]
    assert torch.equal(base_again, before)  # the base tower is untouched: LoRA lives on a copy


def test_score_is_true_class_probability_or_correctness(registry, micro):
    session, item = one_image_session(micro)
    sample = session.training_sample(item)
    with torch.no_grad():
        p = micro.logits(micro.clip.visual, sample.image, sample.text).softmax(-1)[0]
        assert micro.score(micro.clip.visual, sample) == pytest.approx(float(p[item.target]))
        strict = registry.create("model", "clip", checkpoint=None, model_cfg="micro", device="cpu", score="correct")
        assert strict.score(strict.clip.visual, sample) == float(item.prediction == item.target)

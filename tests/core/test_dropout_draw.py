"""`dropout_draw=fast`: LoRA's input dropout with numpy's mask, same keep rate, seeded by torch."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from litcore.adapters import AdapterError, LoraAdapter
from litcore.adapters.dropout_draw import FAST_DRAW_MIN, keep_mask, keep_threshold
from litcore.adapters.lora_layers import LoraConv, LoraLinear


@given(st.floats(0.0, 1.0))
def test_the_threshold_keeps_within_two_to_the_minus_17(keep):
    t = keep_threshold(keep)
    assert 0 <= t <= 1 << 16
    assert abs(t / (1 << 16) - keep) <= 2.0**-17


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_the_mask_keeps_the_asked_fraction(keep):
    torch.manual_seed(0)
    n = 1 << 20
    frac = keep_mask((n,), keep).float().mean().item()
    assert abs(frac - keep) < 6 * (keep * (1 - keep) / n) ** 0.5  # six binomial standard deviations


def test_the_mask_is_fixed_by_torch_seed_and_moves_it():
    torch.manual_seed(5)
    a = keep_mask((64, 1024), 0.9)
    after_a = torch.rand(1)
    torch.manual_seed(5)
    b = keep_mask((64, 1024), 0.9)
    assert torch.equal(a, b) and torch.equal(after_a, torch.rand(1))  # same seed: same mask, same stream after
    c = keep_mask((64, 1024), 0.9)
    assert not torch.equal(a, c)  # the next draw is another mask
    assert a.dtype == torch.bool and a.shape == (64, 1024)


def _big_linear(draw: str, p: float = 0.1) -> LoraLinear:
    torch.manual_seed(0)
    layer = LoraLinear(nn.Linear(32, 8), rank=4, alpha=4.0, dropout=p, dropout_draw=draw)
    with torch.no_grad():
        layer.lora_B.default.weight.normal_()
    return layer


def test_fast_draw_computes_base_plus_scaled_low_rank_of_the_masked_input():
    layer = _big_linear("fast")
    x = torch.randn(1, FAST_DRAW_MIN // 32, 32, requires_grad=True)  # exactly the size where it applies
    torch.manual_seed(7)
    y = layer(x)
    torch.manual_seed(7)
    kept = torch.where(keep_mask(x.shape, 0.9), x, 0.0)
    a, b = layer.lora_A.default.weight, layer.lora_B.default.weight
    expected = layer.base_layer(x) + kept @ a.T @ b.T / 0.9
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)
    y.sum().backward()
    grad_a = a.grad.clone()
    a.grad = None
    expected.sum().backward()
    torch.testing.assert_close(grad_a, a.grad, rtol=1e-4, atol=1e-4)


def test_fast_draw_leaves_small_inputs_eval_mode_and_zero_dropout_to_torch():
    fast, torch_draw = _big_linear("fast"), _big_linear("torch")
    small = torch.randn(2, 8, 32)
    torch.manual_seed(3)
    y_fast = fast(small)
    torch.manual_seed(3)
    assert torch.equal(y_fast, torch_draw(small))  # below FAST_DRAW_MIN: F.dropout, the same draw
    big = torch.randn(1, FAST_DRAW_MIN // 32, 32)
    torch.manual_seed(3)
    y_fast = fast(big)
    torch.manual_seed(3)
    assert not torch.equal(y_fast, torch_draw(big))  # large: another mask
    fast.eval(), torch_draw.eval()
    assert torch.equal(fast(big), torch_draw(big))  # no dropout in eval mode: one function
    no_drop = LoraLinear(nn.Linear(32, 8), 4, 4.0, dropout=0.0, dropout_draw="fast")
    assert torch.equal(no_drop(big), no_drop.base_layer(big))  # B = 0 and nothing drawn


def test_fast_draw_on_a_conv_masks_its_input():
    torch.manual_seed(0)
    conv = LoraConv(nn.Conv2d(4, 6, 3, padding=1), 2, 2.0, dropout=0.5, dropout_draw="fast")
    with torch.no_grad():
        conv.lora_B.default.weight.normal_()
    x = torch.randn(1, 4, 128, 128)
    torch.manual_seed(1)
    y = conv(x)
    torch.manual_seed(1)
    kept = torch.where(keep_mask(x.shape, 0.5), x, 0.0)
    expected = conv.base_layer(x) + conv.lora_B.default(conv.lora_A.default(kept)) / 0.5
    torch.testing.assert_close(y, expected, rtol=1e-4, atol=1e-4)
    assert "fast draw" in repr(conv)


class _Two(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin, self.emb = nn.Linear(4, 4), nn.Embedding(5, 4)


def test_dropout_draw_is_an_option_of_the_core_layers_only():
    adapter = LoraAdapter(dropout_draw="fast")
    adapter.attach(_Two(), ["lin"])
    assert adapter.describe()["dropout_draw"] == "fast" and adapter.module.lin.fast_draw
    default = LoraAdapter()  # auto: fast in the core's layers, peft's own draw in peft's
    default.attach(_Two(), ["lin"])
    assert default.describe()["dropout_draw"] == "fast" and default.module.lin.fast_draw
    for opts in ({"impl": "peft"}, {"impl": "auto"}):
        via_peft = LoraAdapter(**opts)
        via_peft.attach(_Two(), ["lin", "emb"] if opts["impl"] == "auto" else ["lin"])
        assert via_peft.active_impl == "peft" and via_peft.describe()["dropout_draw"] == "torch"
    chosen = LoraAdapter(dropout_draw="torch")
    chosen.attach(_Two(), ["lin"])
    assert chosen.describe()["dropout_draw"] == "torch" and not chosen.module.lin.fast_draw
    with pytest.raises(ValueError, match="dropout_draw='auto' is not one of torch, fast"):
        LoraLinear(nn.Linear(4, 4), 2, 2.0, 0.1, dropout_draw="auto")
    with pytest.raises(AdapterError, match="dropout_draw='numpy' is not one of auto, torch, fast"):
        LoraAdapter(dropout_draw="numpy")
    with pytest.raises(AdapterError, match="dropout_draw=fast needs the core's layers"):
        LoraAdapter(dropout_draw="fast", impl="peft")
    with pytest.raises(AdapterError, match="dropout_draw=fast takes Linear and Conv layers; target 'emb'"):
        LoraAdapter(dropout_draw="fast").attach(_Two(), ["lin", "emb"])

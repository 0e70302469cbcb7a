"""`reuse_base`: a frozen base layer's output reused for a repeated input, bitwise the same training."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litcore.adapters import AdapterError, LoraAdapter
from litcore.adapters.base_memo import MEMO_MIN
from litcore.adapters.lora_layers import LoraConv, LoraLinear

TOKENS = MEMO_MIN // 32  # (1, TOKENS, 32) inputs: exactly the size where the memo applies


class _Front(nn.Module):
    """A frozen input feeds the first layer at every step; the second sees what the first's LoRA changed."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = nn.Linear(32, 32), nn.Linear(32, 4)

    def forward(self, x):
        return self.second(torch.relu(self.first(x)))


def _train(reuse: bool, steps: int = 6) -> tuple[LoraAdapter, list[float]]:
    torch.manual_seed(0)
    net = _Front()
    adapter = LoraAdapter(reuse_base=reuse, dropout_draw="torch")
    torch.manual_seed(1)
    module = adapter.attach(net, ["first", "second"])
    module.train()
    x = torch.randn(1, TOKENS, 32, generator=torch.Generator().manual_seed(2))
    opt = torch.optim.AdamW(adapter.trainable_parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        torch.manual_seed(10 + step)
        loss = module(x.clone()).pow(2).mean()  # a new tensor each step, equal content: SAM2's case
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return adapter, losses


def test_training_is_bitwise_the_same_with_and_without_the_memo():
    with_memo, losses_a = _train(True)
    without, losses_b = _train(False)
    assert losses_a == losses_b and losses_a[0] != losses_a[-1]  # it trained, identically
    for k, v in with_memo.state_dict().items():
        assert torch.equal(v, without.state_dict()[k]), k
    first = with_memo.module.first
    assert first._memo.out is not None  # the first layer's input needed no gradient: memoised
    assert with_memo.module.second._memo.out is None  # the second's did: never
    assert without.module.first._memo is None


def _layer() -> LoraLinear:
    torch.manual_seed(0)
    layer = LoraLinear(nn.Linear(32, 8), 4, 4.0, dropout=0.0, reuse_base=True)
    with torch.no_grad():
        layer.lora_B.default.weight.normal_()
    layer.base_layer.requires_grad_(False)  # frozen, as the adapter leaves it
    return layer


def test_the_memo_is_used_only_for_an_equal_input_and_unchanged_weights():
    layer = _layer()
    x = torch.randn(1, TOKENS, 32)
    y1 = layer(x)
    out = layer._memo.out
    y2 = layer(x.clone())  # equal content, another tensor: reused
    assert layer._memo.out is out and torch.equal(y1, y2)
    other = x.clone()
    other[0, 5, 3] += 1.0  # one element differs: computed again
    y3 = layer(other)
    assert layer._memo.out is not out and not torch.equal(y3, y1)
    out = layer._memo.out
    other.mul_(1.0)  # the memo's own input changed in place: what it was computed from is unknown, so again
    layer(other)
    assert layer._memo.out is not out and layer._memo.x_version == other._version
    out = layer._memo.out
    with torch.no_grad():
        layer.base_layer.bias.add_(1.0)  # the base changed: computed again
    y4 = layer(other)
    assert layer._memo.out is not out
    torch.testing.assert_close(y4, y3 + 1.0)
    out = layer._memo.out
    replaced = nn.Parameter(layer.base_layer.bias.detach() + 2.0, requires_grad=False)
    with torch.no_grad():
        while replaced._version < layer.base_layer.bias._version:
            replaced.add_(0.0)
    assert replaced._version == layer.base_layer.bias._version  # only the identity tells them apart
    layer.base_layer.bias = replaced
    layer(other)  # a replaced parameter: computed again
    assert layer._memo.out is not out
    out = layer._memo.out
    strided = other.transpose(1, 2).contiguous().transpose(1, 2)  # equal content, other strides: again
    assert torch.equal(strided, other) and strided.stride() != other.stride()
    layer(strided)
    assert layer._memo.out is not out
    out = layer._memo.out
    with torch.no_grad():  # scoring and revisions (grad mode off) neither use nor fill the memo
        layer(x)
    assert layer._memo.out is out
    layer(torch.randn(2, 8, 32))  # below MEMO_MIN: never memoised
    assert layer._memo.out is out
    needs_grad = other.clone().requires_grad_()
    layer(needs_grad)  # an input that needs a gradient: never
    assert layer._memo.out is out
    layer.base_layer.requires_grad_(True)  # a base that trains: never
    layer(x)
    assert layer._memo.out is out


def test_a_reused_output_is_never_changed_by_the_caller():
    layer = _layer()
    x = torch.randn(1, TOKENS, 32)
    first = layer(x)
    kept = layer._memo.out.clone()
    second = layer(x)
    second.add_(5.0)  # the caller may change what it got
    assert torch.equal(layer._memo.out, kept) and torch.equal(layer(x), first)


def test_conv_layers_reuse_too():
    torch.manual_seed(0)
    conv = LoraConv(nn.Conv2d(4, 4, 3, padding=1), 2, 2.0, dropout=0.0, reuse_base=True)
    conv.base_layer.requires_grad_(False)
    x = torch.randn(1, 4, 128, 128)
    a, b = conv(x), conv(x.clone())
    assert conv._memo.out is not None and torch.equal(a, b) and "reuses base" in repr(conv)


def test_reuse_base_is_an_adapter_option():
    adapter = LoraAdapter()
    adapter.attach(_Front(), ["first"])
    assert adapter.describe()["reuse_base"] is True and adapter.module.first._memo is not None
    off = LoraAdapter(reuse_base=False)
    off.attach(_Front(), ["first"])
    assert off.describe()["reuse_base"] is False and off.module.first._memo is None
    with pytest.raises(AdapterError, match="reuse_base='yes' must be true or false"):
        LoraAdapter(reuse_base="yes")

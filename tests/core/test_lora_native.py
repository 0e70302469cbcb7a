"""The native LoRA layers against peft's: same names, same initial weights, same outputs and training."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from litcore.adapters import AdapterError, LoraAdapter
from litcore.adapters.lora_layers import LoraConv, LoraLinear


class _Layers(nn.Module):
    def __init__(self, dim: int = 6) -> None:
        super().__init__()
        self.lin = nn.Linear(dim, 5)
        self.nobias = nn.Linear(dim, 5, bias=False)
        self.c1, self.c2 = nn.Conv1d(3, 4, 3, padding=1), nn.Conv2d(3, 4, 3, stride=2)
        self.c3 = nn.Conv3d(3, 4, 2)
        self.emb = nn.Embedding(10, 4)


INPUTS = {"lin": (2, 7, 6), "nobias": (2, 6), "c1": (2, 3, 9), "c2": (1, 3, 9, 9), "c3": (1, 3, 4, 4, 4)}


def _attach(impl: str, targets, seed: int = 0, **opts):
    torch.manual_seed(0)
    base = _Layers()
    torch.manual_seed(seed + 1)
    adapter = LoraAdapter(rank=3, alpha=6.0, impl=impl, **opts)
    adapter.attach(base, targets)
    return adapter


def test_native_and_peft_name_and_draw_the_same_tensors():
    targets = list(INPUTS)
    native, peft = _attach("native", targets), _attach("peft", targets)
    assert native.active_impl == "native" and peft.active_impl == "peft"
    a, b = native.state_dict(), peft.state_dict()
    assert sorted(a) == sorted(b) and len(a) == 2 * len(targets)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    full_a = dict(native.module.named_parameters())
    full_b = dict(peft.module.named_parameters())
    assert sorted(full_a) == sorted(full_b)  # base layers under the same names too
    assert native.num_parameters() == peft.num_parameters()


@pytest.mark.parametrize("name", list(INPUTS))
def test_native_layer_computes_what_peft_computes_forward_and_backward(name):
    native, peft = _attach("native", [name], dropout=0.0), _attach("peft", [name], dropout=0.0)
    g = torch.Generator().manual_seed(3)
    for adapter in (native, peft):  # a non-zero B, so the low-rank path matters
        with torch.no_grad():
            for n, p in adapter.module.named_parameters():
                if "lora_B" in n:
                    p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(4)))
    x = torch.randn(INPUTS[name], generator=g)
    outs, grads = [], []
    for adapter in (native, peft):
        layer = adapter.module.get_submodule(name)
        y = layer(x)
        y.square().sum().backward()
        outs.append(y.detach())
        grads.append({n: p.grad.clone() for n, p in adapter.module.named_parameters() if p.requires_grad})
    assert isinstance(native.module.get_submodule(name), (LoraLinear, LoraConv))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=1e-6)
    assert sorted(grads[0]) == sorted(grads[1])
    for k in grads[0]:
        torch.testing.assert_close(grads[0][k], grads[1][k], rtol=1e-6, atol=1e-6)


def test_dropout_uses_the_random_stream_as_peft_does_and_only_in_training():
    native, peft = _attach("native", ["lin"], dropout=0.5), _attach("peft", ["lin"], dropout=0.5)
    for adapter in (native, peft):
        with torch.no_grad():
            adapter.module.lin.lora_B.default.weight.fill_(1.0)
    x = torch.randn(4, 6)
    torch.manual_seed(9)
    y_native = native.module.lin(x)
    torch.manual_seed(9)
    y_peft = peft.module.lin(x)
    torch.testing.assert_close(y_native, y_peft, rtol=0, atol=1e-6)
    native.module.eval()
    assert torch.equal(native.module.lin(x), native.module.lin(x))  # no dropout in eval mode


@settings(max_examples=25, deadline=None)
@given(rank=st.integers(1, 6), dim_in=st.integers(1, 12), dim_out=st.integers(1, 12), alpha=st.floats(0.5, 16))
def test_native_linear_is_base_plus_scaled_low_rank_product(rank, dim_in, dim_out, alpha):
    torch.manual_seed(0)
    base = nn.Linear(dim_in, dim_out)
    layer = LoraLinear(base, rank, alpha, dropout=0.0)
    with torch.no_grad():
        layer.lora_B.default.weight.normal_()
    x = torch.randn(3, dim_in)
    a, b = layer.lora_A.default.weight, layer.lora_B.default.weight
    expected = base(x) + x @ a.T @ b.T * (alpha / rank)
    torch.testing.assert_close(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert layer.weight is base.weight and layer.bias is base.bias


def test_auto_picks_peft_for_embeddings_and_native_refuses_them():
    assert _attach("auto", ["lin", "c2"]).active_impl == "native"
    assert _attach("auto", ["lin", "emb"]).active_impl == "peft"
    with pytest.raises(AdapterError, match="impl=native takes Linear and Conv layers; target 'emb' is a Embedding"):
        _attach("native", ["lin", "emb"])
    with pytest.raises(AdapterError, match="impl='fast' is not one of auto, native, peft"):
        LoraAdapter(impl="fast")


def test_a_saved_peft_adapter_loads_into_a_native_one(tmp_path):
    peft = _attach("peft", ["lin", "c2"], seed=5)
    with torch.no_grad():
        for p in peft.trainable_parameters():
            p.add_(0.25)
    peft.save(tmp_path / "a.pt")
    native = _attach("native", ["lin", "c2"], seed=7)
    native.load(tmp_path / "a.pt")
    x = torch.randn(2, 6)
    native.module.eval(), peft.module.eval()
    torch.testing.assert_close(native.module.lin(x), peft.module.lin(x))
    native.reset()  # back to its own initial weights, not the loaded ones
    assert not torch.equal(native.state_dict()["lin.lora_A.default.weight"],
                           peft.state_dict()["lin.lora_A.default.weight"])


def test_native_lora_does_not_import_peft():
    import subprocess
    import sys

    code = ("import sys, torch; from litcore.adapters import LoraAdapter; "
            "a = LoraAdapter(); a.attach(torch.nn.Sequential(torch.nn.Linear(4, 4)), '0'); "
            "print(a.active_impl, 'peft' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["native", "False"]


def test_rank_dropout_masks_the_low_rank_code_not_the_input():
    torch.manual_seed(0)
    base = nn.Linear(8, 5)
    at_rank = LoraLinear(base, 4, 4.0, dropout=0.5, dropout_at="rank")
    with torch.no_grad():
        at_rank.lora_B.default.weight.normal_()
    x = torch.randn(64, 8)
    code = x @ at_rank.lora_A.default.weight.T  # the 4 features per row that rank dropout acts on
    torch.manual_seed(1)
    y = at_rank(x)
    torch.manual_seed(1)
    mask = torch.nn.functional.dropout(torch.ones_like(code), 0.5, True)
    expected = base(x) + (code * mask) @ at_rank.lora_B.default.weight.T
    torch.testing.assert_close(y, expected, rtol=1e-5, atol=1e-5)
    at_rank.eval()
    at_input = LoraLinear(base, 4, 4.0, dropout=0.5).eval()
    at_input.load_state_dict(at_rank.state_dict())
    torch.testing.assert_close(at_rank(x), at_input(x))  # the same function once dropout is off


def test_rank_dropout_is_an_option_of_the_core_layers_only():
    adapter = LoraAdapter(dropout_at="rank")
    adapter.attach(_Layers(), ["lin", "c2"])
    assert adapter.describe()["dropout_at"] == "rank" and "at rank" in repr(adapter.module.lin)
    with pytest.raises(AdapterError, match="dropout_at=rank needs the core's layers"):
        LoraAdapter(dropout_at="rank", impl="peft")
    with pytest.raises(AdapterError, match="dropout_at='bottleneck' is not one of input, rank"):
        LoraAdapter(dropout_at="bottleneck")
    with pytest.raises(AdapterError, match="dropout_at=rank takes Linear and Conv layers; target 'emb'"):
        LoraAdapter(dropout_at="rank").attach(_Layers(), ["lin", "emb"])

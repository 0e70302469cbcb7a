"""Adapters on tiny torch modules: what becomes trainable, init, reset, save/load."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from litcore.adapters import AdapterError, FullFineTune, LoraAdapter, NoAdapter

QKV = r"block\.attn\.(q|k|v)_proj"


class Attn(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.q_proj = nn.Linear(dim_in, dim_out)
        self.k_proj = nn.Linear(dim_in, dim_out)
        self.v_proj = nn.Linear(dim_in, dim_out)

    def forward(self, x):
        return self.q_proj(x) + self.k_proj(x) * self.v_proj(x)


class Block(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.attn = Attn(dim_in, dim_out)
        self.norm = nn.LayerNorm(dim_out)


class Net(nn.Module):
    """`block.attn.{q,k,v}_proj` are the targets; `other.q_proj` and `wrapper.block.attn.*` share their
    (suffix) names and must stay untouched."""

    def __init__(self, dim_in: int = 6, dim_out: int = 5) -> None:
        super().__init__()
        self.block = Block(dim_in, dim_out)
        self.other = Attn(dim_in, dim_out)
        self.wrapper = nn.Module()
        self.wrapper.block = Block(dim_in, dim_out)

    def forward(self, x):
        return self.block.norm(self.block.attn(x)) + self.other.q_proj(x) + self.wrapper.block.attn(x)


def _net(seed: int = 0, **kw) -> Net:
    torch.manual_seed(seed)
    net = Net(**kw)
    with torch.no_grad():  # non-zero biases, so "bias kept" is visible in outputs
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.bias.uniform_(-1, 1)
    return net


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _train_step(adapter, x, lr: float = 0.1) -> None:
    opt = torch.optim.SGD(adapter.trainable_parameters(), lr=lr)
    adapter.module.train()
    loss = (adapter.module(x) - 3.0).pow(2).mean()
    loss.backward()
    opt.step()
    adapter.module.eval()


# --- LoRA ---------------------------------------------------------------------------


def test_lora_parameter_count_is_rank_times_in_plus_out_per_target():
    net = _net(dim_in=6, dim_out=5)
    adapter = LoraAdapter(rank=3)
    adapter.attach(net, QKV)
    targets = [net.block.attn.q_proj, net.block.attn.k_proj, net.block.attn.v_proj]
    assert adapter.num_parameters() == sum(3 * (m.in_features + m.out_features) for m in targets)
    assert adapter.targets == ["block.attn.q_proj", "block.attn.k_proj", "block.attn.v_proj"]
    assert adapter.describe()["parameters"] == adapter.num_parameters()


@settings(max_examples=8, deadline=None)
@given(rank=st.integers(1, 4), dim_in=st.integers(1, 7), dim_out=st.integers(1, 7))
def test_lora_parameter_count_property(rank, dim_in, dim_out):
    adapter = LoraAdapter(rank=rank)
    adapter.attach(Net(dim_in, dim_out), QKV)
    assert adapter.num_parameters() == 3 * rank * (dim_in + dim_out)


def test_lora_touches_only_the_anchored_targets():
    adapter = LoraAdapter(rank=2)
    copy_ = adapter.attach(_net(), QKV)
    wrapped = {n.rsplit(".lora_A", 1)[0] for n, _ in copy_.named_modules() if n.endswith(".lora_A")}
    assert wrapped == {"block.attn.q_proj", "block.attn.k_proj", "block.attn.v_proj"}
    assert isinstance(copy_.other.q_proj, nn.Linear) and type(copy_.other.q_proj) is nn.Linear
    assert type(copy_.wrapper.block.attn.q_proj) is nn.Linear
    trainable = {n for n, p in copy_.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("block.attn.") and ".lora_" in n for n in trainable)


def test_attach_leaves_the_base_module_alone():
    net = _net()
    before = _snapshot(net)
    modules_before = [n for n, _ in net.named_modules()]
    adapter = LoraAdapter(rank=2)
    copy_ = adapter.attach(net, QKV)
    assert copy_ is not net
    assert [n for n, _ in net.named_modules()] == modules_before
    assert not any("lora" in n for n, _ in net.named_modules())
    _train_step(adapter, torch.randn(4, 6))
    assert _same(_snapshot(net), before)
    assert all(p.requires_grad for p in net.parameters())  # its own flags untouched too


def test_lora_starts_as_the_identity_of_the_base_module():
    net = _net().eval()
    adapter = LoraAdapter(rank=4, dropout=0.5)
    copy_ = adapter.attach(net, QKV).eval()
    assert all(torch.count_nonzero(p) == 0 for n, p in copy_.named_parameters() if "lora_B" in n)
    assert any(torch.count_nonzero(p) > 0 for n, p in copy_.named_parameters() if "lora_A" in n)
    x = torch.randn(8, 6)
    with torch.no_grad():
        torch.testing.assert_close(copy_(x), net(x), rtol=0, atol=1e-6)


def test_a_gradient_step_changes_the_output():
    net = _net().eval()
    adapter = LoraAdapter(rank=2, dropout=0.0)
    adapter.attach(net, QKV)
    x = torch.randn(8, 6)
    _train_step(adapter, x)
    with torch.no_grad():
        assert not torch.allclose(adapter.module(x), net(x), atol=1e-4)


def test_reset_restores_the_initial_adapter_exactly():
    net = _net().eval()
    adapter = LoraAdapter(rank=2, dropout=0.0)
    adapter.attach(net, QKV)
    initial = {k: v.clone() for k, v in adapter.state_dict().items()}
    for _ in range(3):
        _train_step(adapter, torch.randn(8, 6))
    adapter.updates = 3
    assert adapter.trained
    assert not _same(adapter.state_dict(), initial)
    adapter.reset()
    assert not adapter.trained and adapter.updates == 0
    assert _same({k: v.clone() for k, v in adapter.state_dict().items()}, initial)
    x = torch.randn(8, 6)
    with torch.no_grad():
        torch.testing.assert_close(adapter.module(x), net(x), rtol=0, atol=1e-6)


def test_save_load_round_trip(tmp_path):
    net = _net().eval()
    torch.manual_seed(1)
    a = LoraAdapter(rank=2, dropout=0.0)
    a.attach(net, QKV)
    _train_step(a, torch.randn(8, 6))
    a.save(tmp_path / "a.pt")

    torch.manual_seed(2)  # a different random A at init
    b = LoraAdapter(rank=2, dropout=0.0)
    b.attach(net, QKV)
    assert not _same(b.state_dict(), a.state_dict())
    b.load(tmp_path / "a.pt")
    assert _same(b.state_dict(), a.state_dict())
    x = torch.randn(4, 6)
    with torch.no_grad():
        torch.testing.assert_close(b.module(x), a.module(x))


def test_loading_a_wrong_adapter_file_raises(tmp_path):
    net = _net()
    full = FullFineTune()
    full.attach(net, QKV)
    full.save(tmp_path / "full.pt")
    lora = LoraAdapter(rank=2)
    lora.attach(net, QKV)
    lora.save(tmp_path / "r2.pt")
    other_targets = LoraAdapter(rank=2)
    other_targets.attach(net, r"block\.attn\.q_proj")
    other_targets.save(tmp_path / "q_only.pt")
    torch.save({k: v for k, v in lora.state_dict().items()}, tmp_path / "raw.pt")

    target = LoraAdapter(rank=4)
    target.attach(net, QKV)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(AdapterError, match="'full'"):
        target.load(tmp_path / "full.pt")
    with pytest.raises(AdapterError, match="shape"):
        target.load(tmp_path / "r2.pt")
    with pytest.raises(AdapterError, match="does not match"):
        target.load(tmp_path / "q_only.pt")
    with pytest.raises(AdapterError):
        target.load(tmp_path / "raw.pt")
    assert _same(target.state_dict(), before)


@pytest.mark.parametrize("cls", [LoraAdapter, FullFineTune])
def test_a_pattern_matching_nothing_names_the_pattern(cls):
    with pytest.raises(AdapterError, match=r"decoder\\\\.nothing|decoder\\.nothing"):
        cls().attach(_net(), r"decoder\.nothing")


def test_lora_refuses_a_matched_module_it_cannot_adapt_and_needs_a_valid_rank():
    with pytest.raises(AdapterError, match=r"'block.norm' is a LayerNorm"):
        LoraAdapter().attach(_net(), r"block\.norm")
    with pytest.raises(AdapterError, match="targets"):
        LoraAdapter().attach(_net(), None)
    with pytest.raises(AdapterError, match="rank"):
        LoraAdapter(rank=0)


def test_use_before_attach_raises():
    adapter = LoraAdapter()
    with pytest.raises(AdapterError, match="attach"):
        adapter.num_parameters()
    with pytest.raises(AdapterError, match="attach"):
        adapter.state_dict()
    assert adapter.describe()["parameters"] == 0


# --- full fine-tuning -----------------------------------------------------------------


def test_full_fine_tune_trains_only_the_targeted_modules():
    net = _net()
    adapter = FullFineTune()
    copy_ = adapter.attach(net, r"block\.attn\.q_proj")
    trainable = {n for n, p in copy_.named_parameters() if p.requires_grad}
    assert trainable == {"block.attn.q_proj.weight", "block.attn.q_proj.bias"}
    q = net.block.attn.q_proj
    assert adapter.num_parameters() == q.weight.numel() + q.bias.numel()
    before = _snapshot(copy_)
    _train_step(adapter, torch.randn(8, 6))
    after = _snapshot(copy_)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == trainable


def test_full_fine_tune_of_a_subtree_and_of_everything():
    net = _net()
    sub = FullFineTune()
    sub.attach(net, r"block")
    assert sub.num_parameters() == sum(p.numel() for p in net.block.parameters())
    everything = FullFineTune()
    everything.attach(net, None)
    assert everything.num_parameters() == sum(p.numel() for p in net.parameters())


def test_full_fine_tune_reset_and_base_untouched():
    net = _net()
    before = _snapshot(net)
    adapter = FullFineTune()
    adapter.attach(net, QKV)
    initial = {k: v.clone() for k, v in adapter.state_dict().items()}
    assert _same(initial, {k: before[k] for k in initial})  # starts from the base weights
    _train_step(adapter, torch.randn(8, 6))
    adapter.reset()
    assert _same({k: v.clone() for k, v in adapter.state_dict().items()}, initial)
    assert _same(_snapshot(net), before)


# --- no adapter -------------------------------------------------------------------------


def test_no_adapter_has_nothing_and_never_trains():
    adapter = NoAdapter()
    assert adapter.attach(_net(), QKV) is None
    assert adapter.module is None
    assert adapter.num_parameters() == 0
    assert adapter.describe() == {"name": "none", "parameters": 0}
    adapter.updates = 5
    assert not adapter.trained
    adapter.reset()
    assert adapter.updates == 0 and not adapter.trained


class _Mixed(torch.nn.Module):
    """One layer of each kind peft's LoRA supports, plus one it does not."""

    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2, self.c3 = torch.nn.Conv1d(3, 4, 3), torch.nn.Conv2d(3, 4, 3), torch.nn.Conv3d(3, 4, 3)
        self.emb, self.lin, self.norm = torch.nn.Embedding(10, 4), torch.nn.Linear(4, 4), torch.nn.LayerNorm(4)


@pytest.mark.parametrize("name", ["c1", "c2", "c3", "emb", "lin"])
def test_lora_adapts_every_layer_type_peft_supports(name):
    adapter = LoraAdapter(rank=2)
    module = adapter.attach(_Mixed(), name)
    trained = [n for n, p in module.named_parameters() if p.requires_grad]
    assert trained and all(n.startswith(name + ".lora_") for n in trained)
    assert adapter.targets == [name]


def test_lora_names_the_unsupported_module_when_a_pattern_also_matches_a_linear():
    with pytest.raises(AdapterError, match="'norm' is a LayerNorm"):
        LoraAdapter().attach(_Mixed(), ["lin", "norm"])

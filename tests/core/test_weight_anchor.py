"""The calibrated policy's weight-anchored ladder (`anchor=weights`) and the adapters' `weight_scale()`."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from litcore.adapters import AdapterPool, FullFineTune, LoraAdapter
from litcore.adapters.base import rms
from litcore.calibrated import CalibratedConfig, calibrated
from litcore.policy import PolicyOptionError
from test_policy import ScriptedLearner


def _net(scale: float = 1.0) -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Conv1d(1, 2, 3), nn.LayerNorm(6))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


def test_lora_measures_the_frozen_weights_of_exactly_its_targets():
    net = _net()
    adapter = LoraAdapter()
    adapter.attach(net, r"0")
    assert adapter.weight_scale() == pytest.approx(float(net[0].weight.detach().pow(2).mean().sqrt()))
    both = LoraAdapter()
    both.attach(net, r"0|2")
    squares = net[0].weight.detach().pow(2).sum() + net[2].weight.detach().pow(2).sum()
    count = net[0].weight.numel() + net[2].weight.numel()
    assert both.weight_scale() == pytest.approx(float((squares / count).sqrt()))  # pooled, not averaged


def test_full_fine_tuning_measures_its_matrices_and_kernels_not_biases_or_norms():
    net = _net()
    adapter = FullFineTune()
    adapter.attach(net, None)
    expected = rms([net[0].weight, net[2].weight])  # LayerNorm's weight and every bias are 1-d
    assert adapter.weight_scale() == pytest.approx(expected)
    adapter.attach(nn.Sequential(nn.LayerNorm(3)), None)
    assert adapter.weight_scale() is None  # nothing to anchor on: the absolute ladder is used


def test_a_pool_reports_its_members_scale():
    pool = AdapterPool(size=2)
    pool.attach(_net(), r"0")
    assert pool.weight_scale() == pytest.approx(pool.members[1].weight_scale())


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.floats(-10, 10).filter(lambda x: x == 0 or abs(x) > 1e-100), min_size=1, max_size=6), min_size=1, max_size=4))
def test_rms_is_the_root_mean_square_of_all_elements_together(chunks):
    flat = [x for c in chunks for x in c]
    got = rms(torch.tensor(c, dtype=torch.float64) for c in chunks)
    if not any(flat):
        assert got is None
    else:
        assert got == pytest.approx(math.sqrt(sum(x * x for x in flat) / len(flat)))


@pytest.mark.parametrize("rungs", [1, 3, 5])
def test_the_anchored_ladder_ends_at_relative_lr_times_the_scale(rungs):
    cfg = CalibratedConfig(rungs=rungs, relative_lr=0.08)
    ladder = cfg.ladder(0.05)
    assert len(ladder) == rungs and ladder[-1] == pytest.approx(4e-3)
    assert all(b == pytest.approx(a * 3) for a, b in zip(ladder, ladder[1:]))
    assert cfg.ladder(None) == CalibratedConfig(anchor="none").ladder()  # no scale: the absolute ladder
    assert CalibratedConfig().ladder(100.0)[-1] == 1.0  # never above 1


def _full(scale: float) -> FullFineTune:
    torch.manual_seed(0)
    adapter = FullFineTune()
    net = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    adapter.attach(net, None)
    return adapter


def test_the_update_probes_the_anchored_ladder_and_scales_with_the_weights():
    small, large = _full(1.0), _full(10.0)
    a = calibrated(rungs=5).update(small, ScriptedLearner([0.1, 0.2, 0.3]), 1)
    b = calibrated(rungs=5).update(large, ScriptedLearner([0.1, 0.2, 0.3]), 1)
    ladder = CalibratedConfig(rungs=5).ladder(small.weight_scale())
    assert a.lrs[:15] == pytest.approx([lr for lr in ladder for _ in range(3)])
    # ten times larger weights, ten times larger step sizes: the same relative change
    assert b.lrs == pytest.approx([10 * lr for lr in a.lrs])
    assert any(a.lr == pytest.approx(x) for x in ladder)


def test_one_rung_is_a_constant_relative_step_with_the_papers_early_stopping():
    adapter = _full(1.0)
    report = calibrated(rungs=1, patience=3).update(adapter, ScriptedLearner([0.7, 0.8, 0.8]), 1)
    top = 0.08 * adapter.weight_scale()
    assert report.lrs == pytest.approx([top] * report.steps) and report.lr == pytest.approx(top)
    assert report.steps < 40  # fitted (0.8 > 0.6) and no gain for `patience` steps


@pytest.mark.parametrize("option, value", [("lr", 1e-3), ("max_lr", 3e-2)])
def test_absolute_step_sizes_with_the_anchored_ladder_are_refused_in_one_line(option, value):
    with pytest.raises(PolicyOptionError) as info:
        calibrated(**{option: value})
    msg = str(info.value)
    assert msg.startswith(f"policy option {option}=") and "anchor=none" in msg and "\n" not in msg
    calibrated(anchor="none", **{option: value})  # an absolute ladder takes them


@pytest.mark.parametrize("option, value", [("anchor", "layers"), ("relative_lr", 0), ("relative_lr", "x"),
                                           ("rungs", 0), ("rungs", 1.5)])
def test_out_of_range_anchor_options_name_the_option(option, value):
    with pytest.raises(PolicyOptionError, match=f"^policy option {option}="):
        calibrated(**{option: value})

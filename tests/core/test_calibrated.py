"""The `calibrated` update policy (step size that grows until the correction fits) and the learning warning."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import fakeplugin
from litcore.adapters import AdapterPool, FullFineTune, LoraAdapter
from litcore.cli import main
from litcore.diagnostics import learning_warning
from litcore.errors import LitcoreError
from litcore.experiment import Experiment, ExperimentSpec
from litcore.plugins import build_registry, get_plugin_manager
from litcore.policy import CalibratedConfig, PolicyOptionError, calibrated, every_correction
from litcore.step_size import GrowingStep
from test_policy import ScriptedLearner, _adapter
from test_results_cli import _steps, with_fake  # noqa: F401  (fixture)


class ToyRegression:
    """A real learner: fit the module's output on one input to a target 1.5 away; score exp(-squared error)."""

    def loss(self, module, samples):
        return sum(((module(x) - y) ** 2).mean() for x, y in samples) / len(samples)

    def score(self, module, sample):
        x, y = sample
        return float(torch.exp(-((module(x) - y) ** 2).mean()))


def _toy(kind: str):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    x = torch.ones(1, 4)
    y = net(x).detach() + 1.5
    adapter = {"full": FullFineTune(), "lora": LoraAdapter(), "lora-pool": AdapterPool()}[kind]
    adapter.attach(net, None if kind == "full" else r"0|2")
    return adapter, (x, y)


@pytest.mark.parametrize("kind", ["full", "lora", "lora-pool"])
def test_calibrated_fits_where_the_papers_fixed_step_does_not(kind):
    adapter, sample = _toy(kind)
    learner = adapter.for_update(None, None)
    fixed = every_correction().update(learner, ToyRegression(), sample)
    adapter.reset()
    adapter, sample = _toy(kind)
    learner = adapter.for_update(None, None)
    auto = calibrated().update(learner, ToyRegression(), sample)
    assert fixed.best_score < 0.5 and set(fixed.lrs) == {1e-4}
    assert auto.best_score > 0.9 and auto.final_score == pytest.approx(auto.best_score)  # keeps the best weights
    assert auto.lrs[0] == 1e-4 and max(auto.lrs) == pytest.approx(CalibratedConfig().max_lr)
    assert len(auto.lrs) == auto.steps == len(auto.losses)


def test_step_size_grows_geometrically_while_flat_up_to_the_bound():
    learner = ScriptedLearner([0.1])  # never improves after the first step
    report = calibrated(growth=2.0, max_lr=1e-3, max_steps=8).update(_adapter(), learner, 1)
    assert report.lrs == pytest.approx([1e-4, 1e-4, 2e-4, 4e-4, 8e-4, 1e-3, 1e-3, 1e-3])


def test_step_size_stays_while_the_score_improves_and_once_fitted():
    improving = ScriptedLearner([0.1 * i for i in range(1, 10)])
    assert set(calibrated(max_steps=5).update(_adapter(), improving, 1).lrs) == {1e-4}
    fitted = ScriptedLearner([0.9])  # above min_best_score 0.6 from the first step
    report = calibrated().update(_adapter(), fitted, 1)
    assert set(report.lrs) == {1e-4}
    assert report.steps == 1 + CalibratedConfig().patience  # the paper's early stopping still ends it


def test_a_collapse_backs_the_step_size_off_and_caps_it():
    rule = GrowingStep(1e-4, growth=10.0, max_lr=1.0, min_gain=0.02, fitted=0.6)
    assert rule.observe(0.1, float("-inf"), 0.1) == 1e-4   # gained 0.1 from 0: no growth
    assert rule.observe(0.1, 0.1, 0.1) == pytest.approx(1e-3)
    assert rule.observe(0.4, 0.1, 0.4) == pytest.approx(1e-3)  # improving: keep
    assert rule.observe(0.1, 0.4, 0.4) == pytest.approx(1e-4)  # lost more than half: back off
    assert rule.observe(0.4, 0.4, 0.4) == pytest.approx(1e-4)  # and never above that again


def test_min_gain_decides_what_resets_patience():
    creeping = [0.7 + 0.001 * i for i in range(40)]  # fitted, but each step adds almost nothing
    paper = every_correction().update(_adapter(), ScriptedLearner(creeping), 1)
    auto = calibrated(growth=1.0).update(_adapter(), ScriptedLearner(creeping), 1)
    assert paper.steps == 40  # the paper's rule: any rise resets patience
    assert auto.steps == 1 + CalibratedConfig().patience


def test_the_fixed_policy_records_its_constant_step_size():
    report = every_correction(lr=3e-3, max_steps=4).update(_adapter(), ScriptedLearner([0.1, 0.2]), 1)
    assert report.lrs == [3e-3] * 4


@pytest.mark.parametrize("option, value", [
    ("lr", -1e-3), ("lr", 0), ("lr", "abc"), ("max_steps", 0), ("max_steps", 2.5), ("patience", 0),
    ("weight_decay", -1), ("growth", 0.5), ("max_lr", 1e-5), ("min_gain", -0.1), ("replay", -1),
    ("keep_best", "yes"), ("trigger", "sometimes")])
def test_out_of_range_options_are_one_line_errors_naming_the_option(option, value):
    with pytest.raises(PolicyOptionError) as info:
        calibrated(**{option: value})
    msg = str(info.value)
    assert msg.startswith(f"policy option {option}=") and "\n" not in msg
    assert isinstance(info.value, LitcoreError) and isinstance(info.value, ValueError)


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(PolicyOptionError, match="unknown policy option 'groth'.*growth"):
        calibrated(groth=2)
    with pytest.raises(PolicyOptionError, match="valid options: trigger"):
        every_correction(growth=2)  # the paper's policy has no step-size growth


def _registry():
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fakeplugin, name="fakeplugin")
    return build_registry(pm)


def test_lit_auto_runs_and_records_the_step_sizes(tmp_path):
    exp = Experiment(ExperimentSpec(model="fake", dataset="fake-data", method="lit-auto",
                                    policy_options={"max_steps": 6}), registry=_registry())
    assert (exp.spec.adapter, exp.spec.policy) == ("lora", "calibrated")
    assert exp.manifest()["components"]["policy"]["name"] == "calibrated"
    updates = [r.update for r in exp.records() if getattr(r, "update", None)]
    assert updates
    for u in updates:
        assert u["lr"] <= u["lr_max"] <= CalibratedConfig().max_lr
        assert u["fit"] == (u["best_score"] >= 0.5)


def test_a_bad_policy_option_stops_lit_run_before_any_episode(tmp_path, capsys, with_fake):
    out = tmp_path / "r"
    code = main(["run", "--model", "fake", "--dataset", "fake-data", "--method", "lit-auto",
                 "--policy-opt", "lr=-0.01", "--out", str(out), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "lr=-0.01" in err and len(err.splitlines()) == 1
    assert not (out / "steps.jsonl").exists()


# --- the learning warning -------------------------------------------------------------------


def test_learning_warning_only_when_most_updates_failed_their_correction():
    assert learning_warning({"updates": 0, "updates_unfit": 0}) is None
    assert learning_warning({"updates": 10, "updates_unfit": 5}) is None
    msg = learning_warning({"updates": 10, "updates_unfit": 8})
    assert "8 of 10" in msg and "--policy-opt lr=" in msg and "--method lit-auto" in msg


def test_lit_run_warns_when_learning_did_nothing(tmp_path, capsys, with_fake):
    # two steps at lr 1e-4 cannot fit a correction to 5 (score 1/(1+mse) far below 0.5)
    out = tmp_path / "r"
    assert main(["run", "--model", "fake", "--dataset", "fake-data", "--method", "lit-lora", "--objects", "v1/1",
                 "--policy-opt", "max_steps=2", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    ups = [s["update"] for s in _steps(out) if s["update"]]
    unfit = sum(not u["fit"] for u in ups)
    assert ups and unfit == len(ups)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["updates_unfit"] == unfit
    assert f"{unfit} of {len(ups)} updates" in summary["learning_warning"]
    assert "warning: learning did almost nothing" in printed

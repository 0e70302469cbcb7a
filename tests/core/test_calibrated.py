"""The `calibrated` update policy (step size that grows until the correction fits) and the learning warning."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
import torch
from torch import nn

import fakeplugin
from litcore.adapters import AdapterPool, FullFineTune, LoraAdapter
from litcore.cli import main
from litcore.diagnostics import learning_warning
from litcore.errors import LitcoreError
from litcore.experiment import Experiment, ExperimentSpec
from litcore.plugins import build_registry, get_plugin_manager
from litcore.calibrated import CalibratedConfig
from litcore.calibrated import calibrated as default_calibrated
from litcore.policy import PolicyOptionError, every_correction
from litcore.step_size import CosineStep, GrowingStep
from test_policy import ScriptedLearner, _adapter
from test_results_cli import _steps, with_fake  # noqa: F401  (fixture)


def calibrated(**options):
    """The search over the absolute ladder (`anchor=none`), which most tests here are about; the default,
    weight-anchored step is tested in test_weight_anchor.py and by `default_calibrated` below."""
    return default_calibrated(**{"anchor": "none", **options})


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
    assert auto.best_score > 0.9 and auto.final_score > 0.9
    ladder = CalibratedConfig().ladder()
    assert auto.lrs[:15] == [lr for lr in ladder for _ in range(3)]  # the search's probes, in order
    assert auto.lrs[-1] > 1e-4  # it goes on with a grown step size
    assert len(auto.lrs) == auto.steps == len(auto.losses) <= 40
    adapter, sample = _toy(kind)
    anchored = default_calibrated().update(adapter.for_update(None, None), ToyRegression(), sample)
    assert anchored.best_score > 0.9  # the default (one step size relative to the weights) fits it too


def test_step_size_grows_geometrically_while_flat_up_to_the_bound():
    learner = ScriptedLearner([0.1])  # never improves after the first step
    report = calibrated(search_steps=0, growth=2.0, max_lr=1e-3, max_steps=8).update(_adapter(), learner, 1)
    assert report.lrs == pytest.approx([1e-4, 1e-4, 2e-4, 4e-4, 8e-4, 1e-3, 1e-3, 1e-3])


def test_step_size_stays_while_the_score_improves_and_once_fitted():
    improving = ScriptedLearner([0.1 * i for i in range(1, 10)])
    assert set(calibrated(search_steps=0, max_steps=5).update(_adapter(), improving, 1).lrs) == {1e-4}
    fitted = ScriptedLearner([0.9])  # above min_best_score 0.6 from the first step
    report = calibrated(search_steps=0).update(_adapter(), fitted, 1)
    assert set(report.lrs) == {1e-4}
    assert report.steps == 1 + CalibratedConfig().patience  # the paper's early stopping still ends it


def test_a_step_that_makes_the_fit_worse_backs_off_and_caps_the_step_size():
    rule = GrowingStep(1e-4, growth=10.0, max_lr=1.0, min_gain=0.02, fitted=0.6)
    assert rule.observe(0.1, float("-inf"), 0.1) == 1e-4   # gained 0.1 from 0: no growth
    assert rule.observe(0.1, 0.1, 0.1) == pytest.approx(1e-3)
    assert rule.observe(0.11, 0.1, 0.11) == pytest.approx(1e-2)  # a gain below min_gain is no gain
    assert rule.observe(0.3, 0.11, 0.3) == pytest.approx(1e-2)   # improving: keep
    assert rule.observe(0.2, 0.3, 0.3) == pytest.approx(1e-3)    # worse by more than min_gain: back off
    assert rule.observe(0.2, 0.3, 0.3) == pytest.approx(1e-3)    # and never above that again
    assert rule.observe(0.2, 0.3, 0.3) == pytest.approx(1e-3)


def test_a_worse_step_at_the_starting_lr_keeps_it():
    rule = GrowingStep(1e-4, growth=3.0, max_lr=1e-2, min_gain=0.02, fitted=0.6)
    rule.observe(0.5, float("-inf"), 0.5)
    assert rule.observe(0.3, 0.5, 0.5) == 1e-4


def test_min_gain_decides_what_resets_patience():
    creeping = [0.7 + 0.001 * i for i in range(40)]  # fitted, but each step adds almost nothing
    paper = every_correction().update(_adapter(), ScriptedLearner(creeping), 1)
    auto = calibrated(search_steps=0, growth=1.01).update(_adapter(), ScriptedLearner(creeping), 1)
    coarse = calibrated(search_steps=0, growth=1.01, min_gain=0.02).update(_adapter(), ScriptedLearner(creeping), 1)
    assert paper.steps == 40 and auto.steps == 40  # the paper's rule (lit-auto's too): any rise resets patience
    assert coarse.steps == 1 + CalibratedConfig().patience


class Displacement:
    """A learner whose fit depends only on how far the weights moved: every step moves each one by exactly lr.

    The loss is linear in the trainable weights, so AdamW's normalised step is
    lr per weight; the score peaks when the mean displacement is `peak`.
    """

    def __init__(self, adapter, peak: float, width: float = 4.0) -> None:
        self.initial = {n: p.detach().clone() for n, p in adapter.module.named_parameters() if p.requires_grad}
        self.peak, self.width = peak, width

    def loss(self, module, samples):
        return -sum(p.sum() for p in module.parameters() if p.requires_grad)

    def score(self, module, sample):
        moved = torch.cat([(p.detach() - self.initial[n]).abs().flatten()
                           for n, p in module.named_parameters() if n in self.initial]).mean()
        return float(torch.exp(-torch.log(moved / self.peak) ** 2 / self.width)) if moved > 0 else 0.0


@pytest.mark.parametrize("pick, chosen", [("best", 2.7e-3), ("smallest-fit", 9e-4)])
def test_the_search_probes_each_step_size_from_the_same_weights_and_goes_on_with_the_chosen_one(pick, chosen):
    adapter = _adapter()
    learner = Displacement(adapter, peak=6e-3)  # 3 steps: 9e-4 -> 0.85 (fits), 2.7e-3 -> 0.98 (best)
    report = calibrated(pick=pick, keep_best=True).update(adapter, learner, 1)
    probes = 15 if pick == "best" else 9  # smallest-fit stops probing at the first fit
    assert report.lrs[:probes] == pytest.approx([lr for lr in CalibratedConfig().ladder()[:probes // 3]
                                                 for _ in range(3)])
    assert report.lrs[probes:] and all(lr == pytest.approx(chosen) for lr in report.lrs[probes:])
    assert report.steps == len(report.lrs) <= 40
    # every probe started from the initial weights, so the weights kept are the chosen probe's best
    assert learner.score(adapter.module, 1) == pytest.approx(report.best_score)
    assert report.best_score == pytest.approx(max(learner_scores(chosen)), abs=1e-3)


def learner_scores(lr: float, peak: float = 6e-3, width: float = 4.0, steps: int = 40) -> list[float]:
    import math
    return [math.exp(-math.log(k * lr / peak) ** 2 / width) for k in range(1, steps + 1)]


def test_after_the_search_a_step_that_makes_the_fit_worse_lowers_the_step_size():
    adapter = _adapter()
    learner = Displacement(adapter, peak=6e-3)  # past the peak every further step lowers the score
    report = calibrated(backoff=True, keep_best=True).update(adapter, learner, 1)
    after = report.lrs[15:]
    assert after[0] == pytest.approx(2.7e-3)  # the chosen probe's lr first
    assert min(after) < after[0] and min(after) >= 1e-4 and max(after) <= after[0]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(after, after[1:]))  # only ever lowered
    assert report.final_score == pytest.approx(report.best_score)


def test_settle_goes_on_rungs_below_the_chosen_step_size_and_never_below_lr():
    adapter = _adapter()
    report = calibrated(settle=1, keep_best=True).update(adapter, Displacement(adapter, peak=6e-3), 1)
    assert report.lrs[15:] and all(lr == pytest.approx(9e-4) for lr in report.lrs[15:])  # 2.7e-3 / 3
    low = calibrated(settle=9, max_steps=20).update(_adapter(), ScriptedLearner([0.1]), 1)
    assert all(lr == pytest.approx(1e-4) for lr in low.lrs[15:])  # clipped at the ladder's bottom


def test_search_outside_max_steps_leaves_the_chosen_probe_a_whole_update():
    inside = calibrated(patience=100).update(_adapter(), ScriptedLearner([0.1]), 1)
    outside = calibrated(patience=100, search_in_max_steps=False).update(_adapter(), ScriptedLearner([0.1]), 1)
    assert inside.steps == len(inside.lrs) == 40
    assert outside.steps == len(outside.lrs) == 15 + 40 and outside.lrs[:15] == inside.lrs[:15]


def test_probe_eval_end_ranks_probes_by_where_they_ended_not_by_their_best_step():
    # one-pass probes see the weights after steps 1 and 2 only: at 8.1e-3 the first step lands on the peak
    # (0.997) and the third overshoots it (0.78); 2.7e-3 ends on it (0.997): only the end score sees that
    class OnePass(Displacement):
        def loss_and_score(self, module, samples):  # the score of the weights before the step
            return self.loss(module, samples), self.score(module, samples[-1])

    adapter = _adapter()
    by_best = calibrated(patience=1).update(adapter, OnePass(adapter, peak=9e-3), 1)
    assert by_best.lr == pytest.approx(8.1e-3)
    adapter = _adapter()
    learner = OnePass(adapter, peak=9e-3)
    by_end = calibrated(probe_eval="end", patience=1).update(adapter, learner, 1)
    assert by_end.lr == pytest.approx(2.7e-3) and by_end.lrs[15:] and set(by_end.lrs[15:]) == {by_end.lr}
    assert by_end.best_score > 0.99


def test_cosine_decay_anneals_from_the_chosen_step_size_towards_zero():
    adapter = _adapter()
    policy = calibrated(decay="cosine", patience=40)
    report = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)
    after = report.lrs[15:]
    assert len(after) == 25 and after[0] == pytest.approx(2.7e-3)
    assert all(b < a for a, b in zip(after, after[1:]))  # strictly falling
    assert after[-1] == pytest.approx(2.7e-3 * 0.5 * (1 + math.cos(math.pi * 24 / 25)))
    second = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)  # reuse: anneals over all 40 steps
    assert second.lrs[0] == pytest.approx(2.7e-3) and second.lrs[-1] < second.lrs[0]


@given(lr=st.floats(1e-6, 1.0), steps=st.integers(1, 200))
def test_cosine_step_falls_monotonically_from_lr_to_zero(lr, steps):
    rule = CosineStep(lr, steps)
    seen = [rule.lr] + [rule.observe(0.0, 0.0, 0.0) for _ in range(steps + 3)]
    assert seen[0] == lr and all(0.0 <= b <= a for a, b in zip(seen, seen[1:]))
    assert seen[steps] == pytest.approx(0.0, abs=1e-12 + lr * 1e-12)


def test_reuse_starts_later_updates_at_the_found_step_size_until_one_does_not_fit():
    adapter = _adapter()
    policy = calibrated(reuse=True, max_steps=20)
    first = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)
    assert first.lrs[:15] == pytest.approx([lr for lr in CalibratedConfig().ladder() for _ in range(3)])
    found = first.lrs[-1]
    second = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)  # fits: no search
    assert second.lrs == [found] * second.steps and second.best_score >= 0.6
    unfit = policy.update(adapter, ScriptedLearner([0.1]), 1)  # starts at the found lr, does not fit
    assert set(unfit.lrs) == {found}
    again = policy.update(adapter, ScriptedLearner([0.1]), 1)
    assert again.lrs[:3] == [1e-4] * 3  # so the next update searches again
    policy.reset()  # a new episode searches afresh
    assert policy.update(_adapter(), ScriptedLearner([0.1]), 1).lrs[:3] == [1e-4] * 3


def test_reuse_remembers_the_chosen_step_size_even_when_the_search_used_the_whole_update():
    adapter = _adapter()
    policy = calibrated(max_steps=15)  # 5 step sizes x 3 probe steps: nothing left to go on with
    first = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)
    assert first.steps == 15 and first.lrs[-1] == pytest.approx(8.1e-3)  # the last probe ran last
    assert first.lr == pytest.approx(2.7e-3)  # but the report names the chosen step size
    second = policy.update(adapter, Displacement(adapter, peak=6e-3), 1)
    assert second.lrs and all(lr == pytest.approx(2.7e-3) for lr in second.lrs)  # the chosen one, not the last probe's


def test_when_every_probe_scores_zero_the_lowest_loss_wins():
    class ZeroScore(Displacement):
        def score(self, module, sample):
            return 0.0  # an IoU of 0 at every step size; the (linear) loss falls fastest at the largest

    adapter = _adapter()
    report = calibrated().update(adapter, ZeroScore(adapter, peak=1.0), 1)
    largest = CalibratedConfig().ladder()[-1]
    assert report.lrs[15:] and all(lr == pytest.approx(largest) for lr in report.lrs[15:])
    assert report.steps == 15 + CalibratedConfig().zero_check_step - 3  # the chosen run's zero check still ends it


def test_the_search_gives_up_at_once_when_there_is_no_gradient():
    class Stuck(ScriptedLearner):
        def loss(self, module, samples):
            return 0.0 * sum(p.sum() for p in module.parameters() if p.requires_grad)

    two_pass = calibrated(fast=False).update(_adapter(), Stuck([0.0]), 1)
    assert two_pass.steps == CalibratedConfig().search_steps and two_pass.best_score == 0.0
    one_pass = calibrated().update(_adapter(), Stuck([0.0]), 1)  # `fast` checks the gradient after every step
    assert one_pass.steps == 1 and one_pass.best_score == 0.0


@pytest.mark.parametrize("max_steps, probes", [(20, [1e-4] * 3 + [3e-4] * 3 + [9e-4] * 3 + [2.7e-3] * 3 + [8.1e-3] * 3),
                                               (10, [1e-4] * 2 + [3e-4] * 2 + [9e-4] * 2 + [2.7e-3] * 2 + [8.1e-3] * 2),
                                               (3, [1e-4, 3e-4, 9e-4])])
def test_an_update_never_runs_more_than_max_steps_in_all(max_steps, probes):
    report = calibrated(max_steps=max_steps, fast=False).update(_adapter(), ScriptedLearner([0.1]), 1)
    assert report.steps == len(report.lrs) == max_steps
    assert report.lrs[:len(probes)] == pytest.approx(probes)  # a short update gets a shorter search


def test_the_fixed_policy_records_its_constant_step_size():
    report = every_correction(lr=3e-3, max_steps=4).update(_adapter(), ScriptedLearner([0.1, 0.2]), 1)
    assert report.lrs == [3e-3] * 4


@pytest.mark.parametrize("option, value", [
    ("lr", -1e-3), ("lr", 0), ("lr", "abc"), ("max_steps", 0), ("max_steps", 2.5), ("patience", 0),
    ("weight_decay", -1), ("growth", 0.5), ("growth", 1), ("search_steps", -1), ("search_steps", 2.5),
    ("pick", "worst"), ("decay", "linear"), ("settle", -1), ("settle", 0.5), ("search_in_max_steps", "no"), ("probe_eval", "last"), ("max_lr", 1e-5), ("min_gain", -0.1), ("growth_gain", -0.1), ("replay", -1),
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
    top = CalibratedConfig().ladder(exp.trainer.adapter.weight_scale())[-1]  # relative_lr x the LoRA's weights
    for u in updates:
        assert u["lr"] == pytest.approx(u["lr_max"]) and u["lr_max"] == pytest.approx(top)
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


def test_learning_warning_only_when_most_updates_failed_and_few_proposals_were_accepted():
    quiet = {"updates": 0, "updates_unfit": 0, "user_corrections": 0, "auto_corrections": 0}
    assert learning_warning(quiet) is None
    assert learning_warning({**quiet, "updates": 10, "updates_unfit": 5, "user_corrections": 10}) is None
    # unfit updates but most failing items fixed by proposals (a strict training score): nothing wrong
    assert learning_warning({"updates": 10, "updates_unfit": 10, "user_corrections": 10, "auto_corrections": 90}) is None
    msg = learning_warning({"updates": 10, "updates_unfit": 8, "user_corrections": 10, "auto_corrections": 1})
    assert "8 of 10 updates" in msg and "1 of 11" in msg
    assert "--policy-opt lr=" in msg and "--method lit-auto" in msg and "relative_lr" in msg and "max_lr" in msg


def test_lit_run_warns_when_learning_did_nothing(tmp_path, capsys, with_fake):
    # two steps at lr 1e-4 cannot fit corrections to 9, 8, 7 (score 1/(1+mse) far below 0.5),
    # and the scripted proposals (none, then 0) are never accepted
    out = tmp_path / "r"
    episodes = json.dumps({"e/1": ["g", [[3, 9, None], [2, 8, 0], [1, 7, 0]]]})
    assert main(["run", "--model", "fake", "--dataset", "fake-data", "--dataset-opt", f"episodes={episodes}",
                 "--method", "lit-lora", "--policy-opt", "max_steps=2", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    ups = [s["update"] for s in _steps(out) if s["update"]]
    unfit = sum(not u["fit"] for u in ups)
    assert ups and unfit == len(ups)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["updates_unfit"] == unfit
    assert f"{unfit} of {len(ups)} updates" in summary["learning_warning"]
    assert "warning: learning did almost nothing" in printed

"""Update policies with a scripted learner: stopping rules, fresh optimizers, triggers, replay."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litcore import policy as policy_mod
from litcore.adapters import FullFineTune
from litcore.policy import PolicyConfig, UpdatePolicy, every_correction, first_correction, replay


class ScriptedLearner:
    """`score` replays a script (its last value repeats); `loss` is a real MSE of the module.

    It records the batches it trained on, the samples it scored, the module's mode
    at each call and a snapshot of the adapter's state at each scoring.
    """

    def __init__(self, scores, adapter=None) -> None:
        self.scores = list(scores)
        self.adapter = adapter
        self.batches: list[list] = []
        self.scored: list = []
        self.modes: list[tuple[str, bool]] = []
        self.states: list[dict[str, torch.Tensor]] = []

    def loss(self, module, samples):
        self.batches.append(list(samples))
        self.modes.append(("loss", module.training))
        x = torch.stack([torch.full((3,), float(s)) for s in samples])
        return (module(x) - 1.0).pow(2).mean()

    def score(self, module, sample):
        self.modes.append(("score", module.training))
        self.scored.append(sample)
        if self.adapter is not None:
            self.states.append({k: v.clone() for k, v in self.adapter.state_dict().items()})
        i = len(self.scored) - 1
        return self.scores[min(i, len(self.scores) - 1)]


def _adapter() -> FullFineTune:
    torch.manual_seed(0)
    adapter = FullFineTune()
    adapter.attach(nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1)), None)
    return adapter


def _flat(state):
    return torch.cat([v.flatten() for _, v in sorted(state.items())])


# --- stopping rules ---------------------------------------------------------------


@pytest.mark.parametrize("patience", [3, 10])
def test_early_stop_after_patience_without_improvement(patience):
    cfg = PolicyConfig()
    # improves on steps 1..3, best (0.9 > min_best_score) on step 3, then flat/worse
    script = [0.5, 0.7, 0.9] + [0.9, 0.8] * 30
    learner = ScriptedLearner(script)
    report = UpdatePolicy(patience=patience).update(_adapter(), learner, 1)
    assert report.steps == 3 + patience
    assert len(learner.scored) == report.steps == len(report.losses)
    assert report.best_score == pytest.approx(0.9)
    assert report.steps < cfg.max_steps


def test_no_early_stop_while_best_is_not_above_min_best_score():
    # plateau at 0.6, which is not > min_best_score 0.6
    learner = ScriptedLearner([0.3, 0.6])
    report = UpdatePolicy().update(_adapter(), learner, 1)
    assert report.steps == PolicyConfig().max_steps
    assert report.best_score == pytest.approx(0.6)


def test_stops_at_zero_check_step_when_best_is_zero():
    learner = ScriptedLearner([0.0])
    report = UpdatePolicy().update(_adapter(), learner, 1)
    assert report.steps == PolicyConfig().zero_check_step
    assert report.best_score == 0.0


def test_a_single_nonzero_score_before_the_check_keeps_training():
    learner = ScriptedLearner([0.0, 0.0, 0.01, 0.0])
    report = UpdatePolicy().update(_adapter(), learner, 1)
    assert report.steps == PolicyConfig().max_steps


def test_runs_to_max_steps_when_it_keeps_improving():
    learner = ScriptedLearner([i / 100 for i in range(1, 100)])
    report = UpdatePolicy(max_steps=7).update(_adapter(), learner, 1)
    assert report.steps == 7
    assert report.final_score == pytest.approx(0.07)


def test_update_actually_trains_and_reports():
    adapter = _adapter()
    before = _flat(adapter.state_dict()).clone()
    learner = ScriptedLearner([0.1 * i for i in range(1, 6)])
    report = UpdatePolicy(max_steps=5, lr=1e-2).update(adapter, learner, 2)
    assert not torch.equal(before, _flat(adapter.state_dict()))
    assert adapter.updates == 1 and adapter.trained
    assert report.samples == 1
    assert len(report.losses) == 5 and all(isinstance(v, float) for v in report.losses)
    assert report.losses[-1] < report.losses[0]  # the loss it reports is the one it minimises
    # train mode for the loss, eval mode for scoring, module left in eval mode
    assert {m for k, m in learner.modes if k == "loss"} == {True}
    assert {m for k, m in learner.modes if k == "score"} == {False}
    assert not adapter.module.training
    assert all(s == 2 for s in learner.scored)


def test_a_fresh_adamw_for_every_update(monkeypatch):
    made: list[torch.optim.Optimizer] = []
    real = torch.optim.AdamW

    def counting(*args, **kwargs):
        opt = real(*args, **kwargs)
        made.append(opt)
        return opt

    monkeypatch.setattr(torch.optim, "AdamW", counting)
    adapter = _adapter()
    pol = UpdatePolicy(max_steps=4, lr=3e-3, weight_decay=0.0)
    for sample in (1, 2, 3):
        pol.update(adapter, ScriptedLearner([0.1, 0.2, 0.3, 0.4]), sample)
    assert len(made) == 3
    assert len({id(o) for o in made}) == 3
    for opt in made:
        assert opt.defaults["lr"] == pytest.approx(3e-3) and opt.defaults["weight_decay"] == 0.0
        # each optimizer only ever saw its own 4 steps: state not carried over
        steps = {int(s["step"]) for s in opt.state.values()}
        assert steps == {4}


# --- keep_best --------------------------------------------------------------------


@pytest.mark.parametrize("keep_best", [True, False])
def test_keep_best_restores_the_best_snapshot(keep_best):
    adapter = _adapter()
    script = [0.2, 0.95, 0.3, 0.4, 0.5]
    learner = ScriptedLearner(script, adapter)
    report = UpdatePolicy(max_steps=len(script), lr=1e-2, keep_best=keep_best).update(adapter, learner, 1)
    best_step = script.index(max(script))
    final = _flat(adapter.state_dict())
    if keep_best:
        assert torch.equal(final, _flat(learner.states[best_step]))
        assert report.final_score == pytest.approx(max(script))
    else:
        assert torch.equal(final, _flat(learner.states[-1]))
        assert not torch.equal(final, _flat(learner.states[best_step]))
        assert report.final_score == pytest.approx(script[-1])
    assert report.best_score == pytest.approx(max(script))


# --- triggers and replay ----------------------------------------------------------


def test_first_trigger_updates_once_per_reset():
    adapter = _adapter()
    pol = first_correction(max_steps=2)
    assert pol.name == "first" and pol.config.trigger == "first"
    wants = []
    for sample in range(3):
        wants.append(pol.wants_update(adapter))
        if wants[-1]:
            pol.update(adapter, ScriptedLearner([0.5]), sample)
    assert wants == [True, False, False]
    adapter.reset()
    pol.reset()
    assert pol.wants_update(adapter)


def test_every_trigger_always_wants_an_update():
    adapter = _adapter()
    pol = every_correction(max_steps=1)
    for sample in range(3):
        assert pol.wants_update(adapter)
        pol.update(adapter, ScriptedLearner([0.5]), sample)
    assert adapter.updates == 3


def test_first_cannot_be_overridden_to_every():
    assert first_correction(trigger="every").config.trigger == "first"
    assert replay(trigger="first").config.trigger == "every"


def test_replay_batches_hold_up_to_k_earlier_samples_and_reset_clears_them():
    adapter = _adapter()
    k = 2
    pol = replay(replay=k, max_steps=1)
    assert pol.name == "replay"
    learner = ScriptedLearner([0.5])
    reports = [pol.update(adapter, learner, s) for s in (1, 2, 3, 4)]
    assert learner.batches == [[1], [1, 2], [1, 2, 3], [2, 3, 4]]
    assert [r.samples for r in reports] == [len(b) for b in learner.batches]
    assert learner.scored == [1, 2, 3, 4]  # scored on the new correction only
    pol.reset()
    pol.update(adapter, learner, 5)
    assert learner.batches[-1] == [5]


def test_replay_default_and_no_replay_for_every():
    assert replay().config.replay == 4
    adapter = _adapter()
    pol = every_correction(max_steps=1)
    learner = ScriptedLearner([0.5])
    for s in (1, 2, 3):
        pol.update(adapter, learner, s)
    assert learner.batches == [[1], [2], [3]]


@pytest.mark.parametrize("bad", [{"trigger": "sometimes"}, {"max_steps": 0}, {"nonsense": 1}])
def test_invalid_options_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        UpdatePolicy(**bad)


def test_describe_carries_the_config():
    d = replay(replay=3, lr=5e-4).describe()
    assert d["name"] == "replay" and d["replay"] == 3 and d["lr"] == 5e-4 and d["trigger"] == "every"
    assert policy_mod.PolicyConfig().lr == 1e-4 and PolicyConfig().max_steps == 40


# --- train/eval switching -----------------------------------------------------------


class _FrozenNorm(nn.Module):
    """Overrides train() (as frozen-BatchNorm modules do): the fast switch must defer to it."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 1)
        self.calls: list[bool] = []

    def train(self, mode: bool = True):
        self.calls.append(mode)
        return super().train(mode)

    def forward(self, x):
        return self.lin(x)


def test_every_submodule_trains_during_loss_and_evaluates_during_score():
    adapter = _adapter()
    deep = adapter.module
    learner = ScriptedLearner([0.1, 0.2, 0.3])
    seen: list[tuple[str, set[bool]]] = []
    loss, score = learner.loss, learner.score
    learner.loss = lambda m, s: (seen.append(("loss", {x.training for x in deep.modules()})), loss(m, s))[1]
    learner.score = lambda m, s: (seen.append(("score", {x.training for x in deep.modules()})), score(m, s))[1]
    every_correction(max_steps=3).update(adapter, learner, 0.5)
    assert seen == [("loss", {True}), ("score", {False})] * 3
    assert not any(m.training for m in deep.modules())  # left in eval mode


def test_a_module_with_its_own_train_method_is_switched_through_it():
    adapter = FullFineTune()
    adapter.attach(_FrozenNorm(), None)
    every_correction(max_steps=2).update(adapter, ScriptedLearner([0.1, 0.2]), 0.5)
    assert adapter.module.calls[:4] == [True, False, True, False]

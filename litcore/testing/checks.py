"""The checks behind :class:`litcore.testing.PluginContract`, as plain functions.

Each raises ``AssertionError`` with a message that names the component and
what it got wrong, so they can also be called from any test (or notebook)
without the pytest class.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import torch

from litcore.experiment import Experiment, ExperimentSpec
from litcore.loop import EpisodeRecord, StepRecord
from litcore.options import check_oracle
from litcore.registry import _NAME, Entry, Registry
from litcore.task import Episode, Session, TaskModel
from litcore.types import Action, Item, Review

OUTCOMES = {"unchecked", "ok", "auto", "user", "unfixed", "over-budget"}


def check_registration(reg: Registry, model: str, dataset: str) -> tuple[Entry, Entry]:
    """The model and dataset are registered with valid names, a description, a task and a prediction kind."""
    m, d = reg.get("model", model), reg.get("dataset", dataset)
    for e in (m, d):
        assert _NAME.match(e.name), f"{e.kind} name {e.name!r} is not lowercase [a-z0-9_.-]"
        assert e.description.strip(), f"{e.kind} {e.name!r} (plugin {e.plugin!r}) is registered without a description"
        assert e.task, f"{e.kind} {e.name!r} is registered without task="
    assert m.prediction, f"model {model!r} is registered without prediction= (e.g. 'binary-mask', 'label')"
    assert m.task == d.task, f"model {model!r} is for task {m.task!r}, dataset {dataset!r} for {d.task!r}"
    return m, d


def check_model(model: Any, entry: Entry, reg: Registry) -> Any:
    """A TaskModel of the registered task and prediction kind, whose default oracle takes its predictions."""
    assert isinstance(model, TaskModel), f"model {entry.name!r}: factory returned {type(model).__name__}, not a TaskModel"
    assert model.task == entry.task, f"model {entry.name!r}: task {model.task!r} differs from the registered {entry.task!r}"
    kind = model.prediction_kind
    assert kind in (None, entry.prediction), f"model {entry.name!r}: prediction_kind {kind!r} != registered {entry.prediction!r}"
    assert isinstance(model.adaptable_module(), torch.nn.Module), f"model {entry.name!r}: adaptable_module() is no nn.Module"
    assert model.default_oracle, f"model {entry.name!r} names no default_oracle"
    oracle_entry = reg.get("oracle", model.default_oracle)
    check_oracle(oracle_entry, entry, model)
    for name in ("group_noun", "score_name"):
        assert isinstance(getattr(model, name), str), f"model {entry.name!r}: {name} is not a string"
    return oracle_entry.factory()


def check_dataset(dataset: Any, entry: Entry) -> list[Episode]:
    """task, groups() and episodes(); every episode's group is one of groups(), and the group filter works."""
    assert getattr(dataset, "task", None) == entry.task, f"dataset {entry.name!r}: task attribute != {entry.task!r}"
    groups = list(dataset.groups())
    assert groups and all(isinstance(g, str) for g in groups), f"dataset {entry.name!r}: groups() {groups!r} is empty or not str"
    assert len(set(groups)) == len(groups), f"dataset {entry.name!r}: groups() repeats a name"
    episodes = list(dataset.episodes())
    assert episodes, f"dataset {entry.name!r}: episodes() yields nothing"
    ids = [e.episode_id for e in episodes]
    assert len(set(ids)) == len(ids), f"dataset {entry.name!r}: episode ids repeat"
    for ep in episodes:
        assert isinstance(ep, Episode), f"dataset {entry.name!r}: episodes() yielded {type(ep).__name__}"
        assert ep.group in groups, f"dataset {entry.name!r}: episode {ep.episode_id!r} has group {ep.group!r}, not in groups()"
    first = [e.episode_id for e in dataset.episodes(groups=[groups[0]])]
    assert first == [e.episode_id for e in episodes if e.group == groups[0]], \
        f"dataset {entry.name!r}: episodes(groups=[{groups[0]!r}]) is not that group's episodes"
    return episodes


@dataclass
class Correction:
    """What happened when the contract corrected the first failing item(s) by hand."""

    item: Item
    review: Review
    actions: list[Action]
    corrected: Review
    sample: Any
    proposal_review: Review | None
    accepted_on: Item | None = None   # a second failing item whose proposal was accepted
    items_seen: list[Item] = field(default_factory=list)


def correct_failing_item(model: TaskModel, oracle: Any, episodes: Iterable[Episode]) -> Correction:
    """Open sessions until an item fails; revise it, apply the oracle's actions, take its training sample.

    On a second failing item of the same session the (untrained) adapted
    copy's proposal is accepted, as the loop does for an accepted proposal.
    """
    from litcore.adapters import LoraAdapter

    adapted = LoraAdapter().attach(model.adaptable_module(), model.adapter_targets("lora"))
    found: Correction | None = None
    for episode in episodes:
        session = model.session(episode)
        assert isinstance(session, Session), f"model.session() returned {type(session).__name__}, not a Session"
        seen: list[Item] = []
        try:
            for item in session.items():
                assert isinstance(item, Item), f"Session.items() yielded {type(item).__name__}, not an Item"
                assert not seen or item.index > seen[-1].index, "Session.items() indices do not increase"
                seen.append(item)
                if item.target is None:
                    continue
                review = oracle.review(item.prediction, item.target)
                assert isinstance(review.score, float) and math.isfinite(review.score), \
                    f"oracle score {review.score!r} of item {item.name!r} is not a finite float"
                if review.accepted:
                    continue
                proposal = session.revise(item, adapted)
                proposal_review = None if proposal is None else oracle.review(proposal, item.target)
                if found is not None:  # a second failing item: accept the proposal, as the loop does
                    if proposal is not None:
                        session.accept(item, proposal)
                        found.accepted_on = item
                        return found
                    continue
                actions, prediction = [], item.prediction
                while (action := oracle.next_action(prediction, item.target, actions)) is not None:
                    actions.append(action)
                    prediction = session.apply(item, action)
                    if oracle.review(prediction, item.target).accepted or action.final:
                        break
                found = Correction(item, review, actions, oracle.review(prediction, item.target),
                                   session.training_sample(item), proposal_review, items_seen=seen)
        finally:
            session.close()
        if found is not None:
            return found
    raise AssertionError("no item failed the oracle in the contract's episodes: choose dataset/model options "
                         "with at least one item the model gets wrong")


def check_learner(model: TaskModel, sample: Any, adapter: Any, name: str) -> float:
    """The loss is a finite differentiable scalar whose gradient reaches the adapter; score is a float."""
    targets = model.adapter_targets(name)
    module = adapter.attach(model.adaptable_module(), targets)
    module.train()
    loss = model.loss(module, [sample])
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, f"loss is {type(loss).__name__} {getattr(loss, 'shape', '')}, not a scalar tensor"
    assert loss.requires_grad, f"{name}: the loss does not depend on the adapter's parameters (targets {targets!r})"
    assert math.isfinite(float(loss.detach())), f"{name}: loss {float(loss.detach())} is not finite"
    loss.backward()
    params = dict((n, p) for n, p in module.named_parameters() if p.requires_grad)
    missing = [n for n, p in params.items() if p.grad is None]
    assert not missing, f"{name}: no gradient reaches {missing[:3]} (targets {targets!r})"
    assert any(float(p.grad.abs().sum()) > 0 for p in params.values()), f"{name}: every gradient is zero (targets {targets!r})"
    module.eval()
    with torch.no_grad():
        score = model.score(module, sample)
    assert isinstance(score, float) and math.isfinite(score), f"{name}: score {score!r} is not a finite float"
    return score


def run_records(reg: Registry, spec: ExperimentSpec) -> list[StepRecord | EpisodeRecord]:
    return list(Experiment(spec, reg).records())


def check_run(records: list, reg: Registry, spec: ExperimentSpec, episodes: list[Episode]) -> None:
    """Step records then one episode record per episode; the method's adapter trains iff it is not `none`."""
    ends = [r for r in records if isinstance(r, EpisodeRecord)]
    steps = [r for r in records if isinstance(r, StepRecord)]
    assert [e.episode_id for e in ends] == [e.episode_id for e in episodes], "one EpisodeRecord per episode, in order"
    assert steps, f"{spec.method}: the run produced no StepRecord"
    for end in ends:
        own = [s for s in steps if s.episode_id == end.episode_id]
        assert end.metrics["user_corrections"] == sum(s.outcome == "user" for s in own)
        assert {s.outcome for s in own} <= OUTCOMES, {s.outcome for s in own}
        assert all(isinstance(s.score, float) for s in own if s.checked), "a checked item has no float score"
    method = reg.get("method", spec.method).factory()
    updates = [s for s in steps if s.update is not None]
    if method.adapter == "none":
        assert not updates and not any(s.outcome == "auto" for s in steps), f"{spec.method} trained an adapter"
    elif any(s.outcome == "user" for s in steps):
        assert updates, f"{spec.method}: user corrections but no adapter update"


def comparable(records: list) -> list[dict[str, Any]]:
    """Records without wall-clock times, for same-seed comparisons."""
    out = []
    for r in records:
        d = r.to_json()
        d.pop("seconds", None)
        if isinstance(d.get("update"), dict):
            d["update"] = {k: v for k, v in d["update"].items() if k != "seconds"}
        if isinstance(d.get("metrics"), dict):
            d["metrics"] = {k: v for k, v in d["metrics"].items() if not k.startswith("update_seconds")}
        out.append(d)
    return out

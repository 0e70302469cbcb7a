"""A complete fake task: integer predictions, no real model (for core tests and plugin authors' own tests).

An episode's payload is a list of ``(base_prediction, target, proposal)``
triples. The oracle accepts a prediction only when it equals the target; it
clicks (each click moves the prediction one step toward the target) up to
`max_clicks` times and then paints the target (a final action). A session's
`revise` returns the scripted proposal, so a test decides when the adapter
"becomes correct". Every call a session receives is logged.

It registers through the public hooks (model ``fake``, dataset ``fake-data``,
oracle ``fake-oracle``, command ``fake-hello``; prediction kind ``integer``):
``litcore.testing.registry_with(litcore.testing.fake)`` gives a registry with
it, and it passes :class:`litcore.testing.PluginContract`.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from litcore.hookspecs import hookimpl
from litcore.task import Episode, Session, TaskModel
from litcore.types import Action, Click, Item, MaskAction, Review

TASK = "fake"


class FakeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.body(x)))


class FakeOracle:
    name = "fake-oracle"
    prediction_kind = "integer"

    def __init__(self, max_clicks: int = 3, max_actions: int | None = None) -> None:
        self.max_clicks, self.max_actions = int(max_clicks), max_actions
        self.calls: list[tuple[Any, Any, list[str]]] = []

    def review(self, prediction: Any, target: Any) -> Review:
        return Review(score=1.0 / (1.0 + abs(prediction - target)), accepted=prediction == target)

    def next_action(self, prediction: Any, target: Any, taken: list[Action]) -> Action | None:
        self.calls.append((prediction, target, [a.kind for a in taken]))
        if self.max_actions is not None and len(taken) >= self.max_actions:
            return None
        if sum(a.kind == "click" for a in taken) < self.max_clicks:
            return Click(x=len(taken), y=0, positive=target > prediction)
        return MaskAction(mask=target)


class FakeSession(Session):
    def __init__(self, model: "FakeModel", episode: Episode) -> None:
        self.model, self.episode = model, episode
        self.current: dict[int, Any] = {}
        self.applied: list[tuple[int, str, Any]] = []   # (index, action kind, refined prediction)
        self.revised: list[int] = []
        self.accepted: list[tuple[int, Any]] = []
        self.samples: list[int] = []
        self.closed = False

    def items(self) -> Iterator[Item]:
        for i, (pred, target, _proposal) in enumerate(self.episode.payload):
            if self.model.fail_at is not None and (self.episode.episode_id, i) == tuple(self.model.fail_at):
                raise RuntimeError(f"broken item {i} of {self.episode.episode_id}")
            # draws from all three generators, so records depend on the per-episode seed
            confidence = float(torch.rand(())) + float(np.random.rand()) + random.random()
            self.current[i] = pred
            yield Item(i, f"item{i}", pred, target, confidence=confidence)

    def apply(self, item: Item, action: Action) -> Any:
        if isinstance(action, Click):
            self.current[item.index] += 1 if action.positive else -1
        elif isinstance(action, MaskAction):
            self.current[item.index] = action.mask
        else:
            raise TypeError(type(action).__name__)
        self.applied.append((item.index, action.kind, self.current[item.index]))
        return self.current[item.index]

    def revise(self, item: Item, module: Any) -> Any | None:
        self.revised.append(item.index)
        self.model.modules_seen.append(module)
        return self.episode.payload[item.index][2]

    def accept(self, item: Item, prediction: Any) -> None:
        self.accepted.append((item.index, prediction))

    def training_sample(self, item: Item) -> Any:
        self.samples.append(item.index)
        return torch.randn(1, 4), torch.tensor([[float(item.target)]])

    def close(self) -> None:
        self.closed = True


class FakeModel(TaskModel):
    task = TASK
    default_oracle = "fake-oracle"
    prediction_kind = "integer"

    def __init__(self, fail_at: list | None = None) -> None:
        torch.manual_seed(1234)
        self.net = FakeNet()
        self.fail_at = fail_at
        self.sessions: list[FakeSession] = []
        self.on_session = None          # optional callback(episode) run when a session opens
        self.modules_seen: list[nn.Module] = []   # what `revise` was given

    def adaptable_module(self) -> nn.Module:
        return self.net

    def adapter_targets(self, adapter: str) -> str | None:
        return r"head" if adapter in ("lora", "full") else None

    def session(self, episode: Episode) -> FakeSession:
        if self.on_session is not None:
            self.on_session(episode)
        s = FakeSession(self, episode)
        self.sessions.append(s)
        return s

    def loss(self, module: nn.Module, samples: list[Any]) -> torch.Tensor:
        return sum(((module(x) - y) ** 2).mean() for x, y in samples) / len(samples)

    def score(self, module: nn.Module, sample: Any) -> float:
        x, y = sample
        return float(1.0 / (1.0 + ((module(x) - y) ** 2).mean()))

    def describe(self) -> dict[str, Any]:
        return {"fake": True}


# payloads: (base prediction, target, adapter proposal); target None = unchecked item
DEFAULT_EPISODES = {
    "v1/1": ("v1", [(0, 0, None), (3, 5, None), (1, None, None), (2, 4, 4), (7, 7, None)]),
    "v1/2": ("v1", [(9, 1, 1), (0, 2, 0)]),
    "v2/1": ("v2", [(1, 1, None), (4, 0, None), (2, 3, 3)]),
}


class FakeDataset:
    task = TASK

    def __init__(self, root: str | None = None, episodes: dict | None = None) -> None:
        self.root = root
        self.spec = episodes if episodes is not None else DEFAULT_EPISODES

    def groups(self) -> list[str]:
        return list(dict.fromkeys(group for group, _ in self.spec.values()))

    def episodes(self, *, groups: list[str] | None = None, objects: list[str] | None = None) -> Iterator[Episode]:
        for eid, (group, payload) in self.spec.items():
            if groups and group not in groups:
                continue
            if objects and eid not in objects:
                continue
            yield Episode(eid, group, [tuple(p) for p in payload], {"source": "fake"})


@hookimpl
def litcore_register_models(register):
    register("fake", FakeModel, task=TASK, prediction="integer", description="fake integer task model")


@hookimpl
def litcore_register_datasets(register):
    register("fake-data", FakeDataset, task=TASK, description="scripted fake episodes")


@hookimpl
def litcore_register_oracles(register):
    register("fake-oracle", FakeOracle, task=TASK, prediction="integer", description="clicks toward the target, then paints it")


@hookimpl
def litcore_register_commands(subparsers):
    p = subparsers.add_parser("fake-hello", help="a command added by the fake plugin")
    p.add_argument("--code", type=int, default=0)
    p.set_defaults(func=lambda args: print(f"hello from fake ({args.code})") or args.code)

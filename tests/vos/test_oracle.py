"""The click-then-mask oracle: action budget and review threshold."""

from __future__ import annotations

import numpy as np
import pytest

from litcore.types import Action, Click, MaskAction
from litcore.vos.clicks import ClickThenMaskOracle, next_click


def _target() -> np.ndarray:
    t = np.zeros((12, 16), np.uint8)
    t[3:9, 4:12] = 1
    t[0, :] = 255
    return t


def _drain(oracle, pred, target, limit=20):
    taken = []
    while len(taken) < limit:
        action = oracle.next_action(pred, target, list(taken))
        if action is None:
            return taken
        taken.append(action)
    raise AssertionError(f"oracle never stopped: {taken}")


@pytest.mark.parametrize("max_clicks", [0, 1, 3, 5])
def test_clicks_then_one_mask_then_none(max_clicks):
    target = _target()
    pred = np.zeros(target.shape, bool)
    taken = _drain(ClickThenMaskOracle(tau=0.9, max_clicks=max_clicks), pred, target)
    assert len(taken) == max_clicks + 1
    assert all(isinstance(a, Click) for a in taken[:-1])
    last = taken[-1]
    assert isinstance(last, MaskAction) and last.final
    assert np.array_equal(last.mask, target)
    # the clicks are the protocol's clicks for the current prediction
    assert all(a == next_click(pred, target) for a in taken[:-1])


def test_no_placeable_click_falls_through_to_mask():
    target = _target()
    pred = target == 1  # already perfect: no error region
    oracle = ClickThenMaskOracle(max_clicks=3)
    first = oracle.next_action(pred, target, [])
    assert isinstance(first, MaskAction)
    assert oracle.next_action(pred, target, [first]) is None


def test_only_click_actions_count_towards_the_budget():
    target = _target()
    pred = np.zeros(target.shape, bool)
    oracle = ClickThenMaskOracle(max_clicks=2)
    other = [Action(kind="label"), Action(kind="label"), Action(kind="label")]
    assert isinstance(oracle.next_action(pred, target, other), Click)
    one_click = [next_click(pred, target)]
    assert isinstance(oracle.next_action(pred, target, one_click + other), Click)
    assert isinstance(oracle.next_action(pred, target, one_click * 2), MaskAction)


def test_mask_taken_early_ends_the_dialogue():
    target = _target()
    pred = np.zeros(target.shape, bool)
    oracle = ClickThenMaskOracle(max_clicks=3)
    assert oracle.next_action(pred, target, [MaskAction(mask=target)]) is None


def test_review_threshold():
    target = np.zeros((4, 4), np.uint8)
    target[:, :2] = 1  # 8 object pixels
    half = np.zeros((4, 4), bool)
    half[:2, :2] = True  # IoU 4/8
    r = ClickThenMaskOracle(tau=0.5).review(half, target)
    assert r.score == pytest.approx(0.5) and r.accepted
    assert not ClickThenMaskOracle(tau=0.51).review(half, target).accepted
    assert not ClickThenMaskOracle(tau=1.0).review(half, target).accepted
    perfect = ClickThenMaskOracle(tau=1.0).review(target == 1, target)
    assert perfect.score == 1.0 and perfect.accepted


@pytest.mark.parametrize("kwargs, word", [
    ({"tau": 0.0}, "tau"), ({"tau": -0.2}, "tau"), ({"tau": 1.01}, "tau"), ({"tau": float("nan")}, "tau"),
    ({"max_clicks": -1}, "max_clicks"), ({"max_clicks": 1.5}, "max_clicks"),
])
def test_invalid_parameters(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ClickThenMaskOracle(**kwargs)


def test_name():
    assert ClickThenMaskOracle.name == "mask-clicks" and ClickThenMaskOracle.prediction_kind == "binary-mask"

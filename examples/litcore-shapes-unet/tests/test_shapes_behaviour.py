"""The generated data and the shipped base model behave as the README says."""

import numpy as np
import pytest

from litcore.mask_oracle import click_oracle
from litcore.testing import registry_with
from litcore_shapes import plugin
from litcore_shapes.data import ShapesDataset, make_stream
from litcore_shapes.model import CHECKPOINT, ShapesUNet


def test_streams_are_deterministic_and_splits_differ():
    a, b = make_stream("test", 3), make_stream("test", 3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(make_stream("train", 3)[0], a[0])
    assert a[0].shape == (24, 48, 48, 3) and set(np.unique(a[1])) <= {0, 1} and a[1].sum(axis=(1, 2)).min() > 0


def test_bad_split_is_one_line():
    with pytest.raises(ValueError, match="split 'val'"):
        ShapesDataset(split="val")


def test_shipped_checkpoint_is_small_and_a_useful_base():
    assert CHECKPOINT.stat().st_size < 2_000_000
    model, oracle = ShapesUNet(), click_oracle()
    ok = []
    for ep in ShapesDataset(streams=4).episodes():
        session = model.session(ep)
        ok += [oracle.review(item.prediction, item.target).accepted for item in session.items()]
    assert 0.3 < np.mean(ok) < 0.95  # it fails on some frames (look-alikes), not on all


def test_a_negative_click_removes_a_look_alike():
    model, oracle = ShapesUNet(), click_oracle()
    fixed = []
    for ep in ShapesDataset(streams=4).episodes():
        session = model.session(ep)
        for item in session.items():
            review = oracle.review(item.prediction, item.target)
            action = oracle.next_action(item.prediction, item.target, [])
            if not review.accepted and action.kind == "click":
                after = oracle.review(session.apply(item, action), item.target)
                fixed.append(after.score > review.score)
    assert fixed and np.mean(fixed) > 0.6  # clicks help: the base model reads its click channels


def test_plugin_registers_under_the_core_oracle():
    reg = registry_with(plugin)
    assert reg.get("model", "shapes-unet").prediction == reg.get("oracle", "mask-clicks").prediction
    assert "shapes" in reg.names("dataset", task="shapes")

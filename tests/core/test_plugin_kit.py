"""The plugin kit: methods through a hook, backbone defaults, option checking, oracles by prediction kind."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fakeplugin
from litcore.experiment import Experiment, ExperimentSpec, IncompatibleComponentsError
from litcore.hookspecs import hookimpl
from litcore.methods import Method
from litcore.options import OptionError, check_options, declare_options, fits
from litcore.plugins import build_registry, get_plugin_manager
from litcore.registry import Entry


class _DefaultsModel(fakeplugin.FakeModel):
    """A backbone that asks for its own LoRA rank and step size."""

    def default_adapter_options(self, adapter: str) -> dict[str, Any]:
        return {"rank": 2} if adapter == "lora" else {}

    def default_policy_options(self, policy: str) -> dict[str, Any]:
        return {"lr": 5e-3, "max_steps": 3}


def _kit_plugin(seen: list[str]) -> types.SimpleNamespace:
    @hookimpl
    def litcore_register_models(register):
        register("fake-defaults", _DefaultsModel, task=fakeplugin.TASK, description="fake with defaults")
        register("fake-mask", _MaskModel, task="shapes", prediction="binary-mask", description="binary masks")

    @hookimpl
    def litcore_register_methods(register):
        seen.append("methods")
        register("fast-lora", Method(adapter="lora", policy="every", policy_options={"max_steps": 2}),
                 description="LoRA, two steps")

    return types.SimpleNamespace(litcore_register_models=litcore_register_models,
                                 litcore_register_methods=litcore_register_methods)


class _MaskSession(fakeplugin.FakeSession):
    def apply(self, item, action):
        mask = np.array(self.current[item.index], dtype=bool)
        if action.kind == "click":
            mask[action.y, action.x] = action.positive
        else:
            mask = np.asarray(action.mask) == 1
        self.current[item.index] = mask
        return mask


class _MaskModel(fakeplugin.FakeModel):
    task = "shapes"
    prediction_kind = "binary-mask"
    default_oracle = "mask-clicks"

    def session(self, episode):
        return _MaskSession(self, episode)


class _MaskData(fakeplugin.FakeDataset):
    task = "shapes"

    def episodes(self, *, groups=None, objects=None):
        for ep in super().episodes(groups=groups, objects=objects):
            masks = []
            for base, target, proposal in ep.payload:
                t = None if target is None else np.eye(4, dtype=np.uint8)
                masks.append((np.zeros((4, 4), bool), t, proposal))
            ep.payload = masks
            yield ep


@pytest.fixture
def registry():
    seen: list[str] = []
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fakeplugin, name="fakeplugin")
    pm.register(_kit_plugin(seen), name="kit")
    reg = build_registry(pm)
    reg.registrar("dataset", "kit")("mask-data", _MaskData, task="shapes")
    reg.seen = seen  # type: ignore[attr-defined]
    return reg


def test_a_plugin_method_registers_through_the_hook_and_sets_adapter_and_policy(registry):
    assert registry.seen == ["methods"]
    assert registry.get("method", "fast-lora").plugin == "kit"
    exp = Experiment(ExperimentSpec(model="fake", dataset="fake-data", method="fast-lora"), registry)
    assert (exp.spec.adapter, exp.spec.policy) == ("lora", "every")
    assert exp.trainer.policy.config.max_steps == 2
    assert exp.manifest()["registered"]["method"] == "fast-lora"


def test_backbone_defaults_apply_and_user_options_override_them(registry):
    exp = Experiment(ExperimentSpec(model="fake-defaults", dataset="fake-data", method="lit-lora"), registry)
    assert exp.trainer.adapter.rank == 2
    assert exp.trainer.policy.config.lr == 5e-3 and exp.trainer.policy.config.max_steps == 3
    exp = Experiment(ExperimentSpec(model="fake-defaults", dataset="fake-data", method="lit-lora",
                                    adapter_options={"rank": 3}, policy_options={"lr": 1e-4}), registry)
    assert exp.trainer.adapter.rank == 3 and exp.trainer.policy.config.lr == 1e-4
    assert exp.manifest()["effective_options"]["policy"] == {"lr": 1e-4, "max_steps": 3}


@pytest.mark.parametrize("kind, options, words", [
    ("model", {"fail_att": 1}, ["model 'fake'", "'fail_att'", "did you mean 'fail_at'", "valid options: fail_at"]),
    ("dataset", {"rot": "x"}, ["dataset 'fake-data'", "'rot'", "valid options: episodes, root"]),
    ("policy", {"lr": "abc"}, ["policy 'every'", "'lr' must be float", "'abc'"]),
    ("policy", {"max_step": 3}, ["did you mean 'max_steps'"]),
    ("adapter", {"rank": 1.5}, ["adapter 'lora'", "'rank' must be int"]),
    ("oracle", {"max_click": 1}, ["oracle 'fake-oracle'", "did you mean 'max_clicks'"]),
])
def test_bad_options_fail_in_one_line_before_anything_is_built(registry, kind, options, words):
    spec = ExperimentSpec(model="fake", dataset="fake-data", method="lit-lora", **{f"{kind}_options": options})
    with pytest.raises(OptionError) as info:
        Experiment(spec, registry)
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


def test_a_required_option_is_named(registry):
    entry = Entry("dataset", "needs-root", lambda root, split="val": None, "p")
    with pytest.raises(OptionError, match=r"missing option 'root' \(--root\)"):
        check_options(entry, {"split": "val"})
    check_options(entry, {"root": "/data"})


def test_declared_options_close_a_kwargs_factory():
    def target(alpha: float = 1.0, name: str | None = None):
        return alpha

    def factory(**options):
        return target(**options)

    entry = Entry("model", "m", factory, "p")
    check_options(entry, {"anything": 1})  # undeclared **kwargs: the factory owns the check
    declare_options(factory, target)
    check_options(entry, {"alpha": 2, "name": None})
    with pytest.raises(OptionError, match="valid options: alpha, name"):
        check_options(entry, {"anything": 1})


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.booleans(), st.none()))
def test_float_options_take_numbers_only(value):
    expect = isinstance(value, (int, float)) and not isinstance(value, bool)
    assert fits(value, float) == expect
    assert fits(value, float | None) == (expect or value is None)


def test_a_mask_oracle_serves_any_binary_mask_task(registry):
    exp = Experiment(ExperimentSpec(model="fake-mask", dataset="mask-data", method="baseline"), registry)
    assert exp.manifest()["components"]["oracle"] == "mask-clicks"  # the registered name
    records = list(exp.records())
    assert any(getattr(r, "outcome", None) == "user" for r in records)


def test_an_oracle_for_another_prediction_kind_is_refused(registry):
    registry.registrar("oracle", "kit")("labels-only", fakeplugin.FakeOracle, prediction="label")
    with pytest.raises(IncompatibleComponentsError, match="takes label predictions.*binary-mask"):
        Experiment(ExperimentSpec(model="fake-mask", dataset="mask-data", oracle="labels-only"), registry)


def test_unknown_method_lists_the_registered_ones(registry):
    with pytest.raises(LookupError, match="fast-lora"):
        Experiment(ExperimentSpec(model="fake", dataset="fake-data", method="nope"), registry)

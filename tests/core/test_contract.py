"""litcore.testing: the contract suite on the fake task, and the checks catching broken plugins."""

from __future__ import annotations

import pytest

from litcore.hookspecs import hookimpl
from litcore.testing import PluginContract, checks, fake, plugin_manager_with, registry_with


class TestFakeContract(PluginContract):
    model = "fake"
    dataset = "fake-data"
    plugins = (fake,)


def test_registry_with_loads_only_builtins_and_the_given_plugins():
    reg = registry_with(fake)
    assert reg.get("model", "fake").plugin == "litcore.testing.fake"
    assert "sam2" not in reg.names("model")  # installed entry points stay out
    assert "lit-lora" in reg.names("method")
    pm = plugin_manager_with("litcore.testing.fake", fake)  # a name and the module: registered once
    assert len([p for p in pm.get_plugins() if p is fake]) == 1


def test_registry_with_rejects_a_class():
    class Plugin:
        @hookimpl
        def litcore_register_models(self, register):
            register("m", dict)

    with pytest.raises(TypeError, match="instance"):
        registry_with(Plugin)
    assert registry_with(Plugin()).get("model", "m").plugin.endswith("Plugin")


class _Undescribed:
    @hookimpl
    def litcore_register_models(self, register):
        register("bare", fake.FakeModel, task="fake", prediction="integer")

    @hookimpl
    def litcore_register_datasets(self, register):
        register("bare-data", fake.FakeDataset, task="fake", description="d")


def test_registration_check_catches_a_missing_description_and_prediction():
    reg = registry_with(_Undescribed())
    with pytest.raises(AssertionError, match="without a description"):
        checks.check_registration(reg, "bare", "bare-data")
    reg = registry_with(fake)
    reg._entries["model"]["fake"] = reg.get("model", "fake").__class__(
        **{**reg.get("model", "fake").__dict__, "prediction": None})
    with pytest.raises(AssertionError, match="prediction="):
        checks.check_registration(reg, "fake", "fake-data")


def test_dataset_check_catches_an_episode_outside_groups():
    class Stray(fake.FakeDataset):
        def groups(self):
            return ["v1"]  # v2's episodes are not in any group

    entry = registry_with(fake).get("dataset", "fake-data")
    checks.check_dataset(fake.FakeDataset(), entry)
    with pytest.raises(AssertionError, match="not in groups"):
        checks.check_dataset(Stray(), entry)


def test_correction_check_fails_without_a_failing_item():
    perfect = {"e": ("g", [(1, 1, None), (2, 2, None)])}
    model = fake.FakeModel()
    with pytest.raises(AssertionError, match="no item failed"):
        checks.correct_failing_item(model, fake.FakeOracle(), fake.FakeDataset(episodes=perfect).episodes())


def test_correction_check_sees_an_apply_that_ignores_actions():
    class Deaf(fake.FakeSession):
        def apply(self, item, action):
            return self.current[item.index]  # the correction never lands

    model = fake.FakeModel()
    model.session = lambda episode: Deaf(model, episode)
    c = checks.correct_failing_item(model, fake.FakeOracle(), fake.FakeDataset().episodes())
    assert not c.corrected.accepted and [a.kind for a in c.actions][-1] == "mask"


def test_learner_check_catches_targets_that_get_no_gradient():
    from litcore.adapters import FullFineTune

    model = fake.FakeModel()
    sample = (fake.torch.randn(1, 4), fake.torch.tensor([[1.0]]))
    assert isinstance(checks.check_learner(model, sample, FullFineTune(), "full"), float)
    model.loss = lambda module, samples: (module.body(samples[0][0]) ** 2).mean()  # "head" is the target
    with pytest.raises(AssertionError, match="does not depend on the adapter"):
        checks.check_learner(model, sample, FullFineTune(), "full")
    model.loss = lambda module, samples: sum((p * 0).sum() for p in module.head.parameters())
    with pytest.raises(AssertionError, match="every gradient is zero"):
        checks.check_learner(model, sample, FullFineTune(), "full")

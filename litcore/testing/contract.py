"""The contract-test suite a plugin author runs on their own plugin.

Subclass :class:`PluginContract` in a test module, in a class whose name
starts with ``Test``, and name the registered model and dataset to check::

    from litcore.testing import PluginContract
    import my_plugin

    class TestMyPlugin(PluginContract):
        model = "my-model"
        dataset = "my-data"
        model_options = {"width": 8}          # keep it tiny: seconds, not minutes
        dataset_options = {"streams": 2}
        plugins = (my_plugin,)                 # () = the installed entry points

It checks registration, the dataset protocol, a session on a failing item
(revise, the oracle's actions, accept, the training sample), the learner's
gradients for LoRA and full fine-tuning on the model's default targets, short
`baseline` and `lit-lora` runs, same seed = same records, and that unknown
options are rejected before anything runs. The checks are plain functions in
:mod:`litcore.testing.checks`.
"""

from __future__ import annotations

from typing import Any

import pytest

from litcore.experiment import ExperimentSpec
from litcore.options import OptionError
from litcore.testing import checks
from litcore.testing.registry import registry_with


class PluginContract:
    """Base class of a plugin's contract tests; set the class attributes below in a subclass."""

    model: str = ""
    dataset: str = ""
    model_options: dict[str, Any] = {}
    dataset_options: dict[str, Any] = {}
    plugins: tuple[Any, ...] = ()          # plugin modules/objects; () = built-ins + installed entry points
    groups: list[str] | None = None        # groups of the short runs; None = the dataset's first group
    methods: tuple[str, ...] = ("baseline", "lit-lora")
    adapters: tuple[str, ...] = ("lora", "full")
    policy_options: dict[str, Any] = {"max_steps": 3}   # short updates keep the runs fast
    seed: int = 0

    def prepare_model(self, model: Any) -> Any:
        """Adjust the model used for the session and learner checks (e.g. bias a random-weight head)."""
        return model

    def pytest_generate_tests(self, metafunc) -> None:
        if "contract_adapter" in metafunc.fixturenames:
            metafunc.parametrize("contract_adapter", list(self.adapters))
        if "contract_method" in metafunc.fixturenames:
            metafunc.parametrize("contract_method", list(self.methods))

    # --- fixtures, built once per class ---------------------------------------------

    @pytest.fixture(scope="class")
    def contract_registry(self):
        if not (self.model and self.dataset):
            pytest.fail(f"{type(self).__name__}: set the `model` and `dataset` class attributes")
        if self.plugins:
            return registry_with(*self.plugins)
        from litcore.plugins import build_registry

        return build_registry()

    @pytest.fixture(scope="class")
    def contract_entries(self, contract_registry):
        return checks.check_registration(contract_registry, self.model, self.dataset)

    @pytest.fixture(scope="class")
    def contract_model(self, contract_registry, contract_entries):
        from litcore.options import check_options

        check_options(contract_entries[0], self.model_options)
        return self.prepare_model(contract_registry.create("model", self.model, **self.model_options))

    @pytest.fixture(scope="class")
    def contract_dataset(self, contract_registry, contract_entries):
        return contract_registry.create("dataset", self.dataset, **self.dataset_options)

    @pytest.fixture(scope="class")
    def contract_run_groups(self, contract_dataset):
        return list(self.groups or contract_dataset.groups()[:1])

    @pytest.fixture(scope="class")
    def contract_correction(self, contract_registry, contract_entries, contract_model, contract_dataset,
                            contract_run_groups):
        oracle = checks.check_model(contract_model, contract_entries[0], contract_registry)
        return checks.correct_failing_item(contract_model, oracle, contract_dataset.episodes(groups=contract_run_groups))

    @pytest.fixture(scope="class")
    def contract_runs(self):
        return {}

    def _spec(self, method: str, **overrides: Any) -> ExperimentSpec:
        kw = dict(model=self.model, dataset=self.dataset, method=method, model_options=dict(self.model_options),
                  dataset_options=dict(self.dataset_options), policy_options=dict(self.policy_options),
                  seed=self.seed)
        kw.update(overrides)
        return ExperimentSpec(**kw)

    def _records(self, runs, reg, method: str, groups: list[str]):
        if method not in runs:
            runs[method] = checks.run_records(reg, self._spec(method, groups=groups))
        return runs[method]

    # --- the contract ----------------------------------------------------------------

    def test_registration(self, contract_entries):
        model, dataset = contract_entries
        assert model.kind == "model" and dataset.kind == "dataset"

    def test_model_and_oracle(self, contract_model, contract_entries, contract_registry):
        oracle = checks.check_model(contract_model, contract_entries[0], contract_registry)
        assert hasattr(oracle, "review") and hasattr(oracle, "next_action")

    def test_dataset_protocol(self, contract_dataset, contract_entries):
        checks.check_dataset(contract_dataset, contract_entries[1])

    def test_correction_fixes_a_failing_item(self, contract_correction):
        c = contract_correction
        assert not c.review.accepted and c.actions, "the oracle offered no action on a failing item"
        assert c.corrected.accepted, (f"after the oracle's actions {[a.kind for a in c.actions]} item {c.item.name!r} "
                                      f"still fails (score {c.corrected.score:.3f}): apply() ignores them?")
        assert c.sample is not None, "training_sample() returned None"

    def test_revise_and_accept(self, contract_correction):
        if contract_correction.accepted_on is None:
            pytest.skip("the contract episode has one failing item only (or revise() returns None): accept untested")
        assert contract_correction.accepted_on.index > contract_correction.item.index

    def test_learner_gradients(self, contract_model, contract_correction, contract_registry, contract_adapter):
        options = contract_model.default_adapter_options(contract_adapter)
        adapter = contract_registry.create("adapter", contract_adapter, **options)
        checks.check_learner(contract_model, contract_correction.sample, adapter, contract_adapter)

    def test_short_run(self, contract_registry, contract_dataset, contract_run_groups, contract_runs, contract_method):
        records = self._records(contract_runs, contract_registry, contract_method, contract_run_groups)
        episodes = list(contract_dataset.episodes(groups=contract_run_groups))
        checks.check_run(records, contract_registry, self._spec(contract_method), episodes)

    def test_same_seed_same_records(self, contract_registry, contract_run_groups, contract_runs):
        method = next((m for m in self.methods if m != "baseline"), self.methods[0])
        first = self._records(contract_runs, contract_registry, method, contract_run_groups)
        again = checks.run_records(contract_registry, self._spec(method, groups=contract_run_groups))
        assert checks.comparable(again) == checks.comparable(first), f"{method}: the same seed gave different records"

    @pytest.mark.parametrize("kind", ["model", "dataset"])
    def test_unknown_options_are_rejected(self, contract_registry, kind):
        bad = {**getattr(self, f"{kind}_options"), "no_such_option_xyz": 1}
        with pytest.raises(OptionError, match="no_such_option_xyz"):
            checks.run_records(contract_registry, self._spec(self.methods[0], **{f"{kind}_options": bad}))

"""Executors: local, process and Ray give the same records; a dead worker costs only its group."""

from __future__ import annotations

import os
import sys

import pytest

from litcore import plugins
from litcore.bench import BenchConfig, Component, run_bench
from litcore.executors import make_executor
from litcore.executors.process import ProcessExecutor
from litcore.experiment import Experiment, ExperimentSpec, run_to_dir
from litcore.plugins import build_registry
from runtools import FAKES, manifest, records


@pytest.fixture
def fakes(monkeypatch):
    """The fake plugins as built-ins, here and in every worker; no entry-point plugins (faster workers)."""
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "")
    monkeypatch.delenv("LITCORE_DISABLE_PLUGINS", raising=False)
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, *FAKES))
    return build_registry()


def _spec(**model_options) -> ExperimentSpec:
    return ExperimentSpec(model="fake-flaky", dataset="fake-many", method="lit-lora", policy_options={"max_steps": 2},
                          dataset_options={"groups": 4, "objects": 2}, model_options=model_options, seed=3)


def _run(registry, out, executor=None, spec=None, **kw):
    exe = executor or make_executor("local", registry=registry)
    try:
        return run_to_dir(Experiment(spec or _spec(), registry), out, executor=exe, **kw)
    finally:
        exe.close()


def test_process_executor_gives_the_records_of_the_local_one(tmp_path, fakes):
    _run(fakes, tmp_path / "local")
    _run(fakes, tmp_path / "process", ProcessExecutor(jobs=2))
    local = records(tmp_path / "local")
    assert len(local["episodes"]) == 8 and any(s["update"] for s in local["steps"])  # the adapter trained
    assert records(tmp_path / "process") == local
    assert manifest(tmp_path / "process")["status"] == "complete"


def test_a_killed_worker_costs_only_its_group_and_a_resume_recovers_it(tmp_path, fakes):
    flag = tmp_path / "die"
    spec = _spec(die_flag=str(flag), die_on=["g1/2"])   # the worker holding g1 is SIGKILLed mid-episode
    _run(fakes, tmp_path / "ref", spec=spec)            # local reference: the flag is not there yet
    flag_ref = records(tmp_path / "ref")
    flag.touch()
    summary = _run(fakes, tmp_path / "run", ProcessExecutor(jobs=2), spec=spec, keep_going=True)
    groups = {e["group"] for e in summary["episodes"]}
    assert groups == {"g0", "g2", "g3"}                 # the others finished, after the death
    assert [e["episode_id"] for e in summary["episodes"] if e["group"] == "g1"] == []
    m = manifest(tmp_path / "run")
    assert m["status"] == "failed"
    assert [e["episode_id"] for e in m["errors"]] == ["g1/*"] and "killed by signal 9" in m["errors"][0]["error"]
    flag.unlink()
    _run(fakes, tmp_path / "run", spec=spec, existing="resume")
    assert records(tmp_path / "run") == flag_ref        # g1 rerun, in its place, nothing repeated
    assert manifest(tmp_path / "run")["status"] == "complete"


class _Spy:
    """Wraps an executor and logs when tasks are handed out and results come back."""

    def __init__(self, inner):
        self.inner, self.log = inner, []
        self.in_process, self.name = inner.in_process, inner.name

    def run(self, tasks):
        def pulled():
            for t in tasks:
                self.log.append(("task", t.run))
                yield t
        for result in self.inner.run(pulled()):
            self.log.append(("result", result.run))
            yield result

    def close(self):
        self.inner.close()


def test_bench_sends_the_whole_grid_as_one_pool(tmp_path, fakes):
    def grid(model_options):
        return BenchConfig([Component("fake", "fake-flaky", model_options)],
                           [Component("many", "fake-many", {"groups": 3})],
                           methods=["baseline", "lit-lora"], policy_options={"max_steps": 2}, jf=False)
    run_bench(grid({}), tmp_path / "local", registry=fakes)
    # the first cell's last group waits until 6 episodes have started: its own 5 before it and one of the
    # second cell's, which can only start if the pool hands it out while the first cell is still running
    barrier = {"barrier_dir": str(tmp_path / "marks"), "barrier_on": ["g2/1"], "barrier_count": 6}
    spy = _Spy(ProcessExecutor(jobs=2))
    try:
        assert run_bench(grid(barrier), tmp_path / "pool", registry=fakes, executor=spy) == []
    finally:
        spy.close()
    for method in ("baseline", "lit-lora"):
        assert records(tmp_path / "pool" / "fake" / "many" / method) == \
            records(tmp_path / "local" / "fake" / "many" / method)
    first_task_of_second = spy.log.index(("task", 1))
    last_result_of_first = max(i for i, e in enumerate(spy.log) if e == ("result", 0))
    assert first_task_of_second < last_result_of_first   # the second cell started before the first ended


def test_ray_executor_gives_the_records_of_the_local_one_and_retries_a_lost_worker(tmp_path, fakes, monkeypatch):
    ray = pytest.importorskip("ray")
    flag = tmp_path / "die"
    spec = _spec(die_flag=str(flag), die_on=["g2/1"], die_once=True)
    _run(fakes, tmp_path / "local", spec=spec)
    flag.touch()  # the actor running g2/1 dies once; Ray restarts it and retries the group
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))  # actors import the fakes
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        _run(fakes, tmp_path / "ray", make_executor("ray", jobs=2), spec=spec)
    finally:
        ray.shutdown()
    assert not flag.exists()                            # the death really happened
    assert records(tmp_path / "ray") == records(tmp_path / "local")
    assert manifest(tmp_path / "ray")["status"] == "complete"

"""Result files written per episode, `lit compare`, `lit plugins`, `lit run` and option parsing."""

from __future__ import annotations

import csv
import json
import math
import os

import pytest

import fakeplugin
from litcore import plugins
from litcore.cli import main
from litcore.cli.commands import parse_options
from litcore.experiment import Experiment, ExperimentSpec, run_to_dir
from litcore.loop import EpisodeRecord, StepRecord
from litcore.metrics import CorrectionStats
from litcore.plugins import build_registry, get_plugin_manager
from litcore.results import CSV_FIELDS, SUMMED, RunWriter


@pytest.fixture
def with_fake(monkeypatch):
    """The fake task plugin loaded as a built-in; entry-point plugins as installed."""
    monkeypatch.delenv("LITCORE_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("LITCORE_DISABLE_PLUGINS", raising=False)
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, "fakeplugin"))


def _registry():
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(fakeplugin, name="fakeplugin")
    return build_registry(pm)


def _spec(**kw):
    return ExperimentSpec(model="fake", dataset="fake-data", method="lit-lora",
                          policy_options={"max_steps": 2}, **kw)


def _strict_json(text: str):
    def no_constants(c):
        raise AssertionError(f"non-standard JSON constant {c}")
    return json.loads(text, parse_constant=no_constants)


def _steps(run_dir):
    path = run_dir / "steps.jsonl"
    return [_strict_json(line) for line in path.read_text().splitlines()] if path.exists() else []


def _csv_rows(run_dir):
    with open(run_dir / "episodes.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == CSV_FIELDS
    return [dict(zip(CSV_FIELDS, r)) for r in rows[1:]]


# --- the run directory -----------------------------------------------------------------


def test_writer_writes_manifest_first_and_each_episode_when_it_ends(tmp_path):
    exp = Experiment(_spec(), registry=_registry())
    writer = RunWriter(tmp_path, exp.manifest())
    manifest = _strict_json((tmp_path / "manifest.json").read_text())
    assert manifest["spec"]["model"] == "fake" and manifest["spec"]["adapter"] == "lora"
    assert "torch" in manifest["versions"] and manifest["components"]["adapter"]["name"] == "lora"
    assert _steps(tmp_path) == [] and _csv_rows(tmp_path) == []
    assert _strict_json((tmp_path / "summary.json").read_text())["episodes"] == []

    done: list[str] = []
    pending: dict[str, int] = {}
    for rec in exp.records():
        writer.write(rec)
        if isinstance(rec, StepRecord):
            pending[rec.episode_id] = pending.get(rec.episode_id, 0) + 1
            # nothing of an unfinished episode is on disk
            assert {s["episode_id"] for s in _steps(tmp_path)} == set(done)
            continue
        done.append(rec.episode_id)
        steps = _steps(tmp_path)
        assert [s["episode_id"] for s in steps] == [e for e in done for _ in range(pending[e])]
        assert [r["episode_id"] for r in _csv_rows(tmp_path)] == done
        summary = _strict_json((tmp_path / "summary.json").read_text())
        assert [e["episode_id"] for e in summary["episodes"]] == done
    assert done == ["v1/1", "v1/2", "v2/1"]


def test_crash_in_second_episode_keeps_the_first(tmp_path):
    exp = Experiment(_spec(model_options={"fail_at": ["v1/2", 1]}), registry=_registry())
    with pytest.raises(RuntimeError, match="broken item 1"):
        run_to_dir(exp, tmp_path)
    steps = _steps(tmp_path)
    n_items = len(fakeplugin.DEFAULT_EPISODES["v1/1"][1])
    assert [s["episode_id"] for s in steps] == ["v1/1"] * n_items
    assert [s["index"] for s in steps] == list(range(n_items))
    assert [r["episode_id"] for r in _csv_rows(tmp_path)] == ["v1/1"]
    summary = _strict_json((tmp_path / "summary.json").read_text())
    assert [e["episode_id"] for e in summary["episodes"]] == ["v1/1"]
    errors = _strict_json((tmp_path / "manifest.json").read_text())["errors"]
    assert len(errors) == 1 and errors[0]["episode_id"] == "v1/2" and "broken item 1" in errors[0]["error"]


def test_keep_going_records_the_error_and_drops_the_partial_episode(tmp_path):
    exp = Experiment(_spec(model_options={"fail_at": ["v1/2", 1]}), registry=_registry())
    summary = run_to_dir(exp, tmp_path, keep_going=True)
    assert [e["episode_id"] for e in summary["episodes"]] == ["v1/1", "v2/1"]
    assert {s["episode_id"] for s in _steps(tmp_path)} == {"v1/1", "v2/1"}
    errors = _strict_json((tmp_path / "manifest.json").read_text())["errors"]
    assert [e["episode_id"] for e in errors] == ["v1/2"]


def _episode(eid, group, users, clicks=0, auto=0, j=0.8, seconds=1.0):
    metrics = CorrectionStats().compute()
    metrics.update(checked=users + auto + 1, user_corrections=users, clicks=clicks, point_corrections=users,
                   auto_corrections=auto, J=j)
    return EpisodeRecord(eid, group, metrics, seconds)


def _write_run(run_dir, episodes):
    w = RunWriter(run_dir, {"spec": {"name": run_dir.name}})
    for ep in episodes:
        w.write(StepRecord(ep.episode_id, ep.group, 0, "f0", True, "ok", score=1.0, final_score=1.0))
        w.write(ep)
    w.finish("complete")
    return w


def test_summary_sums_per_group_and_writes_nan_as_null(tmp_path):
    eps = [_episode("a/1", "a", 3, clicks=5, auto=1, j=0.5), _episode("a/2", "a", 2, clicks=1, j=float("nan")),
           _episode("b/1", "b", 4, clicks=7, auto=2, j=0.9)]
    _write_run(tmp_path, eps)
    text = (tmp_path / "summary.json").read_text()
    summary = _strict_json(text)
    for g in ("a", "b"):
        mine = [e for e in eps if e.group == g]
        for k in SUMMED:
            assert summary["groups"][g][k] == pytest.approx(sum(e.metrics[k] for e in mine)), (g, k)
        assert summary["groups"][g]["episodes"] == len(mine)
        js = [e.metrics["J"] for e in mine if not math.isnan(e.metrics["J"])]
        assert summary["groups"][g]["J"] == pytest.approx(sum(js) / len(js))
    assert summary["episodes"][1]["J"] is None
    t = summary["totals"]
    assert t["user_corrections"] == sum(e.metrics["user_corrections"] for e in eps)
    assert t["groups"] == 2 and t["episodes"] == 3
    assert t["user_corrections_per_group"] == pytest.approx(t["user_corrections"] / 2)
    assert t["J"] == pytest.approx((0.5 + 0.9) / 2)
    assert [r["J"] for r in _csv_rows(tmp_path)] == ["0.5000", "", "0.9000"]


def test_steps_with_nan_scores_are_valid_json(tmp_path):
    w = RunWriter(tmp_path, {})
    w.write(StepRecord("e/1", "e", 0, "f0", True, "user", score=float("nan"), final_score=1.0))
    w.write(_episode("e/1", "e", 1))
    (row,) = _steps(tmp_path)
    assert row["score"] is None and row["final_score"] == 1.0


# --- lit compare --------------------------------------------------------------------------


def _table(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("|") and not line.startswith("|-"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_compare_prints_groups_totals_and_reduction(tmp_path, capsys, with_fake):
    base_users = {"bear": [3, 2], "car": [4]}
    lit_users = {"bear": [1, 1], "car": [1]}
    for name, users in (("baseline", base_users), ("lit", lit_users)):
        _write_run(tmp_path / name, [_episode(f"{g}/{i}", g, u, clicks=2 * u)
                                     for g, us in users.items() for i, u in enumerate(us)])
    code = main(["compare", str(tmp_path / "baseline"), str(tmp_path / "lit"), "--csv", str(tmp_path / "t.csv")])
    assert code == 0
    rows = _table(capsys.readouterr().out)
    assert rows["group"] == ["baseline", "lit"]  # the manifests name no group noun
    for g in base_users:
        assert rows[g] == [str(sum(base_users[g])), str(sum(lit_users[g]))]
    tot_b = sum(map(sum, base_users.values()))
    tot_l = sum(map(sum, lit_users.values()))
    assert rows["**total corrections**"] == [str(tot_b), str(tot_l)]
    assert rows["clicks"] == [str(2 * tot_b), str(2 * tot_l)]
    assert rows["per group"] == [f"{tot_b / 2:.3f}", f"{tot_l / 2:.3f}"]
    assert rows["reduction vs first"] == ["-", f"{100 * (tot_b - tot_l) / tot_b:.1f}%"]
    with open(tmp_path / "t.csv", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["group", "baseline", "lit"]
    assert table[-1] == ["TOTAL", str(tot_b), str(tot_l)]
    assert {r[0]: r[1:] for r in table[1:-1]} == {g: [str(sum(base_users[g])), str(sum(lit_users[g]))]
                                                   for g in base_users}


def test_compare_refuses_runs_over_different_episodes_unless_allowed(tmp_path, capsys, with_fake):
    _write_run(tmp_path / "r1", [_episode("x/1", "x", 2), _episode("y/1", "y", 1)])
    _write_run(tmp_path / "r2", [_episode("x/1", "x", 0)])
    assert main(["compare", str(tmp_path / "r1"), str(tmp_path / "r2")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "y/1 (r2: missing)" in captured.err and "--allow-incomplete" in captured.err
    assert main(["compare", str(tmp_path / "r1"), str(tmp_path / "r2"), "--allow-incomplete"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("> compared on 1 of 2 episodes finished in every run; left out: y/1 (r2: missing)")
    rows = _table(out)
    assert "y" not in rows and rows["x"] == ["2", "0"]  # y/1 is not counted in r1's total either
    assert rows["**total corrections**"] == ["2", "0"]
    assert rows["reduction vs first"][1] == "100.0%"


def test_compare_errors_are_user_errors(tmp_path, capsys, with_fake):
    _write_run(tmp_path / "r1", [_episode("x/1", "x", 2)])
    assert main(["compare", str(tmp_path / "r1")]) == 2
    assert "at least two" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(tmp_path / "r1"), str(tmp_path / "empty")]) == 2
    assert "summary.json" in capsys.readouterr().err


# --- lit plugins ---------------------------------------------------------------------------


def test_plugins_command_names_each_plugin_and_its_components(capsys, with_fake):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    blocks: dict[str, set[str]] = {}
    header = None
    for line in out.splitlines():
        if not line.startswith(" "):
            header = line.split()[0]
            blocks[header] = set()
        else:
            blocks[header].add(line.strip())
    reg = build_registry(get_plugin_manager())
    expected: dict[str, set[str]] = {}
    plural = {"policy": "policies"}
    for plugin in {e.plugin for e in reg.entries()}:
        mine = [e for e in reg.entries() if e.plugin == plugin]
        expected[plugin] = {f"{plural.get(e.kind, e.kind + 's')}:" for e in mine}
        for e in mine:  # each component on its own line, with its tags and description
            tags = ", ".join(t for t in (e.task, e.prediction) if t)
            expected[plugin].add(e.name + (f" [{tags}]" if tags else "") + (f": {e.description}" if e.description else ""))
    assert {"litcore.builtins", "litcore.vos.plugin", "sam2", "fakeplugin"} <= set(blocks)
    for plugin, lines in expected.items():
        assert blocks[plugin] == lines
    assert "models:" in blocks["fakeplugin"] and any(line.startswith("fake [fake, integer]") for line in blocks["fakeplugin"])
    assert any("SAM2 video predictor" in line for line in blocks["sam2"])


def test_plugins_command_json(capsys, with_fake):
    assert main(["plugins", "--json"]) == 0
    infos = {i["name"]: i for i in _strict_json(capsys.readouterr().out)}
    fake = {(c["kind"], c["name"]) for c in infos["fakeplugin"]["components"]}
    assert fake == {("model", "fake"), ("dataset", "fake-data"), ("oracle", "fake-oracle")}
    assert "litcore_register_commands" in infos["fakeplugin"]["hooks"]
    sam2 = infos["sam2"]["components"]
    model = [c for c in sam2 if c["kind"] == "model"]
    assert [(c["name"], c["task"], c["prediction"]) for c in model] == [("sam2", "vos", "binary-mask")]
    assert "SAM2" in model[0]["description"]


def test_plugin_commands_are_added_to_lit(capsys, with_fake):
    assert main(["fake-hello", "--code", "3"]) == 3
    assert "hello from fake (3)" in capsys.readouterr().out


def test_bad_plugin_selection_is_a_user_error(capsys, monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "nope")
    assert main(["plugins"]) == 2
    assert "'nope'" in capsys.readouterr().err


# --- lit run ----------------------------------------------------------------------------------


def test_run_with_unknown_model_fails_with_the_available_names(tmp_path, capsys, with_fake):
    code = main(["run", "--model", "nope", "--dataset", "fake-data", "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "fake" in err and "sam2" in err
    assert not (tmp_path / "r").exists()


def test_run_with_components_of_different_tasks_is_refused(tmp_path, capsys, with_fake):
    code = main(["run", "--model", "fake", "--dataset", "synth", "--out", str(tmp_path / "r"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "fake" in err and "vos" in err


def test_run_writes_a_complete_run_directory(tmp_path, capsys, with_fake):
    out = tmp_path / "run"
    code = main(["run", "--model", "fake", "--dataset", "fake-data", "--method", "lit-lora",
                 "--policy-opt", "max_steps=2", "--adapter-opt", "rank=2", "--videos", "v1",
                 "--seed", "5", "--out", str(out), "--quiet"])
    assert code == 0
    stdout = capsys.readouterr().out
    manifest = _strict_json((out / "manifest.json").read_text())
    spec = manifest["spec"]
    assert (spec["adapter"], spec["policy"], spec["seed"], spec["groups"]) == ("lora", "every", 5, ["v1"])
    assert spec["policy_options"] == {"max_steps": 2} and spec["adapter_options"] == {"rank": 2}
    assert manifest["components"]["adapter"]["rank"] == 2
    assert manifest["components"]["oracle"] == "fake-oracle"  # the model's default oracle
    steps = _steps(out)
    assert {s["group"] for s in steps} == {"v1"}
    summary = _strict_json((out / "summary.json").read_text())
    t = summary["totals"]
    assert t["episodes"] == 2 and t["groups"] == 1
    assert t["user_corrections"] == sum(s["outcome"] == "user" for s in steps)
    assert t["auto_corrections"] == sum(s["outcome"] == "auto" for s in steps)
    assert t["clicks"] == sum(s["clicks"] for s in steps)
    assert f"{t['episodes']} episodes" in stdout and f"{t['user_corrections']} user corrections" in stdout
    assert str(out) in stdout


# --- option parsing ------------------------------------------------------------------------


def test_parse_options_types():
    opts = parse_options(["n=3", "x=2.5", "neg=-1", "yes=true", "no=false", "none=null", "s=hello",
                          "q=\"7\"", "lst=[1, 2]", "eq=a=b", "empty=", " key =1", "path=/tmp/x.pt"])
    assert opts == {"n": 3, "x": 2.5, "neg": -1, "yes": True, "no": False, "none": None, "s": "hello",
                    "q": "7", "lst": [1, 2], "eq": "a=b", "empty": "", "key": 1, "path": "/tmp/x.pt"}
    assert isinstance(opts["n"], int) and isinstance(opts["x"], float) and opts["yes"] is True
    assert parse_options(None) == {} and parse_options([]) == {}


def test_parse_options_rejects_pairs_without_equals():
    with pytest.raises(ValueError, match="key=value"):
        parse_options(["rank4"])


def test_demo_cli_passes_jobs_and_options_to_the_task_runner(tmp_path, monkeypatch):
    from litcore.cli import commands
    from litcore.registry import Registry

    calls = []
    reg = Registry()
    reg.registrar("demo", "test")("fake", lambda out, **kw: calls.append((out, kw)) or {})
    monkeypatch.setattr(commands, "build_registry", lambda *a: reg)
    assert main(["demo", "--task", "fake", "--out", str(tmp_path), "--videos", "3", "--jobs", "2",
                 "--policy-opt", "lr=0.001", "--model-opt", "object_score_loss=1", "--tau", "0.75", "--quiet"]) == 0
    assert main(["demo", "--task", "fake", "--out", str(tmp_path)]) == 0
    (out, kw), (_, plain) = calls
    assert out == str(tmp_path)
    assert kw["videos"] == 3 and kw["jobs"] == 2 and kw["quiet"] is True
    assert kw["policy_options"] == {"lr": 0.001} and kw["model_options"] == {"object_score_loss": 1}
    assert kw["oracle_options"] == {"tau": 0.75}
    assert "videos" not in plain and "policy_options" not in plain and "oracle_options" not in plain
    assert plain["jobs"] == (os.cpu_count() or 1)


def test_compare_names_groups_with_the_task_models_noun(tmp_path, capsys):
    for name in ("a", "b"):
        exp = Experiment(_spec(), registry=_registry())
        exp.model.group_noun = "stream"
        run_to_dir(exp, tmp_path / name)
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["group_noun"] == "stream"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    rows = _table(capsys.readouterr().out)
    assert rows["stream"] == ["a", "b"] and "per stream" in rows and "video" not in rows


@pytest.mark.parametrize("kind, masks", [("binary-mask", True), ("label", False)])
def test_compare_names_the_score_row_by_the_task_and_shows_masks_only_for_mask_tasks(tmp_path, capsys, kind, masks):
    for name in ("a", "b"):
        exp = Experiment(_spec(), registry=_registry())
        exp.model.score_name, exp.model.prediction_kind = "accuracy", kind
        run_to_dir(exp, tmp_path / name)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    rows = _table(capsys.readouterr().out)
    assert "accuracy" in rows and "J" not in rows
    assert ("mask_corrections" in rows) == masks and ("clicks" in rows) == masks

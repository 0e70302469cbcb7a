"""Failures are never hidden: --keep-going exits non-zero, compare and bench tables use common episodes only."""

from __future__ import annotations

import json

import pytest

from litcore import plugins
from litcore.cli import main
from runtools import FAKES, manifest


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "")
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, *FAKES))


def _run(out, method, *extra):
    return main(["run", "--model", "fake-flaky", "--dataset", "fake-many", "--dataset-opt", "groups=3",
                 "--method", method, "--policy-opt", "max_steps=2", "--quiet", "--out", str(out), *extra])


def test_keep_going_finishes_the_others_then_exits_non_zero_with_one_line_per_failure(tmp_path, fakes, capsys):
    flag = tmp_path / "fail"
    flag.touch()
    fail = ["--model-opt", f"fail_flag={flag}", "--model-opt", 'fail_on=["g0/2", "g2/1"]', "--keep-going"]
    assert _run(tmp_path / "run", "baseline", *fail) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if line.startswith("lit: failed: ")] == [
        "lit: failed: g0/2: RuntimeError: flaky failure in g0/2",
        "lit: failed: g2/1: RuntimeError: flaky failure in g2/1"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [e["episode_id"] for e in summary["episodes"]] == ["g0/1", "g1/1", "g1/2"]  # g2/2 never ran: g2 stopped
    assert manifest(tmp_path / "run")["status"] == "failed"
    flag.unlink()
    assert _run(tmp_path / "run", "baseline", *fail, "--resume") == 0  # reruns exactly the failed ones
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [e["episode_id"] for e in summary["episodes"]] == ["g0/1", "g0/2", "g1/1", "g1/2", "g2/1", "g2/2"]
    assert manifest(tmp_path / "run")["status"] == "complete" and "errors" not in manifest(tmp_path / "run")


def test_compare_refuses_failed_and_unfinished_runs_and_lists_what_it_leaves_out(tmp_path, fakes, capsys):
    assert _run(tmp_path / "base", "baseline") == 0
    flag = tmp_path / "fail"
    flag.touch()
    assert _run(tmp_path / "lit", "lit-lora", "--model-opt", f"fail_flag={flag}", "--model-opt",
                'fail_on=["g1/1"]', "--keep-going") == 1
    capsys.readouterr()
    runs = [str(tmp_path / "base"), str(tmp_path / "lit")]
    assert main(["compare", *runs]) == 2
    err = capsys.readouterr().err
    assert "g1/1 (lit: failed)" in err and "not complete: lit" in err and len(err.strip().splitlines()) == 1
    assert main(["compare", *runs, "--allow-incomplete"]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[0]
    assert head.startswith("> compared on 4 of 6 episodes") and "g1/1 (lit: failed); g1/2 (lit: unfinished)" in head
    assert not any(line.startswith("| g1 ") for line in out.splitlines())  # not in baseline's totals either
    base = json.loads((tmp_path / "base" / "summary.json").read_text())
    kept = sum(e["user_corrections"] for e in base["episodes"] if not e["episode_id"].startswith("g1/"))
    total = next(line for line in out.splitlines() if line.startswith("| **total corrections**"))
    assert total.split("|")[2].strip() == str(kept)
    # a run that is still running (or was killed) is unfinished
    m = manifest(tmp_path / "base")
    m["status"] = "running"
    (tmp_path / "base" / "manifest.json").write_text(json.dumps(m))
    assert main(["compare", *runs]) == 2
    assert "not complete: base, lit" in capsys.readouterr().err
    # nothing in common: an error even with the flag
    flag2 = tmp_path / "all"
    flag2.touch()
    every = json.dumps([f"g{g}/{o}" for g in range(3) for o in (1, 2)])
    assert _run(tmp_path / "none", "lit-lora", "--model-opt", f"fail_flag={flag2}", "--model-opt",
                f"fail_on={every}", "--keep-going") == 1
    capsys.readouterr()
    assert main(["compare", runs[0], str(tmp_path / "none"), "--allow-incomplete"]) == 2
    assert "no episode is finished in every run" in capsys.readouterr().err


def test_bench_reports_failures_and_resume_reruns_the_failed_cell(tmp_path, fakes, capsys):
    flag = tmp_path / "fail"
    flag.touch()
    bench = ["bench", "--model", "fake-flaky", "--dataset", "fake-many", "--dataset-opt", "groups=2",
             "--model-opt", f"fail_flag={flag}", "--model-opt", 'fail_on=["g1/2"]', "--methods", "baseline,lit-lora",
             "--policy-opt", "max_steps=2", "--no-jf", "--keep-going", "--quiet", "--out", str(tmp_path / "b")]
    assert main(bench) == 1
    err = capsys.readouterr().err
    assert "lit: failed: fake-flaky/fake-many/baseline: g1/2: RuntimeError: flaky failure in g1/2" in err
    report = (tmp_path / "b" / "report.md").read_text()
    assert "## Failures and incomplete runs" in report
    assert "failed in fake-many/fake-flaky/lit-lora: g1/2: RuntimeError: flaky failure in g1/2" in report
    assert "> fake-many: compared on 3 of 4 episodes finished in every run; left out: g1/2" in report
    main_rows = (tmp_path / "b" / "tables" / "main.csv").read_text().splitlines()
    assert main_rows[1].split(",")[3] == "3"           # objects: the 3 common episodes, not 4
    capsys.readouterr()
    assert main(bench) == 2                             # no silent rerun over the old cells
    flag.unlink()
    assert main(bench + ["--resume"]) == 0
    report = (tmp_path / "b" / "report.md").read_text()
    assert "Failures" not in report and "compared on" not in report
    for method in ("baseline", "lit-lora"):
        m = manifest(tmp_path / "b" / "fake-flaky" / "fake-many" / method)
        assert m["status"] == "complete" and m["attempts"] == 2

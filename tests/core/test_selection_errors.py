"""One-line errors a plugin author meets first, on a task-neutral (fake) plugin: found by a newcomer's trial."""

from __future__ import annotations

import pytest
from torch import nn

from litcore.adapters import FullFineTune, LoraAdapter
from litcore.adapters.base import AdapterError
from litcore.cli import main
from test_results_cli import with_fake  # noqa: F401  (fixture)


def _fail(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lit: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_unknown_group_of_any_dataset_is_refused_before_a_run(tmp_path, capsys, with_fake):
    err = _fail(capsys, "run", "--model", "fake", "--dataset", "fake-data", "--groups", "v1,v9",
                "--out", str(tmp_path / "r"), "--quiet")
    assert "--groups: unknown group 'v9'" in err and "available: v1, v2" in err
    assert not (tmp_path / "r" / "steps.jsonl").exists()


def test_a_selection_that_gives_no_episode_exits_2(tmp_path, capsys, with_fake):
    err = _fail(capsys, "run", "--model", "fake", "--dataset", "fake-data", "--objects", "nowhere",
                "--out", str(tmp_path / "r"), "--quiet")
    assert "no episode ran" in err and "'fake-data'" in err


def test_a_misspelt_component_name_gets_a_suggestion(tmp_path, capsys, with_fake):
    err = _fail(capsys, "run", "--model", "fake", "--dataset", "fake-data", "--method", "lit-lorra",
                "--out", str(tmp_path / "r"), "--quiet")
    assert "unknown method 'lit-lorra' (did you mean 'lit-lora'?)" in err


def test_threads_below_one_are_refused(tmp_path, capsys, with_fake):
    err = _fail(capsys, "run", "--threads", "0", "--model", "fake", "--dataset", "fake-data",
                "--out", str(tmp_path / "r"), "--quiet")
    assert "--threads must be at least 1, not 0" in err


@pytest.mark.parametrize("adapter", [LoraAdapter, FullFineTune])
def test_a_target_that_is_not_a_regex_or_matches_nothing_is_one_line_naming_what_there_is(adapter):
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with pytest.raises(AdapterError, match=r"^adapter targets: \(0 is not a regular expression \(missing \)"):
        adapter().attach(net, "(0")
    with pytest.raises(AdapterError) as info:
        adapter().attach(net, r"decoder\.conv")
    msg = str(info.value)
    assert "matches decoder\\.conv " in msg and "e.g. 0, 1, 2)" in msg and "\n" not in msg

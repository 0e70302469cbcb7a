"""`--jobs N` splits videos over worker processes and must not change a single record."""

from __future__ import annotations

import json

from litcore.cli import main
from litcore.vos.davis import write_davis


def _untimed(rows: list[dict]) -> list[dict]:
    """Records without wall-clock fields (the only thing allowed to differ)."""
    out = []
    for row in rows:
        row = dict(row)
        row.pop("seconds", None)
        if row.get("update"):
            row["update"] = {k: v for k, v in row["update"].items() if k != "seconds"}
        out.append(row)
    return out


def _steps(d) -> list[dict]:
    return [json.loads(line) for line in (d / "steps.jsonl").read_text().splitlines()]


def test_two_jobs_give_the_records_of_one(tmp_path, make_video, capsys):
    root = tmp_path / "davis"
    for name, seed in (("alpha", 0), ("beta", 1), ("gamma", 2)):
        write_davis(make_video(name, frames=4, seed=seed), root)
    common = ["run", "--model", "sam2", "--dataset", "davis", "--root", str(root), "--model-opt", "checkpoint=null",
              "--model-opt", "image_size=64", "--method", "lit-lora", "--policy-opt", "max_steps=3", "--quiet",
              "--threads", "1"]
    assert main(common + ["--out", str(tmp_path / "one")]) == 0
    assert main(common + ["--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    capsys.readouterr()
    one, two = _steps(tmp_path / "one"), _steps(tmp_path / "two")
    assert [s["group"] for s in two] == [s["group"] for s in one]  # same order: alpha, beta, gamma
    assert {s["group"] for s in one} == {"alpha", "beta", "gamma"}
    assert any(s["update"] for s in one)  # the adapter really trained, so the records carry updates
    assert _untimed(two) == _untimed(one)
    s1, s2 = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "two"))
    assert s2["totals"]["user_corrections"] == s1["totals"]["user_corrections"]


def test_a_broken_video_in_a_worker_names_the_file_and_keeps_the_others(tmp_path, make_video, capsys):
    root = tmp_path / "davis"
    write_davis(make_video("abc", frames=3), root)
    write_davis(make_video("broken", frames=3, seed=2), root)
    write_davis(make_video("good", frames=3, seed=3), root)
    (root / "JPEGImages" / "broken" / "00001.jpg").unlink()
    args = ["run", "--model", "sam2", "--dataset", "davis", "--root", str(root), "--model-opt", "checkpoint=null",
            "--model-opt", "image_size=64", "--method", "baseline", "--quiet", "--jobs", "2"]
    code = main(args + ["--out", str(tmp_path / "stop")])
    err = capsys.readouterr().err
    assert code == 2 and "broken" in err and "00001" in err
    done = {s["group"] for s in _steps(tmp_path / "stop")}
    assert "abc" in done and "broken" not in done  # what finished before the error is on disk

    assert main(args + ["--out", str(tmp_path / "go"), "--keep-going"]) == 1  # finished, but not all of it
    failed = [line for line in capsys.readouterr().err.splitlines() if line.startswith("lit: failed: ")]
    assert len(failed) == 1 and failed[0].startswith("lit: failed: broken/*: ") and "00001" in failed[0]
    assert {s["group"] for s in _steps(tmp_path / "go")} == {"abc", "good"}
    errors = json.loads((tmp_path / "go" / "manifest.json").read_text())["errors"]
    assert len(errors) == 1 and errors[0]["episode_id"].startswith("broken") and "00001" in errors[0]["error"]

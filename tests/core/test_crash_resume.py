"""Crash safety: SIGKILL mid-episode, torn lines, resume, refusing an old --out, orphaned workers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from litcore import plugins
from litcore.cli import main
from runtools import FAKES, alive, children, manifest, python_env, records

LIT = f"""import sys
from litcore import plugins
plugins.BUILTIN_PLUGINS += {FAKES!r}
if __name__ != "__main__":  # a spawned worker imports this file too: only the parent runs `lit`
    pass
elif sys.argv[1] == "--kill-at-commit":  # SIGKILL between an episode's steps and its summary (the commit point)
    import os, signal
    from litcore import results
    calls, n = [0], int(sys.argv[2])
    original = results.RunWriter._write_summary
    def write_summary(self):
        calls[0] += 1
        if calls[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        original(self)
    results.RunWriter._write_summary = write_summary
    del sys.argv[1:3]
if __name__ == "__main__":
    from litcore.cli import main
    sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setenv("LITCORE_LOAD_PLUGINS", "")
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", (*plugins.BUILTIN_PLUGINS, *FAKES))


def _args(out, *extra):
    return ["run", "--model", "fake-flaky", "--dataset", "fake-many", "--dataset-opt", "groups=3",
            "--method", "lit-lora", "--policy-opt", "max_steps=2", "--seed", "5", "--quiet", "--out", str(out),
            *extra]


def _lit(tmp_path, *args, **kw):
    script = tmp_path / "lit_fakes.py"
    script.write_text(LIT)
    return subprocess.run([sys.executable, str(script), *args], env=python_env(), capture_output=True, text=True,
                          timeout=600, **kw)


def test_sigkill_mid_episode_then_resume_equals_an_uninterrupted_run(tmp_path, fakes, capsys):
    flag = tmp_path / "die"
    opts = ["--model-opt", f"die_flag={flag}", "--model-opt", 'die_on=["g1/2"]']
    assert main(_args(tmp_path / "ref", *opts)) == 0
    flag.touch()
    killed = _lit(tmp_path, *_args(tmp_path / "run", *opts))
    assert killed.returncode == -signal.SIGKILL        # the process died inside episode g1/2
    run = tmp_path / "run"
    assert manifest(run)["status"] == "running"         # a killed run does not look finished
    done = [e["episode_id"] for e in json.loads((run / "summary.json").read_text())["episodes"]]
    assert done == ["g0/1", "g0/2", "g1/1"]
    with open(run / "steps.jsonl", "a") as f:
        f.write('{"episode_id": "g1/2", "group": "g1", "ind')  # a torn last line, as a kill mid-write leaves
    capsys.readouterr()
    assert main(_args(run, *opts)) == 2                 # no silent overwrite of the killed run
    assert "already holds a run (running, 3 episodes)" in capsys.readouterr().err
    flag.unlink()
    assert main(_args(run, *opts, "--resume")) == 0
    assert records(run) == records(tmp_path / "ref")   # nothing lost, nothing repeated, same order
    assert manifest(run)["status"] == "complete" and manifest(run)["attempts"] == 2


def test_kill_between_steps_and_summary_drops_the_uncommitted_episode(tmp_path, fakes):
    assert main(_args(tmp_path / "ref")) == 0
    run = tmp_path / "run"
    killed = _lit(tmp_path, "--kill-at-commit", "3", *_args(run))  # 1: start, 2: first episode, 3: second
    assert killed.returncode == -signal.SIGKILL
    steps = [json.loads(line)["episode_id"] for line in (run / "steps.jsonl").read_text().splitlines()]
    assert "g0/2" in steps                              # its steps were appended...
    summary = json.loads((run / "summary.json").read_text())
    assert [e["episode_id"] for e in summary["episodes"]] == ["g0/1"]  # ...but it was never committed
    assert main(_args(run, "--resume")) == 0
    assert records(run) == records(tmp_path / "ref")


def test_sigkill_of_a_jobs_2_parent_takes_its_workers_along_and_the_run_resumes(tmp_path, fakes):
    args = _args(tmp_path / "run", "--jobs", "2", "--model-opt", "delay=0.2")
    assert main(_args(tmp_path / "ref", "--model-opt", "delay=0.2")) == 0
    script = tmp_path / "lit_fakes.py"
    script.write_text(LIT)
    parent = subprocess.Popen([sys.executable, str(script), *args], env=python_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = tmp_path / "run" / "summary.json"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:  # wait until a group came back: both workers are mid-run
            if summary.is_file() and json.loads(summary.read_text() or "{}").get("episodes"):
                break
            assert parent.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        workers = [p for p in children(parent.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(workers) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 60
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in workers)          # no orphan holds memory (or a GPU)
    assert manifest(tmp_path / "run")["status"] == "running"
    assert main(args[:-4] + ["--model-opt", "delay=0.2", "--resume"]) == 0   # finished here, in-process
    assert records(tmp_path / "run") == records(tmp_path / "ref")


def test_an_old_out_is_refused_overwritten_completely_or_resumed(tmp_path, fakes, capsys):
    run = tmp_path / "run"
    assert main(_args(run)) == 0
    before = records(run)
    (run / "saved_masks" / "g0").mkdir(parents=True)
    (run / "saved_masks" / "g0" / "1.npz").write_bytes(b"old")
    (run / "jf.json").write_text("{}")
    capsys.readouterr()
    assert main(_args(run)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--resume" in err and "--overwrite" in err
    assert main(_args(run, "--resume")) == 0            # complete: every episode is skipped
    assert records(run) == before and manifest(run)["attempts"] == 2
    assert main(_args(run, "--overwrite")) == 0
    assert not (run / "saved_masks").exists() and not (run / "jf.json").exists()  # every old artefact
    assert records(run) == before and "attempts" not in manifest(run)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    capsys.readouterr()
    assert main(_args(other, "--overwrite")) == 2       # not a run: never cleared
    assert "holds no litcore run" in capsys.readouterr().err and (other / "mine.txt").exists()
    assert main(_args(other / "mine.txt")) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(_args(run, "--resume", "--seed", "6")) == 2
    assert "different spec (differs in seed)" in capsys.readouterr().err

"""`lit demo` for VOS on the shipped tiny SAM2: table, plots and per-method results (one short video)."""

from __future__ import annotations

import json

from types import SimpleNamespace

from litcore_vos_sam2.demo import METHODS, _pick_frames, run_vos_demo


def test_demo_writes_the_three_runs_the_comparison_and_both_plots(tmp_path, capsys):
    summary = run_vos_demo(tmp_path, videos=1, quiet=True, jobs=1, dataset_options={"frames": 10})
    out = capsys.readouterr().out
    assert "| **total corrections** |" in out and "reduction vs first" in out
    assert METHODS == ["baseline", "lit-lora", "lit-auto"] and summary["runs"] == METHODS
    # the three-way table: one row per method with its corrections, automatic ones and update time
    table = [line for line in out.splitlines() if line.startswith("| ") and "J accepted proposals" not in line]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in table}
    for row in summary["methods"]:
        assert rows[row["method"]][0] == str(row["user_corrections"])
        assert rows[row["method"]][2] == str(row["auto_corrections"])
    assert rows["baseline"][-1] == "-" and rows["lit-auto"][-1] != "-"  # the baseline never updates
    for method in METHODS:
        s = json.loads((tmp_path / method / "summary.json").read_text())
        assert list(s["groups"]) == ["hard_0000"]
        steps = [json.loads(line) for line in (tmp_path / method / "steps.jsonl").read_text().splitlines()]
        assert {st["index"] for st in steps} == set(range(10))
    base = json.loads((tmp_path / "baseline" / "summary.json").read_text())["totals"]
    assert base["user_corrections"] >= 1  # the hard video makes the baseline fail at least once
    assert (tmp_path / "corrections_per_video.png").stat().st_size > 1000
    strips = list(tmp_path.glob("strip_hard_0000_obj*.png"))
    assert len(strips) == 1 and strips[0].stat().st_size > 1000
    assert summary  # the runner returns the comparison summary


def _recs(outcomes):
    return {t: SimpleNamespace(outcome=o) for t, o in outcomes.items()}


def test_strip_shows_accepted_proposals_first_then_baseline_corrections():
    lit = _recs({t: ("auto" if t in (5, 9, 30) else "user") for t in range(1, 40)})
    base = _recs({t: "user" for t in range(1, 40)})
    pick = _pick_frames(lit, base, 6)
    assert len(pick) == 6 and pick == sorted(pick)
    assert {5, 9, 30} <= set(pick)  # every accepted proposal shown when they fit in half the columns
    calm = _recs({t: "ok" for t in range(1, 4)})
    assert _pick_frames(calm, calm, 6) == [1, 2, 3]  # fewer frames than columns: all of them

"""`lit bench` and `lit run --save-masks` end to end: random-weight tiny SAM2 on VOST and SA-V fixtures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from litcore.annotation_time import CostModel
from litcore.cli import main
from litcore.vos.masks import read_label_png

TINY = ["--model-opt", "checkpoint=null", "--model-opt", "image_size=64"]


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text())


def _minutes_per_video(run: Path) -> float:
    """Annotation time recomputed here from steps.jsonl with the default costs."""
    c = CostModel()
    total = 0.0
    for line in (run / "steps.jsonl").read_text().splitlines():
        s = json.loads(line)
        if not s["checked"]:
            continue
        total += c.review_s + c.click_s * s["actions"].count("click") + c.mask_s * s["actions"].count("mask")
        total += c.proposal_s * (s["proposal_score"] is not None) + (s["update"] or {}).get("seconds", 0.0)
    return total / 60 / _summary(run)["totals"]["groups"]


def test_bench_grid_tables_and_plots(tmp_path, trees):
    trees.vost(tmp_path / "VOST")
    trees.sav(tmp_path, frames=10)
    out = tmp_path / "out"
    (tmp_path / "bench.toml").write_text(f"""
out = "{out}"
methods = ["baseline", "lit-lora"]
budgets = [1]
[policy_options]
max_steps = 3
[models.tiny]
model = "sam2"
options = {{ image_size = 64 }}
[datasets.vost]
dataset = "vost"
root = "{tmp_path / 'VOST'}"
[datasets.sav]
dataset = "sav"
root = "{tmp_path / 'sav_val'}"
options = {{ split = "val" }}
""")
    assert main(["bench", "--config", str(tmp_path / "bench.toml"), "--model-opt", "checkpoint=null", "--quiet"]) == 0
    runs = {(d, m): out / "tiny" / d / m for d in ("vost", "sav") for m in ("baseline", "lit-lora")}
    for name in ("main", "time", "cross_model", "ablation", "budget", "per_video"):
        assert (out / "tables" / f"{name}.md").is_file() and (out / "tables" / f"{name}.csv").is_file()
    for kind in ("long_tail", "baseline_vs_lit", "budget", "iou_pred_vs_true"):
        for d in ("vost", "sav"):
            png = out / "plots" / f"{kind}_tiny_{d}.png"
            assert png.is_file() and png.read_bytes()[:4] == b"\x89PNG", png
    assert "## Corrections per video (main table)" in (out / "report.md").read_text()

    main_rows = {r["dataset"]: r for r in _csv(out / "tables" / "main.csv")}
    assert set(main_rows) == {"vost", "sav"}
    for d, row in main_rows.items():
        b, l = _summary(runs[d, "baseline"])["totals"], _summary(runs[d, "lit-lora"])["totals"]
        assert float(row["baseline corrections/video"]) == pytest.approx(b["user_corrections"] / b["groups"])
        assert float(row["lit-lora corrections/video"]) == pytest.approx(l["user_corrections"] / l["groups"])
        expected = 100 * (b["user_corrections"] - l["user_corrections"]) / b["user_corrections"]
        assert float(row["reduction %"]) == pytest.approx(expected)
        jf = json.loads((runs[d, "lit-lora"] / "jf.json").read_text())["totals"]["JF"]
        assert float(row["lit-lora J&F"]) == pytest.approx(jf)
    assert main_rows["vost"]["objects"] == "1"  # object 2 appears later: not run on VOST
    assert main_rows["sav"]["objects"] == "2"

    time_rows = {r["dataset"]: r for r in _csv(out / "tables" / "time.csv")}
    for d in ("vost", "sav"):
        assert float(time_rows[d]["baseline min/video"]) == pytest.approx(_minutes_per_video(runs[d, "baseline"]))
        assert float(time_rows[d]["lit-lora min/video"]) == pytest.approx(_minutes_per_video(runs[d, "lit-lora"]))

    ablation = {(r["dataset"], r["method"]): r for r in _csv(out / "tables" / "ablation.csv")}
    assert set(ablation) == set(runs)
    assert ablation["sav", "baseline"]["trainable parameters"] == "0"
    assert ablation["sav", "lit-lora"]["trainable parameters"] == "35328"
    (cross,) = _csv(out / "tables" / "cross_model.csv")
    assert cross["model"] == "tiny"
    assert float(cross["sav baseline"]) == float(main_rows["sav"]["baseline corrections/video"])

    budget = _csv(out / "tables" / "budget.csv")
    assert {(r["dataset"], r["method"], r["budget per object"]) for r in budget} == {
        (d, m, "1") for d in ("vost", "sav") for m in ("baseline", "lit-lora")}
    for d in ("vost", "sav"):
        eps = _summary(out / "tiny" / d / "budget-1" / "baseline")["episodes"]
        assert eps and all(e["user_corrections"] <= 1 for e in eps)

    # SA-V: every 24 fps frame is propagated, only the 6 fps frames with a PNG are checked
    steps = [json.loads(s) for s in (runs["sav", "baseline"] / "steps.jsonl").read_text().splitlines()]
    for ep in ("sav_000001/1", "sav_000001/2"):
        mine = [s for s in steps if s["episode_id"] == ep]
        assert [s["name"] for s in mine] == [f"{t:05d}" for t in range(10)]
        assert [s["name"] for s in mine if s["checked"]] == ["00004", "00008"]
    # our J (jf.py) agrees with the loop's J (masks.iou) episode by episode
    for run in runs.values():
        loop_j = {e["episode_id"]: e["J"] for e in _summary(run)["episodes"]}
        ours = {o["episode_id"]: o["J"] for o in json.loads((run / "jf.json").read_text())["objects"]}
        assert ours == pytest.approx(loop_j)

    stamps = {r: (r / "summary.json").stat().st_mtime_ns for r in runs.values()}
    assert main(["bench", "--config", str(tmp_path / "bench.toml"), "--model-opt", "checkpoint=null", "--quiet",
                 "--resume"]) == 0
    assert {r: (r / "summary.json").stat().st_mtime_ns for r in runs.values()} == stamps  # nothing re-ran

    for f in (out / "tables").iterdir():
        f.unlink()
    assert main(["bench", "--out", str(out), "--report-only"]) == 0
    assert {r["dataset"]: r for r in _csv(out / "tables" / "main.csv")} == main_rows


def test_run_saves_masks_then_export(tmp_path, trees):
    trees.sav(tmp_path, frames=6)
    run = tmp_path / "run"
    assert main(["run", "--model", "sam2", "--dataset", "sav", "--root", str(tmp_path), "--method", "baseline",
                 "--out", str(run), "--save-masks", "--jf", "--quiet", *TINY]) == 0
    assert sorted(p.name for p in (run / "saved_masks" / "sav_000001").iterdir()) == ["1.npz", "2.npz"]
    assert (run / "jf.json").is_file()
    assert main(["export", str(run), "--format", "per-object", "--format", "palette"]) == 0
    per_obj = run / "masks_per_object" / "sav_000001"
    assert sorted(p.name for p in per_obj.iterdir()) == ["000", "001"]  # SA-V's own folder names
    assert sorted(p.stem for p in (per_obj / "000").iterdir()) == [f"{t:05d}" for t in range(6)]
    for t in range(6):
        lab = read_label_png(run / "masks" / "sav_000001" / f"{t:05d}.png")
        o1 = read_label_png(per_obj / "000" / f"{t:05d}.png") > 0
        o2 = read_label_png(per_obj / "001" / f"{t:05d}.png") > 0
        assert np.array_equal(lab, np.where(o1, 1, np.where(o2, 2, 0)))

"""`lit run` + `lit compare` on a DAVIS-format folder written by the test (random-weight tiny SAM2)."""

from __future__ import annotations

import json

from litcore.cli import main
from litcore.vos.davis import write_davis


def test_run_baseline_and_lora_then_compare(tmp_path, make_video, capsys):
    root = tmp_path / "davis"
    for name, seed in (("alpha", 0), ("beta", 1)):
        write_davis(make_video(name, frames=4, seed=seed), root)
    common = ["run", "--model", "sam2", "--dataset", "davis", "--root", str(root),
              "--model-opt", "checkpoint=null", "--model-opt", "image_size=64",
              "--policy-opt", "max_steps=4", "--quiet"]
    assert main(common + ["--method", "baseline", "--out", str(tmp_path / "base")]) == 0
    assert main(common + ["--method", "lit-lora", "--out", str(tmp_path / "lit")]) == 0
    capsys.readouterr()

    for run in ("base", "lit"):
        d = tmp_path / run
        manifest = json.loads((d / "manifest.json").read_text())
        assert manifest["spec"]["method"] == ("baseline" if run == "base" else "lit-lora")
        assert manifest["components"]["adapter"]["parameters"] == (0 if run == "base" else 35_328)
        summary = json.loads((d / "summary.json").read_text())
        assert sorted(summary["groups"]) == ["alpha", "beta"]
        steps = [json.loads(line) for line in (d / "steps.jsonl").read_text().splitlines()]
        assert len({s["episode_id"] for s in steps}) == 4  # 2 videos x 2 objects
        per_group = {g: sum(s["outcome"] == "user" for s in steps if s["group"] == g) for g in ("alpha", "beta")}
        assert {g: summary["groups"][g]["user_corrections"] for g in per_group} == per_group
        rows = (d / "episodes.csv").read_text().splitlines()
        assert len(rows) == 1 + 4

    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "lit"), "--csv", str(tmp_path / "cmp.csv")]) == 0
    out = capsys.readouterr().out
    base_total = json.loads((tmp_path / "base" / "summary.json").read_text())["totals"]["user_corrections"]
    assert f"| **total corrections** | {base_total}" in out.replace("  ", " ") or str(base_total) in out
    assert "alpha" in out and "beta" in out and "reduction vs first" in out
    assert (tmp_path / "cmp.csv").read_text().splitlines()[0] == "group,base,lit"


def test_missing_frame_is_reported_with_its_name_and_earlier_episodes_are_kept(tmp_path, make_video, capsys):
    root = tmp_path / "davis"
    write_davis(make_video("good", frames=3), root)
    write_davis(make_video("broken", frames=3, seed=2), root)
    (root / "JPEGImages" / "broken" / "00001.jpg").unlink()
    code = main(["run", "--model", "sam2", "--dataset", "davis", "--root", str(root), "--model-opt", "checkpoint=null",
                 "--model-opt", "image_size=64", "--method", "baseline", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "00001" in err
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    # "broken" sorts before "good": its error stopped the run before any episode... unless keep-going
    code = main(["run", "--model", "sam2", "--dataset", "davis", "--root", str(root), "--model-opt", "checkpoint=null",
                 "--model-opt", "image_size=64", "--method", "baseline", "--out", str(tmp_path / "k"), "--quiet",
                 "--keep-going"])
    summary = json.loads((tmp_path / "k" / "summary.json").read_text())
    manifest = json.loads((tmp_path / "k" / "manifest.json").read_text())
    assert code == 1  # finished the others, but says it failed
    assert any(line.startswith("lit: failed: broken") for line in capsys.readouterr().err.splitlines())
    assert sorted(summary["groups"]) == ["good"]
    assert manifest["errors"] and all("broken" in e["episode_id"] for e in manifest["errors"])

"""Bench grid planning: TOML and flags, the challenging-subset selector, folder layout (no model runs)."""

from __future__ import annotations

import json

import pytest

from litcore.bench import BenchConfig, Component, challenging_objects, load_toml, plan
from litcore.cli import build_parser
from litcore.cli.bench import config_from_args


def _baseline(dir_, counts: dict[str, int]) -> None:
    dir_.mkdir(parents=True, exist_ok=True)
    eps = [{"episode_id": e, "group": e.split("/")[0], "user_corrections": c} for e, c in counts.items()]
    (dir_ / "summary.json").write_text(json.dumps({"episodes": eps, "groups": {}, "totals": {}}))


COUNTS = {"v1/1": 12, "v1/2": 3, "v2/1": 10, "v3/4": 9, "v3/5": 15}


def test_challenging_subset_from_a_run_dir_and_from_a_bench(tmp_path):
    summary_dir = tmp_path / "base"
    _baseline(summary_dir, COUNTS)
    expected = [e for e, c in COUNTS.items() if c >= 10]
    assert challenging_objects(json.loads((summary_dir / "summary.json").read_text()), 10) == expected
    cfg = BenchConfig([Component("m", "sam2")], [Component("d", "davis", {"root": "/x"})],
                      methods=["baseline", "lit-lora"], min_baseline_corrections=10, subset_from=str(summary_dir))
    cells = plan(cfg, tmp_path / "out")
    assert [c.method for c in cells] == ["baseline", "lit-lora"]
    for c in cells:
        assert c.spec.objects == expected and c.spec.groups == ["v1", "v2", "v3"]
    # an earlier bench: OUT/<model>/<dataset>/<baseline>/summary.json
    _baseline(tmp_path / "prev" / "m" / "d" / "baseline", {"v9/1": 1, "v9/2": 4})
    cfg.subset_from, cfg.min_baseline_corrections = str(tmp_path / "prev"), 4
    assert plan(cfg, tmp_path / "out")[0].spec.objects == ["v9/2"]
    cfg.min_baseline_corrections = 99
    with pytest.raises(ValueError, match=">= 99"):
        plan(cfg, tmp_path / "out")
    cfg.subset_from = str(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        plan(cfg, tmp_path / "out")


def test_toml_layout_methods_and_budgets(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text("""
methods = ["lit-lora", "baseline", "no-cl"]
budgets = [2, 1]
seed = 3
[adapter_options.lora]
rank = 8
[time]
click_s = 2.0
[models.small]
model = "sam2"
options = { image_size = 64 }
[models.other]
model = "sam2"
[datasets.vost]
dataset = "vost"
root = "/data/VOST"
videos = ["a", "b"]
""")
    cfg = load_toml(path)
    assert [m.label for m in cfg.models] == ["small", "other"] and cfg.time == {"click_s": 2.0}
    cells = plan(cfg, tmp_path / "o")
    assert len(cells) == 2 * (3 + 2 * 2)  # 2 models x (3 methods + 2 budgets x {baseline, lit-lora})
    first = cells[:7]
    assert [(c.method, c.budget) for c in first] == [("baseline", None), ("lit-lora", None), ("no-cl", None),
                                                      ("baseline", 2), ("lit-lora", 2), ("baseline", 1),
                                                      ("lit-lora", 1)]
    assert first[0].dir == tmp_path / "o" / "small" / "vost" / "baseline"
    assert first[3].dir == tmp_path / "o" / "small" / "vost" / "budget-2" / "baseline"
    assert first[3].spec.max_corrections == 2 and first[0].spec.max_corrections is None
    assert first[1].spec.adapter == "lora" and first[1].spec.adapter_options == {"rank": 8}
    assert first[0].spec.adapter == "none" and first[0].spec.adapter_options == {}
    assert first[0].spec.dataset_options == {"root": "/data/VOST"} and first[0].spec.groups == ["a", "b"]
    assert first[0].spec.seed == 3 and first[0].spec.model_options == {"image_size": 64}


def test_flags_override_the_file_and_bad_input_is_refused(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text('methods = ["baseline"]\n[models.s]\nmodel = "sam2"\n[datasets.d]\ndataset = "davis"\n')
    parser = build_parser()
    args = parser.parse_args(["bench", "--config", str(path), "--methods", "baseline,lit-lora", "--model-opt",
                              "checkpoint=null", "--root", "/r", "--tau", "0.7", "--adapter-opt", "rank=2",
                              "--videos", "x,y", "--out", str(tmp_path / "o")])
    cfg = config_from_args(args)
    assert cfg.methods == ["baseline", "lit-lora"] and cfg.models[0].options == {"checkpoint": None}
    assert cfg.datasets[0].options == {"root": "/r"} and cfg.datasets[0].groups == ["x", "y"]
    assert cfg.oracle_options == {"tau": 0.7} and cfg.adapter_options == {"lora": {"rank": 2}}
    path.write_text('methodz = ["baseline"]\n')
    with pytest.raises(ValueError, match="methodz"):
        load_toml(path)
    with pytest.raises(ValueError, match="needs --from"):
        BenchConfig([Component("m", "sam2")], [Component("d", "davis")], min_baseline_corrections=3)
    with pytest.raises(ValueError, match="folder name"):
        BenchConfig([Component("a/b", "sam2")], [Component("d", "davis")])
    with pytest.raises(ValueError, match="unknown method"):
        plan(BenchConfig([Component("m", "sam2")], [Component("d", "davis")], methods=["nope"]), tmp_path)


def test_documented_bench_files_load_and_name_registered_components():
    from pathlib import Path

    from litcore.plugins import build_registry

    reg = build_registry()
    files = sorted((Path(__file__).parents[2] / "docs" / "bench").glob("*.toml"))
    assert len(files) >= 4
    for path in files:
        cfg = load_toml(path)
        for m in cfg.models:
            reg.get("model", m.name)
        for d in cfg.datasets:
            reg.get("dataset", d.name)
        assert cfg.baseline in cfg.methods and cfg.lit in cfg.methods, path

"""`lit bench`: a grid of models x datasets x methods (and correction budgets), one run directory each.

Every cell goes through `Experiment` + `run_to_dir`, exactly like `lit run`,
so a bench is nothing but many ordinary runs laid out as
`OUT/<model>/<dataset>/<method>/` (budget runs under `budget-<K>/<method>/`)
plus `OUT/bench.json`, from which `litcore.reports` builds the tables.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from litcore.errors import LitcoreError
from litcore.experiment import Experiment, ExperimentSpec
from litcore.results import load_summary


class BenchConfigError(LitcoreError, ValueError):
    """A bench file that is missing or not valid TOML; the message names the file."""


_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass
class Component:
    """A model or dataset of the grid: `label` names its folder, `name` is the registered component."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    groups: list[str] | None = None
    objects: list[str] | None = None


@dataclass
class BenchConfig:
    models: list[Component]
    datasets: list[Component]
    methods: list[str] = field(default_factory=lambda: ["baseline", "lit-lora"])
    baseline: str = "baseline"
    lit: str = "lit-lora"
    budgets: list[int] = field(default_factory=list)
    budget_methods: list[str] | None = None        # default: baseline and lit
    oracle: str | None = None
    oracle_options: dict[str, Any] = field(default_factory=dict)
    policy_options: dict[str, Any] = field(default_factory=dict)
    adapter_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per adapter name
    time: dict[str, Any] = field(default_factory=dict)                         # annotation-time costs
    seed: int = 0
    min_baseline_corrections: int | None = None
    subset_from: str | None = None
    save_masks: str | None = None
    jf: bool = True
    keep_going: bool = False

    def __post_init__(self) -> None:
        for c in self.models + self.datasets:
            if not _LABEL.match(c.label):
                raise ValueError(f"bench label {c.label!r} must be a plain folder name ([A-Za-z0-9._+-])")
        if not self.models or not self.datasets or not self.methods:
            raise ValueError("a bench needs at least one model, one dataset and one method")
        if self.min_baseline_corrections is not None and not self.subset_from:
            raise ValueError("--min-baseline-corrections needs --from (an earlier baseline run or bench)")

    def budget_method_list(self) -> list[str]:
        wanted = self.budget_methods or [self.baseline, self.lit]
        return [m for m in wanted if m in self.methods] or list(self.methods)


def _components(table: dict[str, Any], kind: str) -> list[Component]:
    out = []
    for label, entry in table.items():
        if not isinstance(entry, dict):
            raise ValueError(f"[{kind}s.{label}] must be a table")
        options = dict(entry.get("options", {}))
        if "root" in entry:
            options["root"] = entry["root"]
        out.append(Component(label, entry.get(kind, label), options, entry.get("videos"), entry.get("objects")))
    return out


def load_toml(path: str | Path) -> BenchConfig:
    """A bench file: top-level settings, `[models.<label>]`, `[datasets.<label>]`, `[time]`, `[subset]`."""
    path = Path(path)
    data = read_toml(path)
    subset = data.pop("subset", {})
    models = _components(data.pop("models", {}), "model")
    datasets = _components(data.pop("datasets", {}), "dataset")
    data.pop("out", None)
    known = {f for f in BenchConfig.__dataclass_fields__} - {"models", "datasets"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"bench file {path}: unknown setting(s) {unknown}")
    return BenchConfig(models, datasets, **data, min_baseline_corrections=subset.get("min_baseline_corrections"),
                       subset_from=subset.get("from"))


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file's tables; a missing file or a syntax error is one line naming the file."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError as e:
        raise BenchConfigError(f"bench file {path} not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise BenchConfigError(f"bench file {path} cannot be read ({type(e).__name__})") from e
    except tomllib.TOMLDecodeError as e:
        raise BenchConfigError(f"bench file {path} is not valid TOML: {e}") from e


def toml_out(path: str | Path) -> str | None:
    return read_toml(path).get("out")


@dataclass
class Cell:
    """One run of the grid."""

    model: str
    dataset: str
    method: str
    budget: int | None
    dir: Path
    spec: ExperimentSpec


def _baseline_summary(cfg: BenchConfig, model: str, dataset: str) -> dict[str, Any]:
    src = Path(cfg.subset_from or "")
    for cand in (src, src / model / dataset / cfg.baseline):
        if (cand / "summary.json").is_file():
            return load_summary(cand)
    raise FileNotFoundError(f"--from {src}: neither it nor {src / model / dataset / cfg.baseline} holds a "
                            "summary.json of a baseline run")


def challenging_objects(summary: dict[str, Any], k: int) -> list[str]:
    """Episodes ("video/object") whose baseline needed at least `k` user corrections."""
    return [ep["episode_id"] for ep in summary["episodes"] if (ep.get("user_corrections") or 0) >= k]


def plan(cfg: BenchConfig, out: str | Path, registry: Any = None) -> list[Cell]:
    """Every cell of the grid, in run order (baseline first, then the other methods, then budgets).

    `registry` resolves the method names (built from the installed plugins when not given).
    """
    from litcore.plugins import build_registry

    registry = registry or build_registry()
    out = Path(out)
    cells = []
    for m in cfg.models:
        for d in cfg.datasets:
            groups, objects = d.groups, d.objects
            if cfg.min_baseline_corrections is not None:
                chosen = challenging_objects(_baseline_summary(cfg, m.label, d.label), cfg.min_baseline_corrections)
                if objects:
                    chosen = [o for o in chosen if o in objects]
                if not chosen:
                    raise ValueError(f"{m.label}/{d.label}: no episode has >= {cfg.min_baseline_corrections} "
                                     "baseline corrections")
                objects = chosen
                groups = list(dict.fromkeys(o.rsplit("/", 1)[0] for o in chosen))
            base = ExperimentSpec(model=m.name, dataset=d.name, model_options=dict(m.options),
                                  dataset_options=dict(d.options), oracle=cfg.oracle,
                                  oracle_options=dict(cfg.oracle_options), policy_options=dict(cfg.policy_options),
                                  groups=groups, objects=objects, seed=cfg.seed)
            order = [cfg.baseline] * (cfg.baseline in cfg.methods) + [x for x in cfg.methods if x != cfg.baseline]
            for method in order:
                spec = _with_method(base, method, cfg, registry)
                cells.append(Cell(m.label, d.label, method, None, out / m.label / d.label / method, spec))
            for k in cfg.budgets:
                for method in cfg.budget_method_list():
                    spec = replace(_with_method(base, method, cfg, registry), max_corrections=int(k))
                    cells.append(Cell(m.label, d.label, method, int(k),
                                      out / m.label / d.label / f"budget-{int(k)}" / method, spec))
    return cells


def _with_method(base: ExperimentSpec, method: str, cfg: BenchConfig, registry: Any) -> ExperimentSpec:
    m = registry.get("method", method).factory()
    spec = replace(base, method=method, adapter=m.adapter, policy=m.policy, mode=m.mode)
    return replace(spec, adapter_options=dict(cfg.adapter_options.get(spec.adapter, {})))



def _spec_matches(cell: Cell) -> bool:
    try:
        manifest = json.loads((cell.dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("spec") == json.loads(json.dumps(asdict(cell.spec), default=str))


def _done(cell: Cell) -> bool:
    """Finished with the same spec and no failure (a failed or interrupted cell is resumed)."""
    from litcore.rundir import run_status

    return _spec_matches(cell) and run_status(cell.dir) == "complete"


def cell_request(cell: Cell, cfg: BenchConfig, registry: Any, *, quiet: bool = True, existing: str = "refuse"):
    """The dispatcher request of one cell: an ordinary run, plus J&F and masks where there are videos."""
    from litcore.cli.progress import Progress
    from litcore.dispatch import RunRequest

    def consumers(exp: Experiment) -> list:
        if getattr(exp.dataset, "task", None) == "vos" and hasattr(exp.dataset, "video"):
            from litcore.vos.exports import run_consumers  # J&F and masks only where there are videos

            return run_consumers(exp.dataset, cell.dir, save_masks=cfg.save_masks, jf=cfg.jf)
        return []

    label = f"{cell.model}/{cell.dataset}/{cell.method}" + (f"@{cell.budget}" if cell.budget is not None else "")
    progress = Progress(disable=quiet, desc=label)
    return RunRequest(cell.dir, cell.spec, lambda: Experiment(cell.spec, registry), consumers,
                      on_record=progress.update, on_close=progress.close, keep_going=cfg.keep_going,
                      existing=existing, label=label)


def run_bench(cfg: BenchConfig, out: str | Path, *, resume: bool = False, overwrite: bool = False,
              quiet: bool = True, registry: Any = None, jobs: int = 1, executor: Any = None) -> list[Any]:
    """Run every cell as one pool of work (cells do not wait for each other); returns the failures.

    With `resume`, finished cells are skipped, failed or interrupted ones
    resumed (their finished episodes kept), and cells whose spec changed rerun
    from scratch. `executor` (litcore.executors) says where groups run; without
    one, `jobs` worker processes (an execution setting, not part of the config).
    """
    from litcore.dispatch import execute
    from litcore.executors import make_executor
    from litcore.plugins import build_registry

    registry = registry or build_registry()
    cells = plan(cfg, out, registry)
    write_index(cfg, cells, out)
    requests = []
    for cell in cells:
        if resume and _done(cell):
            continue
        existing = ("resume" if _spec_matches(cell) else "overwrite") if resume else \
            ("overwrite" if overwrite else "refuse")
        if existing == "refuse":  # before anything runs, not when the grid reaches this cell
            from litcore.rundir import prepare

            prepare(cell.dir, "refuse", asdict(cell.spec))
        requests.append(cell_request(cell, cfg, registry, quiet=quiet, existing=existing))
    own = executor is None
    executor = executor or make_executor(jobs=jobs, registry=registry)
    try:
        outcomes = execute(requests, executor)
    finally:
        if own:
            executor.close()
    return [f for o in outcomes for f in o.failures]


def write_index(cfg: BenchConfig, cells: list[Cell], out: str | Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    index = {"config": asdict(cfg),
             "runs": [{"model": c.model, "dataset": c.dataset, "method": c.method, "budget": c.budget,
                       "dir": str(c.dir.relative_to(out))} for c in cells]}
    (out / "bench.json").write_text(json.dumps(index, indent=2, default=str))

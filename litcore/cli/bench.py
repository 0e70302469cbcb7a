"""`lit bench`: run a grid from a TOML file or flags, then write the tables and plots.

Flags override the TOML file's settings, so one bench file can be re-run on a
subset (`--methods`, `--videos`) or re-reported (`--report-only`) without
editing it. See docs/benchmarks.md for the file format.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from litcore.cli.commands import MODEL_OPT_HELP, _set_threads, parse_options


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run models x datasets x methods and write paper-style tables and plots")
    p.add_argument("--config", help="bench TOML file (see docs/benchmarks.md); flags override it")
    p.add_argument("--model", action="append", help="registered model (repeatable; label = name)")
    p.add_argument("--dataset", action="append", help="registered dataset (repeatable; label = name)")
    p.add_argument("--root", help="dataset root (with --dataset)")
    for kind in ("model", "dataset", "oracle", "policy", "adapter", "time"):
        p.add_argument(f"--{kind}-opt", action="append", metavar="KEY=VALUE",
                       help={"time": "annotation-time cost (docs/annotation-time.md)", "model": MODEL_OPT_HELP,
                             "adapter": "ADAPTER.KEY=VALUE (bare KEY: the lora adapter)"}.get(kind, f"{kind} option"))
    p.add_argument("--methods", help="comma-separated methods (default baseline,lit-lora)")
    p.add_argument("--baseline", help="reference method of the main and time tables (default baseline)")
    p.add_argument("--lit", help="the method compared with it (default lit-lora)")
    p.add_argument("--budgets", help="comma-separated correction budgets K for the J&F-at-K curves")
    p.add_argument("--budget-methods", help="methods run under each budget (default: baseline and lit)")
    p.add_argument("--oracle", help="oracle (default: the model's)")
    p.add_argument("--tau", type=float, help="acceptance threshold of the oracle")
    p.add_argument("--videos", help="comma-separated videos to run (every dataset)")
    p.add_argument("--objects", help="comma-separated video/object episodes to run")
    p.add_argument("--min-baseline-corrections", type=int, metavar="K",
                   help="challenging subset: episodes whose baseline needed >= K corrections (needs --from)")
    p.add_argument("--from", dest="subset_from", metavar="RUN_DIR",
                   help="baseline run directory, or an earlier bench OUT (uses OUT/<model>/<dataset>/<baseline>)")
    p.add_argument("--seed", type=int)
    p.add_argument("--save-masks", metavar="FORMATS", help="keep masks of every run (npz,palette,per-object,coco)")
    p.add_argument("--no-jf", action="store_true", help="skip J&F (boundary F costs a little per frame)")
    p.add_argument("--out", help="bench folder (default: the TOML's `out`)")
    p.add_argument("--resume", action="store_true", help="skip runs already finished with the same spec")
    p.add_argument("--report-only", action="store_true", help="only rebuild tables and plots from --out")
    p.add_argument("--keep-going", action="store_true", help="record failing episodes and continue")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--threads", type=int, help="torch intra-op threads")
    p.add_argument("--jobs", type=int, default=1, help="worker processes sharing each run's videos")
    p.set_defaults(func=cmd_bench)


def config_from_args(args: argparse.Namespace):
    """The TOML file (if any) with the flags applied on top."""
    from litcore.bench import BenchConfig, Component, load_toml

    cfg = load_toml(args.config) if args.config else None
    models = [Component(m, m, parse_options(args.model_opt)) for m in args.model or []]
    data_opts = parse_options(args.dataset_opt) | ({"root": args.root} if args.root else {})
    datasets = [Component(d, d, dict(data_opts)) for d in args.dataset or []]
    if cfg is None:
        cfg = BenchConfig(models, datasets)
    else:  # flag components replace the file's; bare options merge into the file's components
        for c in cfg.models if not models else []:
            c.options |= parse_options(args.model_opt)
        for c in cfg.datasets if not datasets else []:
            c.options |= data_opts
        cfg.models, cfg.datasets = models or cfg.models, datasets or cfg.datasets
    for c in cfg.datasets:
        c.groups = _csv(args.videos) or c.groups
        c.objects = _csv(args.objects) or c.objects
    cfg.methods = _csv(args.methods) or cfg.methods
    cfg.baseline = args.baseline or cfg.baseline
    cfg.lit = args.lit or cfg.lit
    cfg.budgets = [int(k) for k in _csv(args.budgets) or []] or cfg.budgets
    cfg.budget_methods = _csv(args.budget_methods) or cfg.budget_methods
    cfg.oracle = args.oracle or cfg.oracle
    cfg.oracle_options |= parse_options(args.oracle_opt) | ({"tau": args.tau} if args.tau is not None else {})
    cfg.policy_options |= parse_options(args.policy_opt)
    for key, value in parse_options(args.adapter_opt).items():  # ADAPTER.KEY=VALUE, bare KEY means lora
        adapter, name = key.split(".", 1) if "." in key else ("lora", key)
        cfg.adapter_options.setdefault(adapter, {})[name] = value
    cfg.time |= parse_options(args.time_opt)
    cfg.seed = args.seed if args.seed is not None else cfg.seed
    cfg.min_baseline_corrections = (args.min_baseline_corrections if args.min_baseline_corrections is not None
                                    else cfg.min_baseline_corrections)
    cfg.subset_from = args.subset_from or cfg.subset_from
    cfg.save_masks = args.save_masks or cfg.save_masks
    cfg.jf = cfg.jf and not args.no_jf
    cfg.keep_going = cfg.keep_going or args.keep_going
    cfg.__post_init__()  # re-validate after the overrides
    return cfg


def report(out: str | Path) -> tuple[list[Path], list[Path]]:
    """Tables and plots of a finished (or partly finished) bench folder."""
    from litcore.plots import make_plots
    from litcore.reports import build_tables, load_bench, write_report, write_tables

    index, results = load_bench(out)
    tables = build_tables(index, results)
    written = write_tables(out, tables)
    plots = make_plots(out, index, results)
    written.append(write_report(out, tables, plots))
    return written, plots


def cmd_bench(args: argparse.Namespace) -> int:
    from litcore.bench import run_bench, toml_out

    out = args.out or (toml_out(args.config) if args.config else None)
    if not out:
        raise ValueError("lit bench needs --out (or `out = ...` in the bench file)")
    from litcore.checks import check_out_dir

    check_out_dir(out)
    if not args.report_only:
        _set_threads(args.threads)
        run_bench(config_from_args(args), out, resume=args.resume, quiet=args.quiet, jobs=args.jobs)
    written, plots = report(out)
    print(f"bench in {out}: {len(written)} table files, {len(plots)} plots; see {Path(out) / 'report.md'}")
    return 0

"""Core sub-commands: `lit plugins`, `lit run`, `lit compare`, `lit demo`, `lit bench` (in `bench.py`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from litcore.cli.execution import (add_executor_arguments, add_existing_arguments, executor_from_args,
                                   existing_mode, report_failures)
from litcore.checks import check_out_dir
from litcore.errors import LitcoreError
from litcore.executors import using
from litcore.options import OptionError
from litcore.experiment import Experiment, ExperimentSpec, IncompatibleComponentsError, run_to_dir
from litcore.plugins import PluginLoadError, build_registry, get_plugin_manager, plugin_infos
from litcore.registry import PLURAL, RegistrationError, UnknownComponentError

USER_ERRORS: tuple[type[BaseException], ...] = (
    LitcoreError,
    UnknownComponentError, RegistrationError, PluginLoadError, IncompatibleComponentsError,
    FileNotFoundError, NotADirectoryError, KeyError, ValueError,
)


MODEL_OPT_HELP = ("option for the model (see `lit plugins`). Safety: a config=FILE option can be a Hydra config, "
                  "whose _target_ entries instantiate any Python object, i.e. run code; plugins refuse config "
                  "files outside their own config folders unless trust_config=true (docs/bad-input.md)")


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """`key=value` pairs; values parsed as JSON when they can be (numbers, booleans, lists)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"option {pair!r} is not of the form key=value")
        key, raw = pair.split("=", 1)
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def add_core_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list installed plugins and what each registered")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("run", help="run one model x dataset x method with a simulated user")
    add_run_arguments(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="baseline vs LIT on the embedded model and data (no downloads)")
    p.add_argument("--task", default="vos", help="which task's demo (see `lit plugins`: demos)")
    p.add_argument("--out", default="lit-runs/demo", help="where results and plots go")
    p.add_argument("--groups", "--videos", dest="videos", type=int, default=None,
                   help="number of generated groups: videos (VOS, default 6) or class streams (classification, 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1 is fastest for the tiny CPU models; see docs/performance.md)")
    add_executor_arguments(p, "workers, each running whole videos/streams (default: the number of CPU cores)",
                           jobs_default=None)
    p.add_argument("--model-opt", action="append", metavar="KEY=VALUE", default=[],
                   help="model option for both runs (e.g. object_score_loss=1)")
    p.add_argument("--policy-opt", action="append", metavar="KEY=VALUE", default=[],
                   help="update-policy option of the LIT runs (e.g. lr=1e-3; the paper's values are the defaults)")
    p.add_argument("--tau", type=float, default=None,
                   help="acceptance threshold of the simulated user (VOS: IoU, default 0.5)")
    p.set_defaults(func=cmd_demo)

    from litcore.serve.cli import add_serve_command  # FastAPI is imported only when `lit serve` runs

    add_serve_command(sub)

    p = sub.add_parser("compare", help="compare two or more runs: corrections per group, totals, reduction")
    p.add_argument("runs", nargs="+", help="run directories; the first is the reference")
    p.add_argument("--csv", help="also write the per-group table to this CSV file")
    p.add_argument("--allow-incomplete", action="store_true",
                   help="compare runs that are unfinished, failed or cover different episodes (on the common ones)")
    p.set_defaults(func=cmd_compare)

    from litcore.cli.bench import add_bench_parser

    add_bench_parser(sub)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="registered model name (see `lit plugins`)")
    p.add_argument("--dataset", required=True, help="registered dataset name")
    p.add_argument("--root", help="dataset root folder (passed to the dataset as root=)")
    p.add_argument("--method", help="a registered method: adapter + policy + mode under one name "
                                     "(baseline, lit-lora, lit-ft, ...; see `lit plugins`)")
    p.add_argument("--adapter", default="none")
    p.add_argument("--policy", default="every")
    p.add_argument("--oracle", help="defaults to the model's oracle")
    p.add_argument("--tau", type=float, help="acceptance IoU/score threshold of the oracle (default 0.5)")
    for kind in ("model", "dataset", "oracle", "adapter", "policy"):
        p.add_argument(f"--{kind}-opt", action="append", metavar="KEY=VALUE", help=MODEL_OPT_HELP if kind == "model"
                       else f"option for the {kind}")
    p.add_argument("--adapter-targets", help="regex of module names to adapt (default: the model's choice)")
    p.add_argument("--groups", "--videos", dest="groups",
                   help="comma-separated groups to run (videos for VOS, class streams for classification)")
    p.add_argument("--objects", help="comma-separated object ids or video/id pairs")
    p.add_argument("--max-corrections", type=int, help="user-correction budget per episode")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--keep-going", action="store_true", help="record failing episodes and continue")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    add_executor_arguments(p, "workers (processes or Ray actors), each running whole groups (videos); "
                              "the records are identical")
    add_existing_arguments(p)
    p.add_argument("--save-masks", nargs="?", const="npz", metavar="FORMATS",
                   help="keep the predicted masks (VOS): comma-separated npz,palette,per-object,coco "
                        "(npz, the durable copy that --resume and `lit export` read, is always kept)")
    p.add_argument("--jf", action="store_true", help="also compute J and F per object into jf.json/jf.csv (VOS)")


def spec_from_args(args: argparse.Namespace) -> ExperimentSpec:
    dataset_options = parse_options(args.dataset_opt)
    if args.root:
        dataset_options["root"] = args.root
    oracle_options = parse_options(args.oracle_opt)
    if args.tau is not None:
        oracle_options["tau"] = args.tau
    return ExperimentSpec(
        model=args.model, dataset=args.dataset, method=args.method, adapter=args.adapter, policy=args.policy,
        oracle=args.oracle, model_options=parse_options(args.model_opt), dataset_options=dataset_options,
        oracle_options=oracle_options, adapter_options=parse_options(args.adapter_opt),
        policy_options=parse_options(args.policy_opt), adapter_targets=args.adapter_targets,
        groups=args.groups.split(",") if args.groups else None,
        objects=args.objects.split(",") if args.objects else None,
        max_corrections=args.max_corrections, seed=args.seed)


def cmd_plugins(args: argparse.Namespace) -> int:
    pm = get_plugin_manager()
    reg = build_registry(pm)
    infos = plugin_infos(pm, reg)
    described = {(e.kind, e.name): e for e in reg.entries()}
    if args.json:
        out = []
        for info in infos:
            comps = [{"kind": kind, "name": n, "description": described[(kind, n)].description,
                      "task": described[(kind, n)].task, "prediction": described[(kind, n)].prediction}
                     for kind, names in sorted(info.registered.items()) for n in sorted(names)]
            out.append({"name": info.name, "version": info.version, "hooks": info.hooks, "components": comps})
        print(json.dumps(out, indent=2))
        return 0
    for info in infos:
        print(f"{info.name} {info.version or ''}".rstrip())
        for kind, names in sorted(info.registered.items()):
            print(f"  {PLURAL.get(kind, kind + 's')}:")
            for n in sorted(names):
                e = described[(kind, n)]
                tags = ", ".join(t for t in (e.task, e.prediction) if t)
                tag = f" [{tags}]" if tags else ""
                print(f"    {n}{tag}" + (f": {e.description}" if e.description else ""))
        if not info.registered:
            print(f"  hooks: {', '.join(info.hooks)}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from litcore.cli.progress import Progress

    _set_threads(args.threads)
    check_out_dir(args.out)
    exp = Experiment(spec_from_args(args))
    consumers = []
    if args.save_masks or args.jf:
        from litcore.vos.exports import run_consumers

        consumers = run_consumers(exp.dataset, args.out, save_masks=args.save_masks, jf=args.jf)
    progress = Progress(disable=args.quiet)
    executor = executor_from_args(args)
    try:
        summary = run_to_dir(exp, args.out, keep_going=args.keep_going, on_record=progress.update,
                             consumers=consumers, executor=executor, existing=existing_mode(args))
    finally:
        progress.close()
        executor.close()
    print(run_line(summary, exp.manifest(), args.out))
    if summary.get("learning_warning"):
        print(f"warning: {summary['learning_warning']}")
    errors = json.loads((Path(args.out) / "manifest.json").read_text()).get("errors", [])
    if not summary["totals"]["episodes"] and not errors:
        print(f"lit: error: no episode ran: dataset {args.dataset!r} gave none for this selection "
              f"(--groups, --objects, --dataset-opt)", file=sys.stderr)
        return 2
    return report_failures(errors)


def run_line(summary: dict[str, Any], manifest: dict[str, Any], out: Any) -> str:
    """The one-line result of a run, in the task's words (its group noun, score name, correction kinds)."""
    t = summary["totals"]
    noun = manifest.get("group_noun", "group")
    detail = ""
    if manifest.get("prediction_kind") == "binary-mask":
        detail = f" ({t['clicks']} clicks, {t['mask_corrections']} masks)"
    return (f"{t['episodes']} episodes, {t['groups']} {noun}s: {t['user_corrections']} user corrections{detail}, "
            f"{t['auto_corrections']} automatic; {manifest.get('score_name', 'score')}={_f(t['J'])}; results in {out}")


def _set_threads(n: int | None) -> None:
    if n is not None and n < 1:
        raise OptionError(f"--threads must be at least 1, not {n}")
    if n:
        import torch

        torch.set_num_threads(n)


def cmd_demo(args: argparse.Namespace) -> int:
    _set_threads(args.threads)
    check_out_dir(args.out)
    runner = build_registry().get("demo", args.task).factory
    extra = {} if args.videos is None else {"videos": args.videos}
    if args.model_opt:
        extra["model_options"] = parse_options(args.model_opt)
    if args.policy_opt:
        extra["policy_options"] = parse_options(args.policy_opt)
    if args.tau is not None:
        extra["oracle_options"] = {"tau": args.tau}
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    args.jobs = max(1, jobs)
    with using(executor_from_args(args)) as executor:
        try:
            runner(args.out, seed=args.seed, quiet=args.quiet, jobs=args.jobs, **extra)
        finally:
            executor.close()
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from litcore.compare import compare_runs, format_table, write_csv

    table = compare_runs([Path(r) for r in args.runs], allow_incomplete=args.allow_incomplete)
    print(format_table(table))
    if args.csv:
        write_csv(table, args.csv)
    return 0


def _f(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)

"""`lit serve`: build the model, dataset and oracle from the registry, then run the app with uvicorn.

With no arguments it serves the embedded tiny SAM2 on generated hard videos
(`--model sam2 --dataset synth`, split hard), so it works on a fresh machine.
Binding anything but 127.0.0.1 requires an access token (generated and
printed if `--token` is not given).
"""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from litcore.errors import LitcoreError

LOCAL = ("127.0.0.1", "localhost", "::1")


class ServeError(LitcoreError):
    """A bad `lit serve` option (missing extra, unsupported method)."""


def add_serve_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="browser tool: a person corrects, the model learns live (needs litcore[serve])")
    p.add_argument("--model", default="sam2")
    p.add_argument("--dataset", default="synth")
    p.add_argument("--root", default=None, help="dataset root folder; only files under it are read")
    p.add_argument("--model-opt", action="append", metavar="KEY=VALUE", default=[],
                   help="model option, e.g. checkpoint=sam2.1_hiera_base_plus.pt")
    p.add_argument("--dataset-opt", action="append", metavar="KEY=VALUE", default=[])
    p.add_argument("--oracle-opt", action="append", metavar="KEY=VALUE", default=[])
    p.add_argument("--method", default=None,
                   help="a registered method (adapter + policy under one name, e.g. lit-auto); replaces --adapter/--policy")
    p.add_argument("--adapter", default="lora")
    p.add_argument("--adapter-opt", action="append", metavar="KEY=VALUE", default=[])
    p.add_argument("--policy", default="every")
    p.add_argument("--policy-opt", action="append", metavar="KEY=VALUE", default=[])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", default=None, help="access token (required, and generated if absent, off 127.0.0.1)")
    p.add_argument("--max-sessions", type=int, default=8)
    p.add_argument("--idle-minutes", type=float, default=30.0, help="close sessions idle this long")
    p.add_argument("--train-on", choices=("correction", "truth"), default="correction",
                   help="train on the user's corrected prediction (default) or the dataset's ground truth")
    p.add_argument("--sync-updates", action="store_true", help="each accept waits for its adapter update")
    p.add_argument("--study", default=None, help="study.toml: participants, videos, counterbalanced LIT on/off")
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(func=cmd_serve)


def build_app(args: argparse.Namespace, *, token: str | None = None):
    """The FastAPI app for these command-line options (tests call this too)."""
    from litcore.cli.commands import parse_options
    from litcore.options import check_options
    from litcore.plugins import build_registry
    from litcore.serve.app import create_app
    from litcore.serve.gallery import Gallery
    from litcore.serve.sessions import ServeOptions

    reg = build_registry()
    model_entry, data_entry = reg.get("model", args.model), reg.get("dataset", args.dataset)
    if model_entry.task and data_entry.task and model_entry.task != data_entry.task:
        raise ServeError(f"--model {args.model} is a {model_entry.task} model but --dataset {args.dataset} "
                         f"is {data_entry.task}")
    dataset_options = parse_options(args.dataset_opt)
    if args.root:
        dataset_options["root"] = args.root
    if args.dataset == "synth":
        dataset_options.setdefault("split", "hard")
    dataset = data_entry.factory(**dataset_options)
    model = model_entry.factory(**parse_options(args.model_opt))
    oracle = reg.create("oracle", model.default_oracle, **parse_options(args.oracle_opt)) if model.default_oracle else None
    method = _method(reg, args)
    # the backbone's own adapter/policy defaults, the method's, then the user's, exactly as `lit run` merges them
    adapter_opts = {**model.default_adapter_options(args.adapter), **method.get("adapter_options", {}),
                    **parse_options(args.adapter_opt)}
    policy_opts = {**model.default_policy_options(args.policy), **method.get("policy_options", {}),
                   **parse_options(args.policy_opt)}
    check_options(reg.get("adapter", args.adapter), adapter_opts)   # fail now on a bad name or option
    check_options(reg.get("policy", args.policy), policy_opts)
    options = ServeOptions(seed=args.seed, adapter=lambda: reg.create("adapter", args.adapter, **adapter_opts),
                           policy=lambda: reg.create("policy", args.policy, **policy_opts),
                           train_on=args.train_on, background=not args.sync_updates,
                           max_sessions=args.max_sessions, idle_seconds=args.idle_minutes * 60)
    info = {"model": args.model, "dataset": args.dataset, "method": args.method, "adapter": args.adapter,
            "policy": args.policy, "seed": args.seed}
    gallery = Gallery(dataset, model, oracle, root=args.root, info=info)
    study = None
    if args.study:
        from litcore.serve.study import Study

        study = Study.load(args.study, gallery, manifest=_manifest(args, model, options))
    return create_app(gallery, options, token=token, study=study)


def _method(reg: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Resolve `--method` into `args.adapter` / `args.policy` (and the method's option defaults)."""
    if not args.method:
        return {}
    m = reg.get("method", args.method).factory()
    if m.mode != "propose":
        raise ServeError(f"--method {args.method}: its mode {m.mode!r} installs each update into the shared model; "
                         "lit serve proposes revisions, so choose a method with mode 'propose'")
    args.adapter, args.policy = m.adapter, m.policy
    return {"adapter_options": dict(m.adapter_options), "policy_options": dict(m.policy_options)}


def _manifest(args: argparse.Namespace, model: Any, options: Any) -> dict[str, Any]:
    from litcore.cli.commands import parse_options

    return {"spec": {"model": args.model, "dataset": args.dataset, "method": args.method, "adapter": args.adapter,
                     "policy": args.policy,
                     "model_options": parse_options(args.model_opt), "dataset_options": parse_options(args.dataset_opt),
                     "seed": args.seed, "mode": "propose", "train_on": options.train_on},
            "components": {"model": model.describe()}, "group_noun": getattr(model, "group_noun", "group"),
            "score_name": getattr(model, "score_name", "score"),
            "prediction_kind": getattr(model, "prediction_kind", None)}


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError as e:
        raise ServeError("lit serve needs the serve extra: pip install 'litcore[serve]'") from e
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    token = args.token
    if args.host not in LOCAL and not token:
        token = secrets.token_urlsafe(24)
        print(f"access token (required on {args.host}): {token}")
    app = build_app(args, token=token)
    query = f"?token={token}" if token else ""
    print(f"lit serve: http://{args.host}:{args.port}/{query}")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0

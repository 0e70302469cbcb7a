"""The `lit` command line: thin consumers of the plugin registry and the loop.

Sub-commands: `plugins`, `run`, `compare` here; plugins add more through the
``litcore_register_commands`` hook (e.g. `synth`, `demo`).
"""

from __future__ import annotations

import argparse
import sys

from litcore.cli import commands


class CliError(Exception):
    """An error whose message is the whole story (printed without a traceback)."""


def build_parser(pm=None) -> argparse.ArgumentParser:
    from litcore.plugins import get_plugin_manager

    pm = pm or get_plugin_manager()
    parser = argparse.ArgumentParser(prog="lit", description="Live interactive training: models that learn from corrections.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_core_commands(sub)
    pm.hook.litcore_register_commands(subparsers=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from litcore.plugins import PluginLoadError

    try:
        parser = build_parser()
    except PluginLoadError as exc:
        print(f"lit: error: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except commands.USER_ERRORS as exc:
        print(f"lit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Argument parsing; feature sub-commands plug in through ``Feature.cli``."""
from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
from typing import Sequence

from ..runtime import RulesError
from . import core_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=(
        "contributor-flow: a GitHub App that runs a project's contributor flow."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    core_commands.register(sub)
    from ..features import all_features

    for feature in all_features():
        if feature.cli is not None:
            feature.cli(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        result = func(args)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except KeyboardInterrupt:
        return 130
    except RulesError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 1
        return int(exc.code or 0)
    return int(result or 0)

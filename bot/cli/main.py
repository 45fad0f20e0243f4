"""Argument parsing; feature sub-commands plug in through ``Feature.cli``."""
from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sqlite3
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
    except Exception as exc:
        # What the operator's environment causes (a database that cannot be reached or
        # opened, a file or port that cannot be used) is one line, not a traceback;
        # LOG_LEVEL=DEBUG shows the traceback, and anything else is a bug and shows it.
        message = operator_error(exc)
        if message is None or (os.environ.get("LOG_LEVEL") or "").upper() == "DEBUG":
            raise
        print(message, file=sys.stderr)
        return 1
    return int(result or 0)


def operator_error(exc: BaseException) -> str | None:
    from ..settings import _redact_url
    from ..store.db import DatabaseUnavailable, default_sqlite_path

    database = (_redact_url(os.environ.get("DATABASE_URL"))
                or f"the default SQLite file {default_sqlite_path()}")
    if isinstance(exc, (DatabaseUnavailable, sqlite3.DatabaseError)):
        return f"error: the database ({database}) cannot be used: {exc}"
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - both are dependencies
        pass
    else:
        if isinstance(exc, psycopg_pool.PoolTimeout):
            return f"error: cannot connect to the database ({database}): {exc}"
        if isinstance(exc, psycopg.Error):
            return f"error: the database ({database}) cannot be used: {exc}".strip()
    if isinstance(exc, UnicodeDecodeError):
        return f"error: a file is not UTF-8 text ({exc})"
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename:
            return f"error: {exc.filename}: {exc.strerror}"
        return f"error: {exc.strerror or exc}"
    return None

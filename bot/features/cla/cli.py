"""``python -m bot cla export [--format csv|json] [--agreement KEY]``: the signatures on record."""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import datetime, timezone
from typing import Any, Sequence

from . import store

COLUMNS = ("agreement", "login", "user_id", "version", "signed_at", "comment_url", "repo", "recorded_by")


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("cla", help="CLA signatures", description="CLA signatures on record.")
    csub = p.add_subparsers(dest="cla_command", metavar="SUBCOMMAND", required=True)
    e = csub.add_parser("export", help="print every signature (CSV or JSON)",
                        description="Print every stored CLA signature: login, user id, version, "
                                    "time (UTC, ISO 8601) and the link to the signing comment.")
    e.add_argument("--format", choices=("csv", "json"), default="csv")
    e.add_argument("--agreement", default=None, help="only this agreement key")
    e.set_defaults(func=cmd_export)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(float(ts), timezone.utc).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


def render(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    clean = [{**{c: r[c] for c in COLUMNS}, "user_id": int(r["user_id"]), "signed_at": _iso(r["signed_at"])}
             for r in rows]
    if fmt == "json":
        return json.dumps(clean, indent=2) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(clean)
    return out.getvalue()


async def cmd_export(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime

    async with open_runtime(settings_from_env(), with_github=False) as runtime:
        rows = await store.all_signatures(runtime.db)
    if args.agreement:
        rows = [r for r in rows if r["agreement"] == args.agreement.lower()]
    sys.stdout.write(render(rows, args.format))
    return 0

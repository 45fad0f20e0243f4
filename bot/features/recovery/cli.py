"""``python -m bot recover``: look for missed deliveries now, or list what was asked for."""
from __future__ import annotations

import argparse
import json
import socket
import os
from datetime import datetime, timezone


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("recover", help="ask GitHub again for missed webhook deliveries",
                       description="List the App's recent deliveries (JWT), find those "
                                   "that never got a 2xx answer and are not stored, and ask GitHub "
                                   "to redeliver them (needs GITHUB_APP_ID and the private key). "
                                   "It reads back to a little before the last pass that settled "
                                   "everything it saw (max_age the first time); --full reads the "
                                   "whole max_age. --list shows the requests made so far instead.")
    p.add_argument("--list", action="store_true", help="show redelivery requests already made")
    p.add_argument("--full", action="store_true",
                   help="read the delivery log back max_age (3 days by default), e.g. after "
                        "restoring the database from a backup")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recover)


async def cmd_recover(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...log import configure
    from ...runtime import open_runtime
    from . import store
    from .runner import recover

    settings = settings_from_env()
    configure(settings.log_level, settings.log_format)
    async with open_runtime(settings, with_github=not args.list) as runtime:
        if args.list:
            rows = await store.listing(runtime.db)
            if args.json:
                print(json.dumps(rows, indent=2, default=str))
                return 0
            for r in rows:
                when = datetime.fromtimestamp(r["requested_at"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                print(f"{r['guid']:38} {r['event'][:24]:24} {r['status']:10} {when}")
            return 0
        report = await recover(runtime, holder=f"cli:{socket.gethostname()}:{os.getpid()}",
                               full=args.full)
    if args.json:
        print(json.dumps(report.__dict__, default=str))
    elif report.skipped:
        print(f"nothing done: {report.skipped}")
    else:
        print(f"looked at {report.looked_at} attempts; missed {report.missed}; "
              f"asked again for {len(report.requested)}; failed {len(report.failed)}")
    return 1 if report.failed else 0

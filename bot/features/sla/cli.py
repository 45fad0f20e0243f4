"""``python -m bot sla sweep [--now]`` and ``python -m bot sla report``."""
from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or instant: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("sla", help="first-response SLA: run a sweep, print figures",
                       description="First-response SLA operations.")
    ssub = p.add_subparsers(dest="sla_command", metavar="SUBCOMMAND", required=True)
    s = ssub.add_parser("sweep", help="run one SLA sweep now",
                        description="Run one SLA sweep over every installed repository: warnings, "
                                    "breach labels and escalations, as the scheduler would.")
    s.add_argument("--now", type=_instant, default=None,
                   help="the instant to sweep at (ISO 8601, default: now)")
    s.set_defaults(func=cmd_sweep)
    r = ssub.add_parser("report", help="print first-response figures for a repository",
                        description="Time to first response p50/p90 (hours), share within target "
                                    "(over ended windows), breaches and open items past due, per policy.")
    r.add_argument("--repo", required=True, help="OWNER/REPO")
    r.add_argument("--since", type=_instant, default=None, help="start date (default: 28 days ago)")
    r.add_argument("--until", type=_instant, default=None, help="end date, exclusive (default: now)")
    r.add_argument("--format", choices=("md", "json"), default="md")
    r.set_defaults(func=cmd_report)


async def cmd_sweep(args: argparse.Namespace) -> int:
    from ...runtime import open_runtime
    from ...scheduler import run_job
    from ..sla import SWEEP
    from ...cli.core_commands import settings_from_env

    now = args.now or datetime.now(timezone.utc)
    async with open_runtime(settings_from_env()) as runtime:
        # A key of its own: a hand-run sweep never collides with the scheduler's period,
        # and running it twice at the same --now is idempotent.
        count = await run_job(runtime, SWEEP, key=f"cli:{now.isoformat()}", clock=lambda: now)
    print(f"SLA sweep at {now.isoformat()}: {count} action(s)")
    return 0


async def cmd_report(args: argparse.Namespace) -> int:
    from ...runtime import open_runtime
    from ...cli.core_commands import settings_from_env
    from ...store.state import installed_name
    from .report import sla_figures, to_json, to_markdown

    now = datetime.now(timezone.utc)
    until = args.until or now
    since = args.since or until - timedelta(days=28)
    if since >= until:
        raise SystemExit("--since must be before --until")
    async with open_runtime(settings_from_env(), with_github=False) as runtime:
        repo = await installed_name(runtime.db, args.repo)
        figures = await sla_figures(runtime.db, repo, since, until, now)
    print(to_json(figures) if args.format == "json" else to_markdown(figures), end="")
    return 0

"""``python -m bot funnel|backfill|import-gharchive|report weekly``."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from .dates import parse_instant


def _instant(text: str, *, end_of_day: bool = False) -> datetime:
    try:
        return parse_instant(text, end_of_day=end_of_day)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or instant: {text!r}") from None


def _until(text: str) -> datetime:
    return _instant(text, end_of_day=True)


def _repo(text: str) -> str:
    if text.count("/") != 1 or not all(text.split("/")):
        raise argparse.ArgumentTypeError(f"expected OWNER/REPO, got {text!r}")
    return text


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("funnel", help="contributor funnel of a repository or organisation",
                       description="New contributors first seen in the window and how many reached "
                                   "each stage by its end (first_contact, first_pr, first_merge, "
                                   "approver), rates, median hours between stages, monthly cohorts (UTC).")
    p.add_argument("--repo", required=True, help="OWNER/REPO, or OWNER for the whole organisation")
    p.add_argument("--since", type=_instant, default=None, help="start date (default: 6 months before --until)")
    p.add_argument("--until", type=_until, default=None,
                   help="end (a date counts whole; default: now)")
    p.add_argument("--format", choices=("md", "json", "csv"), default="md")
    p.set_defaults(func=cmd_funnel)

    p = sub.add_parser("import-gharchive", help="import GH Archive hour files",
                       description="Import GH Archive hour files (.json or .json.gz, one event per "
                                   "line), streaming; importing a file twice stores nothing twice.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--batch", type=int, default=20000, help="events per transaction")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("backfill", help="read a repository's history through the API",
                       description="Read issues, comments, pull requests, reviews and approver "
                                   "sources (OWNERS/CODEOWNERS history, collaborators, approver teams) "
                                   "since DATE; resumable; waits out the rate limit.")
    p.add_argument("--repo", required=True, type=_repo, help="OWNER/REPO")
    p.add_argument("--since", required=True, type=_instant, help="start date")
    p.add_argument("--restart", action="store_true", help="forget saved progress and start over")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("report", help="funnel reports",
                       description="Funnel reports (see 'report weekly --help').")
    rsub = p.add_subparsers(dest="report_command", metavar="SUBCOMMAND", required=True)
    w = rsub.add_parser("weekly", help="print or post the weekly report",
                        description="Render the weekly report of an ISO week; with --dry-run print "
                                    "it, otherwise create the Discussion (once per week).")
    w.add_argument("--repo", required=True, type=_repo, help="OWNER/REPO")
    w.add_argument("--week", default=None, help="YYYY-Www (default: the last complete week)")
    w.add_argument("--dry-run", action="store_true", help="print, do not post")
    w.set_defaults(func=cmd_report_weekly)


async def _stored_rules(runtime: Any, scope: str) -> Any:
    """A repository's last good rules (its bot lists, approver teams), as its pages and
    reports count it; the command asks GitHub nothing. The bundled rules for an organisation,
    or a repository the bot holds none for."""
    from ...store.state import installed_name

    if "/" not in scope:
        return runtime.bundled
    return await runtime.repo_rules.fallback(await installed_name(runtime.db, scope)) or runtime.bundled


async def cmd_funnel(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime
    from ...store.state import installed_name
    from .query import funnel_for
    from .render import FORMATS

    until = args.until or datetime.now(timezone.utc)
    since = args.since or until - timedelta(days=182)
    if since >= until:
        raise SystemExit("--since must be before --until")
    async with open_runtime(settings_from_env(), with_github=False) as runtime:
        # Shown as GitHub spells it, whatever case was typed (an organisation as typed).
        scope = await installed_name(runtime.db, args.repo) if "/" in args.repo else args.repo
        section = (await _stored_rules(runtime, scope)).section("funnel")
        funnel = await funnel_for(runtime.db, scope, since, until, section)
        from .store import repo_ids
        if not await repo_ids(runtime.db, scope):
            print(f"no stored history for {scope}: run backfill or import-gharchive first",
                  file=sys.stderr)
    sys.stdout.write(FORMATS[args.format](funnel, scope))
    return 0


async def cmd_import(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime
    from .gharchive import import_files
    from .progress import Progress

    bar = Progress("import", unit="events")
    async with open_runtime(settings_from_env(), with_github=False) as runtime:
        stats = await import_files(runtime.db, args.files, batch_events=args.batch,
                                   progress=lambda s: bar.update(s.lines, f"{len(s.files)} file(s)"))
    bar.close()
    plural = "" if stats.bad_lines == 1 else "s"
    print(f"{stats.lines} events read, {stats.relevant} relevant, {stats.acts} acts, "
          f"{stats.bad_lines} malformed line{plural} skipped, {stats.rate:.0f} events/s")
    for example in stats.bad_examples:
        print(f"  skipped {example}")
    if stats.bad_lines > len(stats.bad_examples):
        print(f"  and {stats.bad_lines - len(stats.bad_examples)} more")
    if stats.trimmed:
        more = ", ..." if stats.trimmed_more else ""
        print(f"{stats.trimmed} pull-request event(s) in the trimmed form GitHub has sent since 2025-10-07 "
              f"name no author or merge ({', '.join(stats.trimmed_repos)}{more}): run "
              "'python -m bot backfill --repo OWNER/REPO --since DATE' for those repositories")
    # A skipped line is the data's fault and is reported; a file not (wholly) read means
    # the import is incomplete, which a script running it must be able to see.
    for problem in stats.unreadable:
        print(f"could not read all of: {problem}", file=sys.stderr)
    return 1 if stats.unreadable else 0


async def cmd_backfill(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime
    from .backfill import run_backfill

    async with open_runtime(settings_from_env()) as runtime:
        summary = await run_backfill(runtime, args.repo, args.since, restart=args.restart)
    print(summary)
    return 0


async def cmd_report_weekly(args: argparse.Namespace) -> int:
    from ...cli.core_commands import settings_from_env
    from ...runtime import open_runtime
    from .weekly import normal_week, post_weekly, previous_week

    try:
        week = normal_week(args.week) if args.week else previous_week(datetime.now(timezone.utc))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    async with open_runtime(settings_from_env()) as runtime:
        text = await post_weekly(runtime, args.repo, week, dry_run=args.dry_run)
    print(text)
    return 0

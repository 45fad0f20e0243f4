"""serve, check-rules, replay, deliveries."""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..log import configure as configure_logging
from ..settings import Settings, SettingsError


def settings_from_env() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(str(exc)) from None


def port_number(text: str, *, name: str = "port") -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{name} must be a port number (0-65535), got {text!r}")
    return port


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("serve", help="run the webhook service",
                       description="Run the webhook service (worker and scheduler included).")
    p.add_argument("--host", default=None, help="bind address (default 0.0.0.0)")
    p.add_argument("--port", type=port_number, default=None, help="port (default $PORT or 8080)")
    p.add_argument("--no-worker", action="store_true", help="intake only (another process works)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("check-rules", help="validate a rules directory or a repo config file",
                       description="Validate a rules directory, or a repository's "
                                   ".github/contributor-flow.yml; exit 1 listing every problem.")
    p.add_argument("path", nargs="?", default=None, help="directory or file (default: bundled rules)")
    p.set_defaults(func=cmd_check_rules)

    p = sub.add_parser("replay", help="feed recorded deliveries through the pipeline",
                       description="Feed recorded deliveries (JSON with 'event' and 'payload', or the "
                                   "'headers' + 'body' form) through the same pipeline. Dry-run: "
                                   "prints the actions decided; --execute performs them.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--execute", action="store_true", help="perform the actions (needs credentials)")
    p.add_argument("--json", action="store_true", help="print actions as JSON lines")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("deliveries", help="list stored deliveries, or re-queue them",
                       description="List stored deliveries; 'deliveries retry ID|--dead' re-queues.")
    p.add_argument("--status", choices=("pending", "processing", "done", "failed", "dead"))
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=positive_int, default=100, help="newest N (default 100)")
    p.set_defaults(func=cmd_deliveries)
    dsub = p.add_subparsers(dest="deliveries_command", metavar="SUBCOMMAND")
    r = dsub.add_parser("retry", help="re-queue one delivery or every dead one",
                        description="Re-queue a delivery by id, or every dead delivery with --dead.")
    r.add_argument("delivery_id", nargs="?")
    r.add_argument("--dead", action="store_true")
    r.set_defaults(func=cmd_deliveries_retry)


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from ..web.app import create_app

    settings = settings_from_env()
    configure_logging(settings.log_level, settings.log_format)
    if not settings.webhook_secret:
        raise SystemExit("GITHUB_WEBHOOK_SECRET is required: set it to the App's webhook secret")
    if args.port is not None:
        port = args.port
    else:
        try:
            port = port_number(os.environ.get("PORT") or "8080", name="PORT")
        except argparse.ArgumentTypeError as exc:
            raise SystemExit(str(exc)) from None
    host = args.host or "0.0.0.0"
    # SQLite is for one process: a second worker on the same file would take the first one's
    # unfinished deliveries back at its start-up and process them a second time.
    lock = None if args.no_worker else hold_sqlite_file(settings.database_url)
    try:
        app = create_app(settings, run_worker=not args.no_worker)
        web.run_app(app, host=host, port=port, access_log=None, print=lambda *_: None,
                    handle_signals=True)
    finally:
        if lock is not None:
            lock.close()
    return 0


def sqlite_path(database_url: str | None) -> str | None:
    """The SQLite file DATABASE_URL names (as bot.store.db.connect reads it), else None."""
    from urllib.parse import urlparse

    from ..store.db import default_sqlite_path

    if not database_url:
        return default_sqlite_path()
    if urlparse(database_url).scheme != "sqlite":
        return None
    path = (database_url[len("sqlite:///"):] if database_url.startswith("sqlite:///")
            else urlparse(database_url).path)
    path = path or default_sqlite_path()
    return None if path == ":memory:" else path


def hold_sqlite_file(database_url: str | None):
    """Lock ``<file>.lock`` for the life of the process (released by the kernel even on
    ``kill -9``), or exit naming the database when another ``serve`` holds it."""
    import fcntl

    path = sqlite_path(database_url)
    if path is None:
        return None
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fh = open(f"{path}.lock", "a")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise SystemExit(f"another 'serve' is already running on the SQLite database {path}: SQLite is "
                         "for one process (use PostgreSQL for several replicas)") from None
    return fh


def cmd_check_rules(args: argparse.Namespace) -> int:
    from ..features import all_features
    from ..rules.cli import check_rules
    from ..rules.registry import sections_of

    rules_dir = settings_from_env().rules_dir
    return check_rules(args.path, sections_of(all_features()), rules_dir=rules_dir)


def load_recording(path: str) -> tuple[str, str, str]:
    """(event, delivery id, raw JSON payload) from either recording form."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        data = {}
    if "headers" in data and "body" in data:
        headers = {k.lower(): v for k, v in data["headers"].items()}
        body = data["body"]
        text = body if isinstance(body, str) else json.dumps(body)
        if not headers.get("x-github-event"):
            raise ValueError("the headers have no X-GitHub-Event: which event is it?")
        return (headers["x-github-event"], headers.get("x-github-delivery", "")
                or f"replay-{Path(path).stem}", text)
    if "event" in data and "payload" in data:
        return data["event"], data.get("delivery_id") or f"replay-{Path(path).stem}", json.dumps(data["payload"])
    raise ValueError("expected a JSON object {event, payload} or {headers, body}")


async def cmd_replay(args: argparse.Namespace) -> int:
    from ..core.events import Event
    from ..pipeline import decide, process
    from ..runtime import open_runtime
    from ..store import deliveries

    settings = settings_from_env()
    configure_logging("WARNING" if not args.execute else settings.log_level, settings.log_format)
    # Without --execute nothing is performed, on GitHub or in the store: decide() only reads
    # (with the App's credentials when given, so lookups see what the live bot would see).
    status = 0
    async with open_runtime(settings) as runtime:
        for path in args.files:
            try:
                event_name, delivery_id, text = load_recording(path)
                event = Event(name=event_name, payload=json.loads(text), delivery_id=delivery_id)
                subject = event.subject
            except (OSError, ValueError) as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                status = 1
                continue
            except (TypeError, AttributeError) as exc:
                print(f"{path}: the payload is not an object with GitHub's field types ({exc})",
                      file=sys.stderr)
                status = 1
                continue
            print(f"== {path}: {event.qualified} {subject}")
            if args.execute:
                await deliveries.insert(runtime.db, delivery_id=delivery_id, event=event_name,
                                        action=event.action, repo=event.repo, subject=event.subject,
                                        installation_id=event.installation_id, body=text)
                stored = await deliveries.get(runtime.db, delivery_id)
                assert stored is not None
                decision = await process(runtime, stored)
            else:
                decision = await decide(runtime, event)
            if decision.ignored:
                print(f"   ignored: {decision.ignored}")
            for feature, actions in decision.batches:
                for action in actions:
                    if args.json:
                        print(json.dumps({"feature": feature, **action.to_dict()}, default=str))
                    else:
                        print(f"   {feature}: {action.describe()}")
            for name, err in decision.errors:
                print(f"   ERROR {name}: {err}", file=sys.stderr)
                status = 1
    return status


def _fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _with_db(fn):
    from ..runtime import open_runtime

    async with open_runtime(settings_from_env(), with_github=False) as runtime:
        return await fn(runtime.db)


async def cmd_deliveries(args: argparse.Namespace) -> int:
    from ..store import deliveries

    rows: list[dict[str, Any]] = await _with_db(
        lambda db: deliveries.listing(db, status=args.status, limit=args.limit))
    if args.json:
        print(json.dumps([dict(r, received_at=_fmt_time(r["received_at"])) for r in rows], indent=2))
        return 0
    print(f"{'ID':38} {'EVENT':28} {'STATUS':10} {'ATT':>3}  RECEIVED")
    for r in rows:
        event = f"{r['event']}.{r['action']}" if r["action"] else r["event"]
        print(f"{r['delivery_id'][:38]:38} {event[:28]:28} {r['status']:10} {r['attempts']:>3}  "
              f"{_fmt_time(r['received_at'])}")
    return 0


async def cmd_deliveries_retry(args: argparse.Namespace) -> int:
    from ..store import deliveries

    if not args.dead and not args.delivery_id:
        print("give a delivery id or --dead", file=sys.stderr)
        return 2
    async def run(db):
        n = await deliveries.requeue(db, delivery_id=args.delivery_id, dead=args.dead)
        found = None if args.dead or n else await deliveries.get(db, args.delivery_id)
        return n, found

    n, found = await _with_db(run)
    if not args.dead and not n:
        if found is None:
            print(f"no delivery {args.delivery_id!r} is stored", file=sys.stderr)
        else:
            print(f"delivery {args.delivery_id} is {found.status}: only failed, dead or done ones "
                  "are re-queued", file=sys.stderr)
        return 1
    print(f"re-queued {n} deliver{'y' if n == 1 else 'ies'}")
    return 0

"""Funnel speed: GH Archive import rate, funnel time over 1,000,000 stored events, and
peak memory while importing a 1,000,000-event file.

The real hour ../shared/data/gharchive/2015-01-01-12.json.gz (8,273 events) is scaled
up with renumbered copies: copy k shifts event ids, object ids (comments, reviews),
issue/PR numbers, user ids and logins, and moves the timestamps k hours on, so every
copy adds new acts and new contributors instead of being deduplicated. Figures:

1. import rate: ``python -m bot import-gharchive`` on a 1,000,000-event file into a
   fresh SQLite file (a child process, so its peak RSS is the import's);
2. more renumbered copies (funnel event types only) until 1,000,000 acts are stored,
   then the funnel of the busiest repository and of the whole store's largest
   organisation, timed;
3. the worst case for one repository: 1,000,000 acts of 250,000 contributors all in
   one repository, funnel timed.

    .venv/bin/python benchmarks/funnel_speed.py [--events 1000000] [--workdir /tmp/funnel-bench]
"""
from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOUR = ROOT.parent / "shared" / "data" / "gharchive" / "2015-01-01-12.json.gz"

from bot.features.funnel.extract import ARCHIVE_TYPES  # noqa: E402

NUMBER_SHIFT = 30_000        # issue/PR numbers per copy (item keys hold 22 bits of number)
# Copies whose numbers would pass 2**22 (the importer refuses those as malformed) start again
# from the hour's own numbers in repositories of new ids and names, so every copy stays new.
COPIES_PER_REPO = (1 << 22) // NUMBER_SHIFT - 2
REPO_SHIFT = 1_000_000_000   # repository ids per round of COPIES_PER_REPO copies
ID_SHIFT = 10_000_000_000    # event, comment and review ids per copy
USER_SHIFT = 1_000_000_000   # user ids per copy


def _shift_time(value: str, hours: int) -> str:
    t = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() + hours * 3600
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _user(u: dict, k: int) -> None:
    if isinstance(u, dict) and u.get("id") is not None and u.get("login") != "ghost":
        u["id"] += k * USER_SHIFT
        u["login"] = f"{u['login']}-{k}"


def renumber(obj: dict, k: int) -> dict:
    obj["id"] = str(int(obj["id"]) + k * ID_SHIFT)
    obj["created_at"] = _shift_time(obj["created_at"], k)
    if obj.get("type") not in ARCHIVE_TYPES:
        return obj
    rounds, within = divmod(k, COPIES_PER_REPO)
    repo = obj.get("repo")
    if rounds and isinstance(repo, dict) and repo.get("id") is not None:
        repo["id"] = int(repo["id"]) + rounds * REPO_SHIFT
        repo["name"] = f"{repo.get('name')}-{rounds}"
    p = obj.get("payload") or {}
    for key in ("issue", "pull_request"):
        item = p.get(key)
        if isinstance(item, dict):
            item["number"] = int(item.get("number") or 0) + within * NUMBER_SHIFT
            _user(item.get("user"), k)
            for field in ("created_at", "merged_at"):
                if item.get(field):
                    item[field] = _shift_time(item[field], k)
    for key in ("comment", "review"):
        obj_ = p.get(key)
        if isinstance(obj_, dict):
            obj_["id"] = int(obj_["id"]) + k * ID_SHIFT
            _user(obj_.get("user"), k)
            for field in ("created_at", "submitted_at"):
                if obj_.get(field):
                    obj_[field] = _shift_time(obj_[field], k)
    _user(p.get("member"), k)
    return obj


def make_file(path: Path, events: int, *, relevant_only: bool, first_copy: int) -> int:
    """Write ``events`` renumbered events (copies first_copy, first_copy+1, ...)."""
    lines = [orjson.loads(line) for line in gzip.open(HOUR, "rb")]
    if relevant_only:
        lines = [o for o in lines if o.get("type") in ARCHIVE_TYPES]
    written, k = 0, first_copy
    with gzip.open(path, "wb", compresslevel=1) as out:
        while written < events:
            for obj in lines:
                if written >= events:
                    break
                out.write(orjson.dumps(renumber(orjson.loads(orjson.dumps(obj)), k)) + b"\n")
                written += 1
            k += 1
    return k


def run_import(db_url: str, path: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, output) of the CLI importing ``path`` in a child process."""
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "import-gharchive", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb // 1024, done.stdout.strip()


async def time_funnel(db_url: str, scope: str) -> tuple[float, list[int]]:
    from bot.features.funnel.query import funnel_for
    from bot.store.db import connect
    from tests.helpers import bundled_rules

    db = await connect(db_url)
    try:
        section = bundled_rules().section("funnel")
        started = time.perf_counter()
        funnel = await funnel_for(db, scope, datetime(2014, 12, 1, tzinfo=timezone.utc),
                                  datetime(2016, 1, 1, tzinfo=timezone.utc), section)
        return time.perf_counter() - started, [s.contributors for s in funnel.stages]
    finally:
        await db.close()


async def fill_one_repo(db_url: str, acts: int, contributors: int) -> None:
    """``acts`` acts of ``contributors`` people in one repository, written in batches."""
    from bot.features.funnel.extract import COMMENT, MERGED, PR_OPENED, Act, item_key, object_key
    from bot.features.funnel.store import Batch, write_batch
    from bot.runtime import load_features, migration_namespaces
    from bot.store.db import connect
    from bot.store.migrate import migrate

    db = await connect(db_url)
    await migrate(db, migration_namespaces(load_features()))
    repo_id, t0, n = 1, int(datetime(2015, 1, 1, tzinfo=timezone.utc).timestamp()), 0
    try:
        while n < acts:
            batch = Batch()
            batch.add_repo(repo_id, "bench/one-big-repo")
            chunk = []
            for i in range(n, min(n + 50_000, acts)):
                uid = 10 + i % contributors
                at = t0 + (i * 37) % (365 * 86400)
                kind = (COMMENT, COMMENT, PR_OPENED, MERGED)[i % 4]
                key = object_key(i, kind) if kind == COMMENT else item_key(repo_id, i % 4_000_000, kind)
                chunk.append(Act(key, kind, uid, f"user{uid}", False, at))
            batch.add_acts(repo_id, chunk)
            await write_batch(db, batch)
            n += len(chunk)
    finally:
        await db.close()


def count(db_path: Path, sql: str) -> int:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stored", type=int, default=1_000_000, help="acts to reach for the funnel timing")
    parser.add_argument("--workdir", default="/tmp/funnel-bench")
    args = parser.parse_args()
    if not HOUR.exists():
        raise SystemExit(f"{HOUR} is missing (../shared/data/gharchive)")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "funnel.sqlite3"
    for p in work.glob("funnel.sqlite3*"):
        p.unlink()
    db_url = f"sqlite:///{db_path}"

    big = work / f"scaled-{args.events}.json.gz"
    print(f"writing {args.events:,} renumbered events to {big} ...", flush=True)
    next_copy = make_file(big, args.events, relevant_only=False, first_copy=0)
    seconds, peak_mb, out = run_import(db_url, big)
    print(f"import: {args.events:,} events in {seconds:.1f} s (process start and migrations included)"
          f" = {args.events / seconds:,.0f} events/s; peak RSS {peak_mb} MB\n  {out}")

    stored = count(db_path, "SELECT COUNT(*) FROM funnel_acts")
    if stored < args.stored:
        per_copy = stored / max(next_copy, 1)
        extra = int((args.stored - stored) / per_copy * 1.02 * 1369) + 1369
        more = work / "more-relevant.json.gz"
        print(f"topping up: {stored:,} acts stored; writing {extra:,} more funnel events ...", flush=True)
        make_file(more, extra, relevant_only=True, first_copy=next_copy)
        seconds, _, out = run_import(db_url, more)
        print(f"import (funnel events only): {extra:,} events in {seconds:.1f} s\n  {out}")
    stored = count(db_path, "SELECT COUNT(*) FROM funnel_acts")
    busiest = count(db_path, "SELECT repo_id FROM funnel_milestones GROUP BY repo_id ORDER BY COUNT(*) DESC LIMIT 1")
    import sqlite3
    with sqlite3.connect(db_path) as conn:
        name = conn.execute("SELECT name FROM funnel_repos WHERE repo_id = ?", (busiest,)).fetchone()[0]
        org = conn.execute("SELECT substr(name_key, 1, instr(name_key, '/') - 1) o, COUNT(*) c FROM funnel_repos"
                           " GROUP BY o ORDER BY c DESC LIMIT 1").fetchone()[0]
    for scope in (name, org):
        seconds, stages = asyncio.run(time_funnel(db_url, scope))
        print(f"funnel of {scope} over {stored:,} stored acts: {seconds * 1000:.0f} ms (stages {stages})")

    one = work / "one-repo.sqlite3"
    for p in work.glob("one-repo.sqlite3*"):
        p.unlink()
    print("one repository holding 1,000,000 acts of 250,000 contributors ...", flush=True)
    asyncio.run(fill_one_repo(f"sqlite:///{one}", 1_000_000, 250_000))
    seconds, stages = asyncio.run(time_funnel(f"sqlite:///{one}", "bench/one-big-repo"))
    print(f"funnel of bench/one-big-repo over 1,000,000 acts: {seconds * 1000:.0f} ms (stages {stages})")


if __name__ == "__main__":
    main()

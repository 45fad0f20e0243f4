"""Versioned migrations, applied at start-up, safe with several replicas.

Each namespace (``core`` and every feature with ``Feature.migrations``) is a package
of files ``NNNN_name.sql``. A file may instead come as ``NNNN_name.sqlite.sql`` and
``NNNN_name.postgresql.sql`` when the dialects differ. Two placeholders keep most
files portable: ``{{serial_pk}}`` (an auto-increment integer primary key) and
``{{blob}}``. On PostgreSQL the whole run holds an advisory lock, so replicas that
start together apply each migration once; the first run there also installs the schema of
the work queue (procrastinate's, see ``jobqueue``).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources
from typing import Iterable

from . import jobqueue
from .db import Database

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgresql))?\.sql$")
MIGRATION_LOCK = 0x6366_6D69  # "cfmi"

_SUBST = {
    "sqlite": {"{{serial_pk}}": "INTEGER PRIMARY KEY AUTOINCREMENT", "{{blob}}": "BLOB"},
    "postgresql": {"{{serial_pk}}": "BIGSERIAL PRIMARY KEY", "{{blob}}": "BYTEA"},
}


@dataclass(frozen=True)
class Migration:
    namespace: str
    version: int
    name: str
    sql: str


def discover(namespace: str, package: str, dialect: str) -> list[Migration]:
    found: dict[int, Migration] = {}
    for entry in resources.files(package).iterdir():
        m = _NAME.match(entry.name)
        if not m:
            continue
        version, name, only = int(m.group(1)), m.group(2), m.group(3)
        if only and only != dialect:
            continue
        sql = entry.read_text(encoding="utf-8")
        for key, value in _SUBST[dialect].items():
            sql = sql.replace(key, value)
        if version in found and not only:
            continue  # the dialect-specific file wins
        found[version] = Migration(namespace, version, name, sql)
    return [found[v] for v in sorted(found)]


def split_statements(sql: str) -> list[str]:
    # Migrations are plain DDL/DML, plus the odd PostgreSQL DO block: a semicolon ends
    # a statement unless it is inside a $$-quoted body. (No semicolons inside literals.)
    lines = [ln for ln in sql.splitlines() if not ln.strip().startswith("--")]
    statements, current, in_body = [], [], False
    for token in re.split(r"(\$\$|;)", "\n".join(lines)):
        if token == ";" and not in_body:
            statements.append("".join(current))
            current = []
            continue
        if token == "$$":
            in_body = not in_body
        current.append(token)
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


async def migrate(db: Database, namespaces: Iterable[tuple[str, str]]) -> list[Migration]:
    """Apply pending migrations of ``(namespace, package)`` pairs; returns those applied."""
    applied: list[Migration] = []
    async with db.advisory_lock(MIGRATION_LOCK):
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " namespace TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
            " applied_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (namespace, version))")
        rows = await db.fetchall("SELECT namespace, version FROM schema_migrations")
        done = {(r["namespace"], r["version"]) for r in rows}
        for namespace, package in namespaces:
            for mig in discover(namespace, package, db.dialect):
                if (namespace, mig.version) in done:
                    continue
                for statement in split_statements(mig.sql):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations (namespace, version, name, applied_at)"
                    " VALUES (?, ?, ?, ?)", (namespace, mig.version, mig.name, time.time()))
                applied.append(mig)
        if db.dialect == "postgresql" and (jobqueue.SCHEMA_NAMESPACE, 1) not in done:
            # The work queue's tables and functions, as procrastinate ships them (its own
            # script: it is not ours to split into statements).
            await db.execute_script(jobqueue.schema_sql())  # type: ignore[attr-defined]
            await db.execute(
                "INSERT INTO schema_migrations (namespace, version, name, applied_at)"
                " VALUES (?, ?, ?, ?)", (jobqueue.SCHEMA_NAMESPACE, 1,
                                         f"schema of procrastinate {jobqueue.schema_version()}", time.time()))
    return applied

"""Migration 0004 of the SLA: the audit trail's key takes the detail in, on a database
that already holds events (both back ends)."""
from __future__ import annotations

import time

from bot.features.sla import store
from bot.store.db import connect
from bot.store.migrate import discover, migrate, split_statements
from tests.conftest import BOTH_BACKENDS

SLA = ("sla", "bot.features.sla.migrations")


@BOTH_BACKENDS
async def test_events_stored_before_are_kept_and_same_instant_events_are_told_apart(database_url):
    db = await connect(database_url)
    try:
        # The schema as it was before 0004, with events in it.
        await migrate(db, [])  # the migrations table
        for mig in discover(*SLA, db.dialect):
            if mig.version < 4:
                for statement in split_statements(mig.sql):
                    await db.execute(statement)
                await db.execute("INSERT INTO schema_migrations (namespace, version, name, applied_at)"
                                 " VALUES (?, ?, ?, ?)", ("sla", mig.version, mig.name, time.time()))
        old = [("o/r", 7, "", "paused", 5.0, "label:needs-info"), ("o/r", 7, "bugs", "started", 0.0, "")]
        for row in old:
            await db.execute("INSERT INTO sla_events (repo, number, policy, kind, at, detail)"
                             " VALUES (?, ?, ?, ?, ?, ?)", row)

        assert [m.version for m in await migrate(db, [SLA])] == [4]

        assert sorted((e["policy"], e["kind"], e["at"], e["detail"]) for e in await store.events(db, "o/r", 7)) == \
            sorted(row[2:] for row in old)
        await store.label_removed(db, repo="o/r", number=7, label="needs-info", at=9.0)
        await store.label_removed(db, repo="o/r", number=7, label="Waiting-For-Author", at=9.0)
        await store.label_removed(db, repo="o/r", number=7, label="needs-info", at=9.0)  # redelivered
        removed = [e["detail"] for e in await store.events(db, "o/r", 7) if e["kind"] == "unlabeled"]
        assert sorted(removed) == ["needs-info", "waiting-for-author"]
    finally:
        await db.close()

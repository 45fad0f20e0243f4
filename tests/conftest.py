"""Shared fixtures: the fake GitHub, databases on both back ends."""
from __future__ import annotations

import os
import uuid
from typing import AsyncIterator

import pytest
import pytest_asyncio

pytest_plugins = ["tests.fakegithub.pytest_plugin"]

PG_BASE_URL = "postgresql://postgres@127.0.0.1:5432/contributor_flow_test"


def pg_base_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", PG_BASE_URL)


def pg_schema_url(schema: str) -> str:
    """A URL whose connections see only ``schema``: every test gets an empty database."""
    base = pg_base_url()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


async def _pg_admin(sql: str) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(pg_base_url(), autocommit=True) as conn:
        await conn.execute(sql)


@pytest_asyncio.fixture
async def database_url(request, tmp_path) -> AsyncIterator[str]:
    """A fresh, empty database URL; parametrise with ``indirect`` for both back ends."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f"CREATE SCHEMA {schema}")
    try:
        yield pg_schema_url(schema)
    finally:
        await _pg_admin(f"DROP SCHEMA {schema} CASCADE")


BOTH_BACKENDS = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def db(request, tmp_path):
    """A migrated database (core + every feature), on SQLite and on PostgreSQL."""
    from bot.runtime import load_features, migration_namespaces
    from bot.store.db import connect
    from bot.store.migrate import migrate

    if request.param == "sqlite":
        database = await connect(f"sqlite:///{tmp_path / 'bot.sqlite3'}")
        schema = None
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        await _pg_admin(f"CREATE SCHEMA {schema}")
        database = await connect(pg_schema_url(schema))
    try:
        await migrate(database, migration_namespaces(load_features()))
        yield database
    finally:
        await database.close()
        if schema:
            await _pg_admin(f"DROP SCHEMA {schema} CASCADE")

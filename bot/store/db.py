"""One small async database interface over SQLite and PostgreSQL.

SQL is written once with ``?`` placeholders; the PostgreSQL adapter turns them into
``%s``. Rows come back as dicts. Timestamps are stored as epoch seconds (float)
so both back ends compare and index them the same way.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Sequence
from urllib.parse import urlparse

Params = Sequence[Any]

# How long an SQLite statement waits for another process's write lock (the CLI's).
BUSY_TIMEOUT_MS = 10000


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached (intake answers 503, readiness fails)."""


class Database:
    dialect: str = ""
    url: str = ""

    async def execute(self, sql: str, params: Params = ()) -> int:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def fetchone(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return next(iter(row.values())) if row else None

    def transaction(self) -> "contextlib.AbstractAsyncContextManager[Database]":
        raise NotImplementedError

    async def ping(self) -> None:
        await self.fetchval("SELECT 1")

    async def close(self) -> None:  # pragma: no cover - overridden
        pass

    async def advisory_lock(self, key: int) -> "contextlib.AbstractAsyncContextManager[None]":
        raise NotImplementedError


# --- SQLite ------------------------------------------------------------------------

class _Checkpointer(threading.Thread):
    """Passive WAL checkpoints every second on a separate connection (never blocks writers)."""

    def __init__(self, path: str, interval: float = 1.0) -> None:
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.path = path
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # busy or closing: the next round tries again
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop_event.set()


class SQLiteDatabase(Database):
    """One connection on one dedicated thread: SQLite allows one writer anyway, and
    the thread keeps the event loop free while a statement runs."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.url = f"sqlite:///{path}"
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        self._lock = asyncio.Lock()  # serialises transactions across tasks
        self._tx_owner: asyncio.Task | None = None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process kill (the WAL is in the OS before
        # COMMIT returns); only power loss could drop the last transactions.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Statement journals (a multi-row INSERT keeps one, to undo itself on a conflict)
        # spill to a temporary file past 64 KB; a batch of intake rows does, and creating,
        # writing and unlinking that file cost a quarter of the batch. In memory instead.
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA foreign_keys=ON")
        if self.path != ":memory:":
            # Checkpoints (copying the WAL back into the database) run on a thread of
            # their own, so writers, intake above all, do not pay for them; the large
            # automatic threshold is only a safety net should that thread fall behind.
            conn.execute("PRAGMA wal_autocheckpoint=20000")
            self._checkpointer = _Checkpointer(self.path)
            self._checkpointer.start()
        return conn

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()

        def call():
            if self._conn is None:
                self._conn = self._open()
            return fn(self._conn, *args)

        return await loop.run_in_executor(self._pool, call)

    @contextlib.asynccontextmanager
    async def _guard(self):
        # Statements outside a transaction wait for any open transaction of another task.
        if self._tx_owner is not None and self._tx_owner is asyncio.current_task():
            yield
            return
        async with self._lock:
            yield

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._guard():
            return await self._run(lambda c: c.execute(sql, tuple(params)).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        rows = [tuple(r) for r in rows]
        async with self._guard():
            await self._run(lambda c: c.executemany(sql, rows))

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        async with self._guard():
            return await self._run(
                lambda c: [dict(r) for r in c.execute(sql, tuple(params)).fetchall()])

    async def run_sync(self, fn, *, inline: bool = False):
        """Run ``fn(connection)`` as one unit (no other statement interleaves): the
        cheapest way to do many small writes at once. ``inline`` runs it on the event
        loop's own thread: for a short batch that costs less than handing it to the
        database thread and fighting that thread for the GIL."""
        async with self._guard():
            if not inline:
                return await self._run(fn)
            if self._conn is None:
                await self._run(lambda c: None)  # opens it, with its pragmas
            return fn(self._conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator["SQLiteDatabase"]:
        if self._tx_owner is asyncio.current_task():
            yield self  # nested: part of the outer transaction
            return
        async with self._lock:
            self._tx_owner = asyncio.current_task()
            try:
                await self._run(lambda c: c.execute("BEGIN IMMEDIATE"))
                try:
                    yield self
                except BaseException:
                    await self._run(lambda c: c.execute("ROLLBACK"))
                    raise
                else:
                    await self._run(lambda c: c.execute("COMMIT"))
            finally:
                self._tx_owner = None

    @contextlib.asynccontextmanager
    async def advisory_lock(self, key: int) -> AsyncIterator[None]:
        # One process owns an SQLite file; the transaction lock is enough.
        async with self.transaction():
            yield

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._pool, conn.close)
        self._pool.shutdown(wait=False)


# --- PostgreSQL --------------------------------------------------------------------

_QMARK = re.compile(r"\?")


def to_pyformat(sql: str) -> str:
    return _QMARK.sub("%s", sql.replace("%", "%%"))


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        from psycopg_pool import AsyncConnectionPool

        self.url = url
        self._pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, open=False,
                                         kwargs={"autocommit": True}, timeout=10)
        self._tx_conn: dict[asyncio.Task, Any] = {}
        self._sql_cache: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        out = self._sql_cache.get(sql)
        if out is None:
            out = self._sql_cache[sql] = to_pyformat(sql)
        return out

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=10)

    @contextlib.asynccontextmanager
    async def _conn(self):
        import psycopg
        import psycopg_pool

        task = asyncio.current_task()
        if task in self._tx_conn:
            yield self._tx_conn[task]
            return
        try:
            async with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._conn() as conn:
            cur = await conn.execute(self._sql(sql), tuple(params))
            return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._conn() as conn:
            async with conn.cursor() as cur:
                await cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    async def fetchall(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        async with self._conn() as conn:
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(self._sql(sql), tuple(params))
                return list(await cur.fetchall()) if cur.description else []

    async def execute_script(self, sql: str) -> None:
        """Several statements as they are: no parameters, no placeholder rewriting."""
        async with self._conn() as conn:
            await conn.execute(sql)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator["PostgresDatabase"]:
        task = asyncio.current_task()
        if task in self._tx_conn:
            yield self
            return
        async with self._conn() as conn:
            async with conn.transaction():
                self._tx_conn[task] = conn
                try:
                    yield self
                finally:
                    self._tx_conn.pop(task, None)

    @contextlib.asynccontextmanager
    async def advisory_lock(self, key: int) -> AsyncIterator[None]:
        async with self.transaction():
            await self.execute("SELECT pg_advisory_xact_lock(?)", (key,))
            yield

    async def close(self) -> None:
        await self._pool.close()


def default_sqlite_path() -> str:
    return os.path.join("var", "contributor-flow.sqlite3")


async def connect(url: str | None) -> Database:
    """``None``/empty → the embedded SQLite file; ``sqlite:///path``; ``postgresql://...``."""
    if not url:
        return SQLiteDatabase(default_sqlite_path())
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parsed.path
        return SQLiteDatabase(path or default_sqlite_path())
    if parsed.scheme in ("postgres", "postgresql"):
        db = PostgresDatabase(url.replace("postgres://", "postgresql://", 1))
        await db.open()
        return db
    raise ValueError(f"DATABASE_URL scheme {parsed.scheme!r} is not supported (sqlite or postgresql)")

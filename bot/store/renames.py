"""Moving a repository's rows from its old name to its new one (a rename or a transfer).

Every table keys its rows by the repository's full name, as GitHub sends it, in a ``repo``
column. Rather than one hand-written statement per table, the move finds those tables in the
database itself (any table with a ``repo`` column, present or added by a later migration) and
their unique keys, so a key conflict (rows already written under the new name before the rename
was noticed) is settled before the rename instead of failing it: the new-name row stays,
being the later one, unless the table is declared ``keep_old`` (a fact recorded once, whose
first record is the one that counts). Names held elsewhere than in a ``repo`` column are
declared by their namespace (``NameColumns``): an owner column to follow a transfer, text keys
to rewrite, and columns a rename leaves alone, with why. tests/store/test_repo_renames.py fails
for any column that might hold a name and is declared nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable, Iterable, Mapping

from .db import Database

REPO_COLUMN = "repo"
# (db, old, new) -> rows rewritten: a text key that embeds the repository's name.
Rewriter = Callable[[Database, str, str], Awaitable[int]]


@dataclass(frozen=True)
class NameColumns:
    """How one namespace (core, a feature) keeps repository names besides ``repo`` columns."""
    # table -> column holding the repository's owner in lower case: follows a transfer.
    owners: Mapping[str, str] = field(default_factory=dict)
    # "table.column" -> what rewrites the name inside that text key.
    rewrite: Mapping[str, Rewriter] = field(default_factory=dict)
    # Tables whose conflicting rows are settled in favour of the old name's (see module doc).
    keep_old: frozenset[str] = frozenset()
    # "table.column" -> why a rename leaves that column as it is (a repo column included).
    kept: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Declarations:
    """All namespaces' declarations together."""
    owners: Mapping[str, str]
    rewrite: Mapping[str, Rewriter]
    keep_old: frozenset[str]
    kept: Mapping[str, str]

    @classmethod
    def of(cls, parts: Iterable[NameColumns]) -> "Declarations":
        owners: dict[str, str] = {}
        rewrite: dict[str, Rewriter] = {}
        kept: dict[str, str] = {}
        keep_old: set[str] = set()
        for part in parts:
            owners.update(part.owners)
            rewrite.update(part.rewrite)
            kept.update(part.kept)
            keep_old |= part.keep_old
        return cls(owners, rewrite, frozenset(keep_old), kept)

    def declared(self, table: str, column: str) -> bool:
        dotted = f"{table}.{column}"
        return dotted in self.rewrite or dotted in self.kept or self.owners.get(table) == column


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[str, ...]
    unique_keys: tuple[frozenset[str], ...]  # primary key and unique constraints/indexes


async def table_shapes(db: Database) -> list[TableShape]:
    """Every table of the database (the current schema on PostgreSQL), with its unique keys."""
    shapes = []
    if db.dialect == "sqlite":
        names = [r["name"] for r in await db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        for name in names:
            cols = tuple(r["name"] for r in await db.fetchall(f"PRAGMA table_info({name})"))
            keys = []
            for index in await db.fetchall(f"PRAGMA index_list({name})"):
                if index["unique"] and not index.get("partial"):
                    info = await db.fetchall(f"PRAGMA index_info({index['name']})")
                    keys.append(frozenset(r["name"] for r in info if r["name"]))
            pk = [r["name"] for r in await db.fetchall(f"PRAGMA table_info({name})") if r["pk"]]
            if pk:  # an INTEGER PRIMARY KEY is the rowid: no index lists it
                keys.append(frozenset(pk))
            shapes.append(TableShape(name, cols, tuple(set(keys))))
        return shapes
    rows = await db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
    columns: dict[str, list[str]] = {}
    for r in rows:
        columns.setdefault(r["table_name"], []).append(r["column_name"])
    index_rows = await db.fetchall(
        "SELECT t.relname AS table_name, c.relname AS index_name, a.attname AS column_name"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indisunique AND i.indpred IS NULL AND n.nspname = current_schema()")
    keys: dict[str, dict[str, set[str]]] = {}
    for r in index_rows:
        keys.setdefault(r["table_name"], {}).setdefault(r["index_name"], set()).add(r["column_name"])
    for name in sorted(columns):
        shapes.append(TableShape(name, tuple(columns[name]),
                                 tuple(frozenset(k) for k in keys.get(name, {}).values())))
    return shapes


def _same_key(key: frozenset[str], table: str, other: str) -> str:
    return " AND ".join(f"{other}.{c} = {table}.{c}" for c in sorted(key - {REPO_COLUMN}))


async def move(db: Database, old: str, new: str, decl: Declarations, *,
               owner_changed: bool | None = None) -> dict[str, int]:
    """Rewrite every row kept under ``old`` to ``new`` (exact names, as GitHub sends them);
    returns the rows moved per table (those dropped as conflicts not counted). Run it inside
    the caller's transaction: all or nothing."""
    if old == new:
        return {}
    new_owner = new.split("/", 1)[0].lower()
    if owner_changed is None:
        owner_changed = old.split("/", 1)[0].lower() != new_owner
    moved: dict[str, int] = {}
    # Keys embedding the name first: their tables' repo columns are then moved like any other.
    for dotted, rewriter in sorted(decl.rewrite.items()):
        count = await rewriter(db, old, new)
        if count:
            moved[dotted] = count
    for shape in await table_shapes(db):
        t = shape.name
        if REPO_COLUMN not in shape.columns or f"{t}.{REPO_COLUMN}" in decl.kept:
            continue
        for key in shape.unique_keys:
            if REPO_COLUMN not in key:
                continue  # the rename cannot make two rows collide on this key
            same = _same_key(key, t, "other")
            same = f" AND {same}" if same else ""
            if t in decl.keep_old:
                await db.execute(f"DELETE FROM {t} WHERE {REPO_COLUMN} = ? AND EXISTS (SELECT 1 FROM {t} other"
                                 f" WHERE other.{REPO_COLUMN} = ?{same})", (new, old))
            else:
                await db.execute(f"DELETE FROM {t} WHERE {REPO_COLUMN} = ? AND EXISTS (SELECT 1 FROM {t} other"
                                 f" WHERE other.{REPO_COLUMN} = ?{same})", (old, new))
        sets, params = [f"{REPO_COLUMN} = ?"], [new]
        owner = decl.owners.get(t)
        if owner and owner in shape.columns and owner_changed:
            sets.append(f"{owner} = ?")
            params.append(new_owner)
        count = await db.execute(f"UPDATE {t} SET {', '.join(sets)} WHERE {REPO_COLUMN} = ?", (*params, old))
        if count:
            moved[t] = count
    return moved

"""GH Archive import: hour files (``.json`` or ``.json.gz``, one event per line), streamed.

Only the event types that carry funnel acts are parsed; the type is read from the raw
line first, so pushes, stars and forks (most of an hour) cost a byte search. Acts are
keyed by the GitHub object they come from, which makes a re-import (or an event also
seen live) store nothing twice; each batch is one transaction.
"""
from __future__ import annotations

import gzip
import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import orjson

from ...store.db import Database
from .extract import ARCHIVE_TYPES, acts_from, member_grant
from .store import Batch, write_batch

_TYPE = b'"type":'
_WANTED = {t.encode(): name for t, name in ARCHIVE_TYPES.items()}


@dataclass
class ImportStats:
    lines: int = 0
    relevant: int = 0
    acts: int = 0
    bad_lines: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def open_hour(path: str | Path) -> BinaryIO:
    raw = open(path, "rb")
    if raw.read(2) == b"\x1f\x8b":  # gzip magic, whatever the file is called
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    raw.seek(0)
    return raw


def event_type(line: bytes) -> bytes | None:
    """The first ``"type":`` value of the line: the event's in GH Archive's key order
    (id, type, actor...). Anything else (another order) is left to a full parse."""
    start = line.find(_TYPE)
    if start < 0:
        return None
    start = line.find(b'"', start + len(_TYPE)) + 1
    end = line.find(b'"', start)
    value = line[start:end] if 0 < start < end else b""
    if value.endswith(b"Event"):
        return value
    try:
        found = orjson.loads(line).get("type")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return found.encode() if isinstance(found, str) else None


def fold(batch: Batch, obj: dict[str, Any], name: str) -> int:
    """Add one archive event's acts and grants to ``batch``; returns how many."""
    repo = obj.get("repo") or {}
    if repo.get("id") is None:
        return 0
    repo_id = int(repo["id"])
    payload = obj.get("payload") or {}
    if name == "member":
        grants = member_grant(payload, obj.get("created_at"))
        if grants:
            batch.add_repo(repo_id, str(repo.get("name") or ""))
            batch.add_grants(repo_id, grants)
        return len(grants)
    acts = acts_from(name, payload, repo_id)
    if acts:
        batch.add_repo(repo_id, str(repo.get("name") or ""))
        batch.add_acts(repo_id, acts)
    return len(acts)


def relevant_events(lines: Iterable[bytes], stats: ImportStats) -> Iterator[tuple[dict[str, Any], str]]:
    for line in lines:
        stats.lines += 1
        name = _WANTED.get(event_type(line) or b"")
        if name is None:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            stats.bad_lines += 1
            continue
        stats.relevant += 1
        yield obj, name


async def import_stream(db: Database, stream: BinaryIO, stats: ImportStats, *,
                        batch_events: int = 20000,
                        progress: Callable[[ImportStats], None] | None = None) -> None:
    batch, pending = Batch(), 0
    for obj, name in relevant_events(io.BufferedReader(stream, 1 << 20)  # type: ignore[arg-type]
                                     if not isinstance(stream, io.BufferedReader) else stream, stats):
        stats.acts += fold(batch, obj, name)
        pending += 1
        if pending >= batch_events:
            await write_batch(db, batch)
            batch, pending = Batch(), 0
            if progress:
                progress(stats)
    await write_batch(db, batch)


async def import_files(db: Database, paths: Iterable[str | Path], *, batch_events: int = 20000,
                       progress: Callable[[ImportStats], None] | None = None) -> ImportStats:
    stats = ImportStats()
    started = time.perf_counter()
    for path in paths:
        with open_hour(path) as stream:
            await import_stream(db, stream, stats, batch_events=batch_events, progress=progress)
        stats.files.append(str(path))
        if progress:
            progress(stats)
    stats.seconds = time.perf_counter() - started
    return stats

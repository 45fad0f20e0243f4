"""GH Archive import: hour files (``.json`` or ``.json.gz``, one event per line), streamed.

Only the event types that carry funnel acts are parsed; the type is read from the raw
line first, so pushes, stars and forks (most of an hour) cost a byte search. Acts are
keyed by the GitHub object they come from, which makes a re-import (or an event also
seen live) store nothing twice; each batch is one transaction.

Archive data is not always clean: a line that is not JSON, or whose fields have shapes
GitHub never sends, is skipped and counted (the first few are named in the summary), and
a file that ends early (a truncated download) gives what it holds. Either way what was
read is written, so a re-run goes past the bad line instead of stopping at it.
"""
from __future__ import annotations

import gzip
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator

import orjson

from ...store.db import Database
from .extract import (ARCHIVE_TYPES, PR_OPENED, Malformed, _act, acts_from, epoch, item_key, mapping,
                      member_grant, text, whole)
from .store import Batch, write_batch

_TYPE = b'"type":'
_WANTED = {t.encode(): name for t, name in ARCHIVE_TYPES.items()}
NOTED = 10  # malformed lines named in the summary; the rest are only counted


@dataclass
class ImportStats:
    lines: int = 0
    relevant: int = 0
    acts: int = 0
    bad_lines: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)
    bad_examples: list[str] = field(default_factory=list)  # "FILE:LINE: why", the first NOTED
    trimmed: int = 0      # pull-request lines in the trimmed form that gave no author or merge
    trimmed_repos: list[str] = field(default_factory=list)  # the first NOTED of their repositories
    trimmed_more: bool = False                               # and others besides
    unreadable: list[str] = field(default_factory=list)    # "FILE: why": not (wholly) read

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    def lacking(self, repo: str) -> None:
        self.trimmed += 1
        if repo not in self.trimmed_repos:
            if len(self.trimmed_repos) < NOTED:
                self.trimmed_repos.append(repo)
            else:
                self.trimmed_more = True

    def skip(self, source: str, number: int, why: str) -> None:
        self.bad_lines += 1
        if len(self.bad_examples) < NOTED:
            self.bad_examples.append(f"{source}:{number}: {why}")


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


def trimmed_pull(name: str, payload: Any) -> bool:
    """A pull-request event as GitHub's Events API has sent it since 2025-10-07 (changelog
    2025-08-08, "Upcoming changes to GitHub Events API payloads"): the PR reduced to url, id,
    number, head and base, with no author, no dates and no merge."""
    pull = payload.get("pull_request") if name == "pull_request" and isinstance(payload, dict) else None
    return isinstance(pull, dict) and "user" not in pull and "created_at" not in pull


def _opened_by_actor(obj: dict[str, Any], payload: Any, repo_id: int) -> list:
    """What a trimmed ``opened`` still says: the event's actor opened the PR at the event's
    time. Any other action's actor (who closed, merged, labelled) is not the author."""
    if payload.get("action") != "opened":
        return []
    number = payload.get("number") or payload["pull_request"].get("number")
    if number is None:
        return []
    return _act(item_key(repo_id, number, PR_OPENED), PR_OPENED, obj.get("actor"), obj.get("created_at"))


def fold(batch: Batch, obj: dict[str, Any], name: str) -> int:
    """Add one archive event's acts and grants to ``batch``; returns how many. Raises
    ``Malformed`` (leaving ``batch`` untouched) for an event of the wrong shape."""
    repo = mapping(obj.get("repo"), "repo")
    if repo.get("id") is None:
        return 0
    repo_id = whole(repo["id"], "repo.id")
    repo_name = text(repo.get("name"), "repo.name")
    payload = mapping(obj.get("payload"), "payload")
    # The repository's name as of this event: a later hour may carry a newer one.
    seen = epoch(obj.get("created_at")) or 0
    if name == "member":
        grants = member_grant(payload, obj.get("created_at"))
        if grants:
            batch.add_repo(repo_id, repo_name, seen)
            batch.add_grants(repo_id, grants, seen)
        return len(grants)
    acts = acts_from(name, payload, repo_id)
    if not acts and trimmed_pull(name, payload):
        acts = _opened_by_actor(obj, payload, repo_id)
    if acts:
        batch.add_repo(repo_id, repo_name, seen or max(a.at for a in acts))
        batch.add_acts(repo_id, acts, seen)
    return len(acts)


def lines_of(stream: BinaryIO, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The stream's lines (without their newline), split from large chunks. Each chunk is
    one read that either returns data or fails: when a truncated ``.gz`` fails, every whole
    line before the cut has been given out (a buffered reader would drop its unfilled buffer)."""
    read = getattr(stream, "read1", stream.read)
    rest = b""
    while True:
        data = read(chunk)
        if not data:
            break
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def relevant_events(lines: Iterable[bytes], stats: ImportStats,
                    source: str = "") -> Iterator[tuple[int, dict[str, Any], str]]:
    """(line number, event, feature event name) of the lines of funnel types. A file that
    can no longer be read (a truncated or corrupt ``.gz``) ends here, noted in ``stats``:
    what came before it is still imported."""
    number = 0
    try:
        for number, line in enumerate(lines, 1):
            stats.lines += 1
            name = _WANTED.get(event_type(line) or b"")
            if name is None:
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                stats.skip(source, number, "not JSON")
                continue
            if not isinstance(obj, dict):
                stats.skip(source, number, "not a JSON object")
                continue
            yield number, obj, name
    except (EOFError, OSError, zlib.error) as exc:
        stats.unreadable.append(f"{source}: unreadable after line {number} ({exc or type(exc).__name__})")


async def import_stream(db: Database, stream: BinaryIO, stats: ImportStats, *, source: str = "",
                        batch_events: int = 20000,
                        progress: Callable[[ImportStats], None] | None = None) -> None:
    batch, pending = Batch(), 0
    for number, obj, name in relevant_events(lines_of(stream), stats, source):
        try:
            found = fold(batch, obj, name)
        except Malformed as exc:
            stats.skip(source, number, str(exc))
            continue
        stats.acts += found
        stats.relevant += 1
        if not found and trimmed_pull(name, obj.get("payload")):
            stats.lacking(str(mapping(obj.get("repo"), "repo").get("name") or "?"))
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
        try:
            stream = open_hour(path)
        except OSError as exc:  # missing, a folder, no permission: the other files go on
            stats.unreadable.append(f"{path}: {exc.strerror or exc}")
            continue
        with stream:
            await import_stream(db, stream, stats, source=str(path), batch_events=batch_events,
                                progress=progress)
        stats.files.append(str(path))
        if progress:
            progress(stats)
    stats.seconds = time.perf_counter() - started
    return stats

"""What a feature may read: the narrow, read-only lookups behind ``ctx``.

Handlers receive a :class:`Context`; periodic jobs a :class:`JobContext`. Neither
offers a way to change GitHub or the store: changes are returned as actions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Mapping, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from .core.events import Event
    from .rules import Rules
    from .store.db import Database


class GitHubReader(Protocol):
    """Read-only GitHub access (a narrowed installation client)."""

    async def getitem(self, url: str, url_vars: Mapping[str, Any] | None = None, **kw: Any) -> Any: ...
    def getiter(self, url: str, url_vars: Mapping[str, Any] | None = None, **kw: Any) -> AsyncIterator[Any]: ...
    async def get_text(self, url: str, url_vars: Mapping[str, Any] | None = None, **kw: Any) -> str: ...
    async def graphql(self, query: str, **variables: Any) -> Any: ...


class RoleLookup(Protocol):
    async def __call__(self, login: str, *, item_author: str | None = None) -> frozenset[str]: ...


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ReadOnlyGitHub:
    """Wraps an installation client so features cannot send mutations by accident."""

    def __init__(self, api: Any) -> None:
        self._api = api

    async def getitem(self, url, url_vars=None, **kw):
        return await self._api.getitem(url, url_vars or {}, **kw)

    async def getiter(self, url, url_vars=None, **kw):
        async for item in self._api.getiter(url, url_vars or {}, **kw):
            yield item

    async def get_text(self, url, url_vars=None, **kw):
        return await self._api.get_text(url, url_vars or {}, **kw)

    async def graphql(self, query: str, **variables):
        if query.lstrip().startswith("mutation"):
            raise PermissionError("features read GraphQL; mutations are actions")
        return await self._api.graphql(query, **variables)


@dataclass
class Context:
    event: "Event"
    rules: "Rules"
    gh: GitHubReader
    db: "Database"
    roles_of: RoleLookup
    bot_login: str
    clock: Callable[[], datetime] = utcnow
    # Problems of the repo's override, when it is broken (the last good rules apply).
    rules_problems: tuple[Any, ...] = ()
    # Per-delivery memo so two features asking the same question hit GitHub once.
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def repo(self) -> str:
        return self.event.repo

    def now(self) -> datetime:
        return self.clock()

    async def cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self.memo:
            self.memo[key] = await load()
        return self.memo[key]


@dataclass
class RepoHandle:
    """A repository a job may act on, with its rules and a reader."""
    repo: str
    installation_id: int
    rules: "Rules"
    gh: GitHubReader
    roles_of: RoleLookup


@dataclass
class JobContext:
    db: "Database"
    bot_login: str
    repos: Callable[[], Awaitable[list[RepoHandle]]]
    clock: Callable[[], datetime] = utcnow
    period_key: str = ""

    def now(self) -> datetime:
        return self.clock()

"""Test helpers for feature tests: a real Context over a real database."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from bot.context import Context
from bot.core.events import Event
from bot.rules.loader import Rules, load_bundled, merge_repo_override
from bot.rules.registry import sections_of
from bot.settings import BUNDLED_RULES


def bundled_rules(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Rules:
    """The bundled rules, with ``{section: {key: value}}`` laid over them (validated)."""
    import yaml

    from bot.features import all_features

    sections = sections_of(all_features())
    rules, problems = load_bundled(BUNDLED_RULES, sections)
    assert not problems, problems
    if overrides:
        rules, problems = merge_repo_override(rules, yaml.safe_dump(dict(overrides)), "test", sections)
        assert not problems, [str(p) for p in problems]
    return rules


class RecordingReader:
    """A GitHubReader answering from dicts: ``{url_template: value}``; records calls."""

    def __init__(self, items: Mapping[str, Any] | None = None,
                 lists: Mapping[str, Iterable[Any]] | None = None,
                 graphql: Callable[..., Any] | None = None) -> None:
        self.items = dict(items or {})
        self.lists = {k: list(v) for k, v in (lists or {}).items()}
        self._graphql = graphql
        self.calls: list[tuple[str, dict]] = []

    async def getitem(self, url, url_vars=None, **kw):
        self.calls.append((url, dict(url_vars or {})))
        if url not in self.items:
            from bot.github import PermanentGitHubError

            raise PermanentGitHubError(f"404 {url}", status=404)
        value = self.items[url]
        return value(url_vars or {}) if callable(value) else value

    async def getiter(self, url, url_vars=None, **kw):
        self.calls.append((url, dict(url_vars or {})))
        value = self.lists.get(url, [])
        for item in (value(url_vars or {}) if callable(value) else value):
            yield item

    async def get_text(self, url, url_vars=None, **kw):
        return str(await self.getitem(url, url_vars))

    async def graphql(self, query, **variables):
        self.calls.append(("graphql", variables))
        if self._graphql is None:
            raise AssertionError("unexpected GraphQL query")
        return self._graphql(query, **variables)


def fixed_roles(mapping: Mapping[str, Iterable[str]]):
    async def roles_of(login: str, *, item_author: str | None = None) -> frozenset[str]:
        roles = {"anyone", *mapping.get(login, ())}
        if item_author and login == item_author:
            roles.add("author")
        if "maintainer" in roles:
            roles.add("triager")
        return frozenset(roles)
    return roles_of


def make_context(event_name: str, payload: Mapping[str, Any], *, db, rules: Rules | None = None,
                 reader: Any = None, roles: Mapping[str, Iterable[str]] | None = None,
                 now: datetime | None = None, bot_login: str = "contributor-flow[bot]",
                 delivery_id: str = "test-delivery", received: datetime | None = None) -> tuple[Event, Context]:
    """``received``: when the delivery arrived (the wall clock's now unless given)."""
    event = Event(name=event_name, payload=dict(payload), delivery_id=delivery_id,
                  **({"received_at": received} if received is not None else {}))
    clock_value = now or datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
    ctx = Context(event=event, rules=rules or bundled_rules(), gh=reader or RecordingReader(), db=db,
                  roles_of=fixed_roles(roles or {}), bot_login=bot_login, clock=lambda: clock_value)
    return event, ctx


def app_settings(fake_github: Any, database_url: str, **overrides: Any) -> "Settings":
    """Settings of a bot that is the fake GitHub's App (its id, key and URL), unpaced, with
    the bundled rules (or BOT_RULES_DIR's)."""
    import os

    from bot.settings import Settings

    return Settings(**{"webhook_secret": "x", "app_id": str(fake_github.app_id),
                       "private_key": fake_github.private_key_pem, "api_url": fake_github.url,
                       "database_url": database_url, "mutation_interval": 0.0,
                       "rules_dir": os.environ.get("BOT_RULES_DIR") or BUNDLED_RULES, **overrides})

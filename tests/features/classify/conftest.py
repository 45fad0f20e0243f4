"""Builders for classify/route tests: real example payloads with the fields we vary, a
runner deciding with a real Context, and an applier standing in for the executor's
local effects (Records, the bot-label ledger)."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import pytest

from bot.core.actions import Action, AddLabels, Record
from bot.features import classify, label_ledger, route
from bot.features.classify import models
from bot.features.route import boards
from bot.store import state
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, bundled_rules, make_context

REPO = "Codertocat/Hello-World"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
USERS = {name: {"login": name, "id": 600 + i, "type": "User"}
         for i, name in enumerate(["reporter", "maint", "triager", "visitor", "alice", "bob", "carol"])}
ROLES = {"maint": ["maintainer"], "triager": ["triager"]}
FEATURES = {"classify": classify.FEATURE, "route": route.FEATURE, "labels": label_ledger.FEATURE}


@pytest.fixture(autouse=True)
def _fresh_caches():
    models.forget()
    boards.forget()
    yield
    models.forget()
    boards.forget()


def issue_payload(action: str = "opened", *, number: int = 7, title: str = "Hello", body: str = "",
                  labels: Iterable[str] = (), author: str = "reporter", sender: str | None = None,
                  label: str | None = None, assignees: Iterable[str] = ()) -> dict[str, Any]:
    p = copy.deepcopy(load_example("issues", "labeled" if action in ("labeled", "unlabeled") else "opened"))
    p["action"] = action
    p["issue"].update(number=number, title=title, body=body, labels=[{"name": n} for n in labels],
                      user=dict(USERS[author]), state="open", assignees=[dict(USERS[a]) for a in assignees],
                      created_at="2026-11-20T10:00:00Z",
                      html_url=f"https://github.com/{REPO}/issues/{number}")
    p["issue"].pop("pull_request", None)
    p["sender"] = dict(USERS[sender or author])
    if label is not None:
        p["label"] = {"name": label}
    else:
        p.pop("label", None)
    return p


def comment_payload(body: str, *, number: int = 7, user: str = "reporter", title: str = "Hello",
                    labels: Iterable[str] = (), author: str = "reporter") -> dict[str, Any]:
    p = copy.deepcopy(load_example("issue_comment", "created"))
    p["issue"].update(number=number, title=title, body="", labels=[{"name": n} for n in labels],
                      user=dict(USERS[author]), state="open", assignees=[], created_at="2026-11-20T10:00:00Z",
                      html_url=f"https://github.com/{REPO}/issues/{number}")
    p["issue"].pop("pull_request", None)
    p["comment"].update(user=dict(USERS[user]), body=body)
    p["sender"] = dict(USERS[user])
    return p


def rules(**sections: Mapping[str, Any]):
    return bundled_rules(sections or None)


async def apply(db, actions: Iterable[Action]) -> None:
    """What the executor does locally: run Records, remember the labels the bot adds."""
    for action in actions:
        if isinstance(action, Record):
            await FEATURES[action.feature].writers[action.op](db, **dict(action.args))
        elif isinstance(action, AddLabels):
            for label in action.labels:
                await state.record_bot_label(db, action.repo, action.number, label, "classify")


async def handle(db, event_name: str, payload: Mapping[str, Any], *, rules_=None, reader=None,
                 now: datetime = NOW, delivery: str = "d1") -> list[Action]:
    event, ctx = make_context(event_name, payload, db=db, rules=rules_, reader=reader or RecordingReader(
        lists={"/search/issues{?q,per_page}": []}), roles=ROLES, now=now, delivery_id=delivery)
    actions: list[Action] = []
    for handler in classify.FEATURE.handlers_for(event):
        actions += await handler(event, ctx)
    await apply(db, actions)
    return actions


async def command(db, feature, name: str, args: tuple[str, ...], payload: Mapping[str, Any], *,
                  rules_=None, reader=None, delivery: str = "c1") -> list[Action]:
    from bot.features.base import Invocation

    [spec] = [c for c in feature.commands if c.name == name]
    event, ctx = make_context("issue_comment", payload, db=db, rules=rules_, reader=reader or RecordingReader(),
                              roles=ROLES, now=NOW, delivery_id=delivery)
    actions = list(await spec.handler(Invocation(name, args, f"/{name} {' '.join(args)}"), event, ctx))
    await apply(db, actions)
    return actions


def of(actions: Iterable[Action], cls: type) -> list:
    return [a for a in actions if isinstance(a, cls)]

"""Builders for SLA feature tests: real example payloads with the fields we vary,
and a runner that decides with a real Context and applies the Records."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from bot.context import JobContext, RepoHandle
from bot.core.actions import Action, Record
from bot.features.sla import FEATURE, SWEEP
from tests.fixtures.webhooks import load_example
from tests.helpers import bundled_rules, fixed_roles, make_context

REPO = "Codertocat/Hello-World"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)  # a Monday
USERS = {
    "reporter": {"login": "reporter", "id": 501, "type": "User"},
    "maint": {"login": "maint", "id": 502, "type": "User"},
    "triage": {"login": "triage", "id": 503, "type": "User"},
    "visitor": {"login": "visitor", "id": 504, "type": "User"},
    "renamed": {"login": "renamed-reporter", "id": 501, "type": "User"},  # the author, renamed
    "ci[bot]": {"login": "ci[bot]", "id": 900, "type": "Bot"},
    "contributor-flow[bot]": {"login": "contributor-flow[bot]", "id": 901, "type": "Bot"},
}
ROLES = {"maint": ["maintainer"], "triage": ["triager"], "ci[bot]": ["maintainer"],
         "contributor-flow[bot]": ["maintainer"]}


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


def issue_event(action: str, *, number: int = 7, author: str = "reporter", labels: Iterable[str] = (),
                at: datetime = T0, sender: str | None = None, label: str | None = None,
                pr: bool = False) -> tuple[str, dict[str, Any]]:
    if pr:
        p = copy.deepcopy(load_example("pull_request", "labeled" if action in ("labeled", "unlabeled")
                                       else "opened"))
        item = p["pull_request"]
        name = "pull_request"
    else:
        p = copy.deepcopy(load_example("issues", "labeled" if action in ("labeled", "unlabeled")
                                       else "opened"))
        item = p["issue"]
        name = "issues"
    p["action"] = action
    item.update(number=number, user=dict(USERS[author]), labels=[{"name": n} for n in labels],
                created_at=iso(T0), updated_at=iso(at), state="closed" if action == "closed" else "open",
                closed_at=iso(at) if action == "closed" else None)
    if pr:
        p["number"] = number
    p["sender"] = dict(USERS[sender or author])
    if label is not None:
        p["label"] = {"name": label}
    else:
        p.pop("label", None)
    return name, p


def comment_event(*, number: int = 7, user: str, at: datetime, body: str = "Thanks, looking.",
                  author: str = "reporter", labels: Iterable[str] = ("bug",)) -> tuple[str, dict]:
    p = copy.deepcopy(load_example("issue_comment", "created"))
    p["issue"].update(number=number, user=dict(USERS[author]), labels=[{"name": n} for n in labels],
                      created_at=iso(T0))
    p["comment"].update(user=dict(USERS[user]), created_at=iso(at), body=body)
    p["sender"] = dict(USERS[user])
    return "issue_comment", p


def review_event(*, number: int = 7, user: str, at: datetime, author: str = "reporter") -> tuple[str, dict]:
    p = copy.deepcopy(load_example("pull_request_review", "submitted"))
    p["pull_request"].update(number=number, user=dict(USERS[author]), created_at=iso(T0))
    p["review"].update(user=dict(USERS[user]), submitted_at=iso(at), body="Looks reasonable")
    p["sender"] = dict(USERS[user])
    return "pull_request_review", p


async def apply(db, actions: Iterable[Action]) -> None:
    """What the executor does with Records (GitHub actions are only decided here)."""
    for action in actions:
        if isinstance(action, Record):
            assert action.feature == "sla"
            await FEATURE.writers[action.op](db, **action.args)


async def deliver(db, event: tuple[str, dict], *, now: datetime, rules=None) -> list[Action]:
    name, payload = event
    # Received when processed: a late delivery is told by the payload's own instants.
    ev, ctx = make_context(name, payload, db=db, rules=rules or bundled_rules(), roles=ROLES, now=now,
                           received=now)
    actions: list[Action] = []
    for handler in FEATURE.handlers_for(ev):
        actions += await handler(ev, ctx)
    await apply(db, actions)
    return actions


async def sweep(db, now: datetime, rules=None, gh=None) -> list:
    """One sweep of the one repository at ``now``, its Records applied."""
    handle = RepoHandle(repo=REPO, installation_id=1, rules=rules or bundled_rules(), gh=gh,
                        roles_of=fixed_roles(ROLES))

    async def repos():
        return [handle]

    actions = list(await SWEEP.run(JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos,
                                              clock=lambda: now)))
    await apply(db, actions)
    return actions

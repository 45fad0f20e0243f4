"""Builders for funnel feature tests: real example payloads with the fields we vary, and
a runner that decides with a real Context and applies the Records to the database."""
from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timezone
from typing import Any, Iterable

from bot.core.actions import Record
from bot.features.funnel import FEATURE
from tests.fixtures.webhooks import load_example
from tests.helpers import bundled_rules, make_context

REPO = "octo/widgets"
REPO_ID = 4242
USERS = {
    "alice": {"login": "alice", "id": 11, "type": "User"},
    "bob": {"login": "bob", "id": 12, "type": "User"},
    "carol": {"login": "carol", "id": 13, "type": "User"},
    "maint": {"login": "maint", "id": 14, "type": "User"},
    "dependabot[bot]": {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"},
    "ghost": {"login": "ghost", "id": 10137, "type": "User"},
}


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(event: str, action: str | None) -> dict[str, Any]:
    p = copy.deepcopy(load_example(event, action))
    p["repository"].update(id=REPO_ID, full_name=REPO, name=REPO.split("/")[1], default_branch="main")
    p["installation"] = {"id": 1}
    return p


def issue_payload(action: str, number: int, author: str, created: datetime, *, is_pr: bool = False,
                  sender: str | None = None) -> dict[str, Any]:
    p = _base("issues", action)
    p["issue"].update(number=number, id=900000 + number, user=USERS[author], created_at=iso(created))
    if is_pr:
        p["issue"]["pull_request"] = {"url": "x"}
    p["sender"] = USERS[sender or author]
    return p


def comment_payload(number: int, issue_author: str, issue_created: datetime, commenter: str,
                    at: datetime, comment_id: int, *, on_pr: bool = False) -> dict[str, Any]:
    p = _base("issue_comment", "created")
    p["issue"].update(number=number, id=900000 + number, user=USERS[issue_author],
                      created_at=iso(issue_created))
    if on_pr:
        p["issue"]["pull_request"] = {"url": "x"}
    else:
        p["issue"].pop("pull_request", None)
    p["comment"].update(id=comment_id, user=USERS[commenter], created_at=iso(at))
    p["sender"] = USERS[commenter]
    return p


def pr_payload(action: str, number: int, author: str, created: datetime, *,
               merged_at: datetime | None = None, sender: str | None = None) -> dict[str, Any]:
    p = _base("pull_request", "opened" if action not in ("closed", "reopened") else action)
    p["action"] = action
    p["number"] = number
    p["pull_request"].update(number=number, id=700000 + number, user=USERS[author],
                             created_at=iso(created), merged=merged_at is not None,
                             merged_at=iso(merged_at) if merged_at else None)
    p["sender"] = USERS[sender or author]
    return p


def review_payload(number: int, pr_author: str, pr_created: datetime, reviewer: str,
                   at: datetime, review_id: int) -> dict[str, Any]:
    p = _base("pull_request_review", "submitted")
    p["pull_request"].update(number=number, id=700000 + number, user=USERS[pr_author],
                             created_at=iso(pr_created))
    p["review"].update(id=review_id, user=USERS[reviewer], submitted_at=iso(at))
    p["sender"] = USERS[reviewer]
    return p


def member_payload(login: str, permission: str | None = "write", action: str = "added") -> dict[str, Any]:
    p = _base("member", "added")
    p["action"] = action
    p["member"] = USERS[login]
    p["changes"] = {"permission": {"to": permission}} if permission else {}
    return p


async def run(db, events: Iterable[tuple[str, dict[str, Any]]], *, now: datetime | None = None,
              rules=None, reader=None) -> list[Record]:
    """Decide each event with the feature's handlers and apply its Records, in order
    (received, and decided, at ``now`` when given)."""
    done: list[Record] = []
    for name, payload in events:
        event, ctx = make_context(name, payload, db=db, rules=rules or bundled_rules(), reader=reader,
                                  now=now)
        if now is not None:
            event = dataclasses.replace(event, received_at=now)
            ctx = dataclasses.replace(ctx, event=event)
        for handler in FEATURE.handlers_for(event):
            for action in await handler(event, ctx):
                assert isinstance(action, Record)
                await FEATURE.writers[action.op](db, **action.args)
                done.append(action)
    return done

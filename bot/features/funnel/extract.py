"""Funnel acts from one event payload, whatever its source (pure).

A webhook delivery, a GH Archive line and a backfilled API object all carry the same
shapes (issue, comment, pull_request, review), so one extractor serves the live
recorder, the importer and the backfill. Each act is keyed by the GitHub object it
comes from, so the same act seen from two sources (or twice) is stored once:
- items (issue or PR opened, PR merged) by repository id and number, because a comment
  on a PR carries the *issue* id while pull_request events carry the PR id;
- comments, reviews and review comments by their own ids.

A field of the wrong shape (an id that is not a number, a time that is not one) raises
``Malformed``: the importer skips and counts such a line instead of stopping on it.
"""
from __future__ import annotations

from collections.abc import Mapping  # typing's alias makes isinstance several times slower
from dataclasses import dataclass
from typing import Any

from ...core.events import parse_time
from ...core.funnel import GHOST_ID, GHOST_LOGIN

# Kinds (3 bits of the key) and the raw stage each feeds (0 contact, 1 PR, 2 merge).
ISSUE_OPENED, COMMENT, REVIEW, REVIEW_COMMENT, PR_OPENED, MERGED = 1, 2, 3, 4, 5, 6
STAGE_OF_KIND = {ISSUE_OPENED: 0, COMMENT: 0, REVIEW: 0, REVIEW_COMMENT: 0, PR_OPENED: 1, MERGED: 2}
APPROVER_PERMISSIONS = ("write", "maintain", "admin")
# Keys are signed 64-bit: ids are shifted left 3 bits (kind), item keys pack the repository
# id above a 22-bit number. Anything larger would break the whole batch's write, or make
# one repository's item key collide with another's.
MAX_ID = 1 << 38
MAX_NUMBER = 1 << 22

# GH Archive spells event types in PascalCase.
ARCHIVE_TYPES = {
    "IssuesEvent": "issues",
    "IssueCommentEvent": "issue_comment",
    "PullRequestEvent": "pull_request",
    "PullRequestReviewEvent": "pull_request_review",
    "PullRequestReviewCommentEvent": "pull_request_review_comment",
    "MemberEvent": "member",
}


@dataclass(frozen=True)
class Act:
    key: int
    kind: int
    user_id: int
    login: str
    is_bot: bool
    at: int  # epoch seconds

    @property
    def stage(self) -> int:
        return STAGE_OF_KIND[self.kind]


@dataclass(frozen=True)
class Grant:
    """Approver rights gained (member event, OWNERS/CODEOWNERS, team, permission)."""
    user_id: int
    login: str
    source: str
    at: int


class Malformed(ValueError):
    """A field of an event has a shape GitHub never sends."""


def whole(value: Any, what: str, limit: int = 1 << 60) -> int:
    """A non-negative integer id (GitHub's ids are JSON numbers, GH Archive's event id a
    string of digits); anything else is malformed."""
    if type(value) is int and 0 <= value < limit:  # the usual case first: this runs per act
        return value
    if (isinstance(value, str) and len(value) < 20 and value.isascii() and value.isdigit()
            and int(value) < limit):
        return int(value)
    raise Malformed(f"{what} is not an id: {value!r:.60}")


def mapping(value: Any, what: str) -> Mapping[str, Any]:
    """An object, or ``{}`` for a missing one."""
    if type(value) is dict or value is None:  # parsed JSON: the usual case, checked first
        return value or {}
    if not isinstance(value, Mapping):
        raise Malformed(f"{what} is not an object: {value!r:.60}")
    return value


def text(value: Any, what: str) -> str:
    if value is None:
        return ""
    # PostgreSQL refuses NUL in text: one such login would fail the whole batch.
    if type(value) is not str or "\x00" in value:
        raise Malformed(f"{what} is not a name: {value!r:.60}")
    return value


def item_key(repo_id: int, number: int, kind: int) -> int:
    return (((whole(repo_id, "repository id", MAX_ID) << 22)
             | whole(number, "number", MAX_NUMBER)) << 3) | kind


def object_key(object_id: int, kind: int) -> int:
    return (whole(object_id, "id") << 3) | kind


def epoch(value: Any) -> int | None:
    if not value:
        return None
    try:
        instant = parse_time(value)
        return int(instant.timestamp()) if instant else None
    except (TypeError, ValueError, AttributeError, OverflowError, OSError):
        raise Malformed(f"not a time: {value!r:.60}") from None


def person(user: Any) -> tuple[int, str, bool] | None:
    """(id, login, is_bot) of a real account; None for missing or deleted users."""
    if not isinstance(user, Mapping) or user.get("id") is None:
        return None
    uid, login = whole(user["id"], "user id"), text(user.get("login"), "login")
    if uid == GHOST_ID or login.lower() == GHOST_LOGIN:
        return None
    return uid, login, user.get("type") == "Bot" or login.endswith("[bot]")


def _act(key: int, kind: int, user: Any, at: Any) -> list[Act]:
    who, when = person(user), epoch(at)
    if who is None or when is None:
        return []
    return [Act(key, kind, who[0], who[1], who[2], when)]


def _item_acts(repo_id: int, item: Mapping[str, Any], is_pr: bool) -> list[Act]:
    number = item.get("number")
    if number is None:
        return []
    kind = PR_OPENED if is_pr else ISSUE_OPENED
    acts = _act(item_key(repo_id, number, kind), kind, item.get("user"), item.get("created_at"))
    # A PR object says merged/merged_at, or only merged_at (the PR in review and review
    # comment payloads, the REST pulls list); an issue-shaped PR (comments, the issues
    # list) carries pull_request.merged_at.
    pr_link = item.get("pull_request") if isinstance(item.get("pull_request"), Mapping) else {}
    merged_at = None if item.get("merged") is False else item.get("merged_at")
    merged_at = merged_at or pr_link.get("merged_at")
    if is_pr and merged_at:
        # The author reaches first_merge, whoever pressed the button.
        acts += _act(item_key(repo_id, number, MERGED), MERGED, item.get("user"), merged_at)
    return acts


def acts_from(event: str, payload: Mapping[str, Any], repo_id: int) -> list[Act]:
    """Acts in a webhook-shaped payload. Every event about an item also records the
    item's opening (from its ``created_at``), so a missed ``opened`` is recovered."""
    acts: list[Act] = []
    issue = payload.get("issue")
    pull = payload.get("pull_request")
    if isinstance(issue, Mapping):
        acts += _item_acts(repo_id, issue, bool(issue.get("pull_request")))
    if isinstance(pull, Mapping):
        acts += _item_acts(repo_id, pull, True)
    comment = payload.get("comment")
    if isinstance(comment, Mapping) and comment.get("id") is not None:
        kind = REVIEW_COMMENT if event == "pull_request_review_comment" else COMMENT
        acts += _act(object_key(comment["id"], kind), kind, comment.get("user"), comment.get("created_at"))
    review = payload.get("review")
    if event == "pull_request_review" and isinstance(review, Mapping) and review.get("id") is not None:
        acts += _act(object_key(review["id"], REVIEW), REVIEW, review.get("user"),
                     review.get("submitted_at"))
    return acts


def member_grant(payload: Mapping[str, Any], at: Any) -> list[Grant]:
    """A collaborator added (or changed) with write, maintain or admin."""
    if payload.get("action") not in ("added", "edited"):
        return []
    who, when = person(payload.get("member")), epoch(at)
    if who is None or when is None:
        return []
    changes = mapping(payload.get("changes"), "changes")
    permission = (mapping(changes.get("permission"), "changes.permission").get("to")
                  or mapping(changes.get("role_name"), "changes.role_name").get("to"))
    # GH Archive's MemberEvent (and older webhooks) name no permission: collaborators
    # were given push then.
    if permission is None and payload.get("action") == "added":
        permission = "write"
    if str(permission).lower() not in APPROVER_PERMISSIONS:
        return []
    return [Grant(who[0], who[1], "permission", when)]

"""Funnel acts from one event payload, whatever its source (pure).

A webhook delivery, a GH Archive line and a backfilled API object all carry the same
shapes (issue, comment, pull_request, review), so one extractor serves the live
recorder, the importer and the backfill. Each act is keyed by the GitHub object it
comes from, so the same act seen from two sources (or twice) is stored once:
- items (issue or PR opened, PR merged) by repository id and number, because a comment
  on a PR carries the *issue* id while pull_request events carry the PR id;
- comments, reviews and review comments by their own ids.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...core.events import parse_time
from ...core.funnel import GHOST_ID, GHOST_LOGIN

# Kinds (3 bits of the key) and the raw stage each feeds (0 contact, 1 PR, 2 merge).
ISSUE_OPENED, COMMENT, REVIEW, REVIEW_COMMENT, PR_OPENED, MERGED = 1, 2, 3, 4, 5, 6
STAGE_OF_KIND = {ISSUE_OPENED: 0, COMMENT: 0, REVIEW: 0, REVIEW_COMMENT: 0, PR_OPENED: 1, MERGED: 2}
APPROVER_PERMISSIONS = ("write", "maintain", "admin")

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


def item_key(repo_id: int, number: int, kind: int) -> int:
    return (((int(repo_id) << 22) | int(number)) << 3) | kind


def object_key(object_id: int, kind: int) -> int:
    return (int(object_id) << 3) | kind


def epoch(value: Any) -> int | None:
    instant = parse_time(value) if value else None
    return int(instant.timestamp()) if instant else None


def person(user: Any) -> tuple[int, str, bool] | None:
    """(id, login, is_bot) of a real account; None for missing or deleted users."""
    if not isinstance(user, Mapping) or user.get("id") is None:
        return None
    uid, login = int(user["id"]), str(user.get("login") or "")
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
    # A PR object says merged/merged_at; an issue-shaped PR (comments, the issues list)
    # carries pull_request.merged_at.
    pr_link = item.get("pull_request") if isinstance(item.get("pull_request"), Mapping) else {}
    merged_at = item.get("merged_at") if item.get("merged") else pr_link.get("merged_at")
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
    changes = payload.get("changes") or {}
    permission = ((changes.get("permission") or {}).get("to")
                  or ((changes.get("role_name") or {}).get("to")))
    # GH Archive's MemberEvent (and older webhooks) name no permission: collaborators
    # were given push then.
    if permission is None and payload.get("action") == "added":
        permission = "write"
    if str(permission).lower() not in APPROVER_PERMISSIONS:
        return []
    return [Grant(who[0], who[1], "permission", when)]

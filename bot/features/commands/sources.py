"""Where commands are read: the text of an event, who wrote it, and where to react.

Commands come from issue comments, pull request review bodies, review comments, and
the body of a newly opened issue or pull request. An edited text carries its previous
version (``changes.body.from``) so only commands added by the edit run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...core.events import Event, is_bot_account


@dataclass(frozen=True)
class CommandSource:
    number: int
    body: str
    previous: str | None          # set on edits: the text before
    edited: bool
    actor: str                    # who typed (the sender: GitHub's word, not the text's)
    author: Mapping[str, Any]     # the user object of the comment, review or item
    item_author: str
    is_pr: bool
    comment_id: int | None = None          # issue comment: react there
    review_comment_id: int | None = None   # review comment: react there
    reactable: bool = True                 # review bodies take no reactions on GitHub

    def react_target(self) -> dict[str, Any]:
        return {"comment_id": self.comment_id, "review_comment_id": self.review_comment_id}


def _login(user: Mapping[str, Any] | None) -> str:
    return str((user or {}).get("login") or "")


def _previous(payload: Mapping[str, Any]) -> str | None:
    body = ((payload.get("changes") or {}).get("body") or {})
    return body.get("from") if isinstance(body, Mapping) else None


def source_of(event: Event) -> CommandSource | None:
    """The command text of ``event``, or None if this event carries none."""
    p = event.payload
    item = event.item or {}
    number = event.number
    if number is None:
        return None
    common = dict(number=number, actor=event.sender_login, item_author=_login(item.get("user")),
                  is_pr=event.is_pull_request)
    edited = event.action == "edited"
    if event.name == "issue_comment" and event.action in ("created", "edited"):
        c = p.get("comment") or {}
        return CommandSource(body=c.get("body") or "", previous=_previous(p) if edited else None,
                             edited=edited, author=c.get("user") or {}, comment_id=c.get("id"), **common)
    if event.name == "pull_request_review_comment" and event.action in ("created", "edited"):
        c = p.get("comment") or {}
        return CommandSource(body=c.get("body") or "", previous=_previous(p) if edited else None,
                             edited=edited, author=c.get("user") or {},
                             review_comment_id=c.get("id"), **common)
    if event.name == "pull_request_review" and event.action in ("submitted", "edited"):
        r = p.get("review") or {}
        return CommandSource(body=r.get("body") or "", previous=_previous(p) if edited else None,
                             edited=edited, author=r.get("user") or {}, reactable=False, **common)
    if event.name in ("issues", "pull_request") and event.action == "opened":
        if event.transferred_from is not None:
            # A transfer arrives as issues.opened sent by whoever moved the issue, carrying
            # the author's old body: its commands are not the sender's, and were already
            # read (or refused) in the repository they were written for.
            return None
        return CommandSource(body=item.get("body") or "", previous=None, edited=False,
                             author=item.get("user") or {}, **common)
    return None


def ignored_author(source: CommandSource, event: Event, bot_login: str) -> bool:
    """Bots (the bot itself included) never drive the bot, whoever they claim to be."""
    logins = {source.actor.lower(), _login(source.author).lower()}
    return (is_bot_account(source.author) or event.sender_is_bot
            or bool(bot_login) and bot_login.lower() in logins)

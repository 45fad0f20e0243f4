"""Is this comment, review, close or label change the item's first response?

It is when it comes from someone in the responder roles, who is not the item's
author (compared by user id: logins can be renamed), not a bot and not this bot,
and not within the first seconds after opening (automation, templates).
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ...core.actions import Action, Note, Record, RemoveLabel
from ...core.commands_parser import parse_commands
from ...core.events import is_bot_account
from ...store.state import bot_labels
from . import store

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def talks_to_the_bot(body: str | None, answer_commands: Iterable[str] = ()) -> bool:
    """Whether the text is only slash commands (``/label``, ``/sla status``...): that
    talks to the bot, it does not answer the reporter. Any other visible line (prose,
    a quote, a code block) makes it an answer; HTML comments are not seen. So does one of
    ``answer_commands`` (a responder's ``/close`` is their close: the close event itself
    comes from the bot, which is never a responder)."""
    commands = parse_commands(body)
    if not commands:
        return False
    # "close" is the command whatever its arguments; "triage duplicate" only with that
    # first argument (``/triage accepted`` tells the reporter nothing).
    answering = {tuple(name.lstrip("/").casefold().split()[:2]) for name in answer_commands}
    for c in commands:
        if (c.name,) in answering or (c.name, *(a.casefold() for a in c.args[:1])) in answering:
            return False
    lines = Counter(c.line for c in commands)
    for line in _HTML_COMMENT.sub("", body or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if lines[line] <= 0:
            return False
        lines[line] -= 1
    return True


async def why_not(ctx: "Context", section: Mapping[str, Any], tracked: Mapping[str, Any],
                  user: Mapping[str, Any] | None, at: datetime) -> str | None:
    """None when the response qualifies, otherwise the reason it does not."""
    if not user or not user.get("login"):
        return "no user"
    login = str(user["login"])
    if login.casefold() == ctx.bot_login.casefold() or is_bot_account(user):
        return "a bot"
    if user.get("id") is not None and int(user["id"]) == int(tracked["author_id"] or -1):
        return "the author"
    if at.timestamp() - float(tracked["opened_at"]) < float(section["ignore_responses_within"]):
        return "too soon after opening"
    roles = await ctx.roles_of(login, item_author=tracked["author_login"] or None)
    if not roles & set(section["responder_roles"]):
        return "not a responder"
    return None


async def comment_answers(ctx: "Context", section: Mapping[str, Any], tracked: Mapping[str, Any],
                          comment: Mapping[str, Any], at: datetime, answer_commands: Iterable[str]) -> bool:
    """Whether a comment is the item's first response: the live handler's decision
    (``handlers._reply``) for a comment read back from GitHub by the sweep."""
    user = comment.get("user")
    if user and user.get("id") is not None and int(user["id"]) == int(tracked["author_id"] or -1):
        return False  # the author's own comment answers no one
    if talks_to_the_bot(str(comment.get("body") or ""), answer_commands):
        return False  # commands only
    return await why_not(ctx, section, tracked, user, at) is None


async def response_actions(ctx: "Context", *, number: int, user: Mapping[str, Any] | None,
                           at: datetime, kind: str) -> list[Action]:
    """Stop the clocks when this is the first qualifying response; nothing otherwise."""
    tracked = await store.item(ctx.db, ctx.repo, number)
    if tracked is None or tracked["first_response_at"] is not None:
        return []  # not an item the bot follows, or answered already
    section = ctx.rules.section("sla")
    reason = await why_not(ctx, section, tracked, user, at)
    if reason is not None:
        return []
    login = str(user["login"])  # type: ignore[index]
    actions: list[Action] = [
        Record(ctx.repo, feature="sla", op="record_response",
               args={"repo": ctx.repo, "number": number, "at": at.timestamp(),
                     "responder": login, "kind": kind}),
        Note(ctx.repo, feature="sla", number=number,
             text=f"first response: {kind} by {login} at {at.isoformat()}"),
    ]
    label = section["breach_label"]
    if section["remove_breach_label_on_response"] and label in await bot_labels(ctx.db, ctx.repo, number):
        actions.append(RemoveLabel(ctx.repo, number=number, label=label))
    return actions

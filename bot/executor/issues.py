"""Issue and pull-request actions: labels, comments, reactions, people, state."""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..core import actions as A
from ..store import state

if TYPE_CHECKING:  # pragma: no cover
    from . import ActionEnv


def _split(repo: str) -> dict[str, str]:
    owner, name = repo.split("/", 1)
    return {"owner": owner, "repo": name}


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None)


async def add_labels(action: A.AddLabels, env: "ActionEnv") -> Any:
    uv = {**_split(action.repo), "issue_number": action.number}
    # GitHub matches label names case-insensitively: "Bug" put by a person is not the bot's "bug".
    current = {l["name"].lower() async for l in env.api.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/labels", uv)}
    # What an earlier attempt of this action sent: labels that were not there then. Found on
    # now, GitHub applied them and the answer was lost: they are the bot's all the same.
    key = f"labels-attempt:{env.place or env.fingerprint}"
    earlier = await state.created_object(env.db, key)
    sent = json.loads(earlier) if earlier else []
    for label in sent:
        if label.lower() in current:
            await state.record_bot_label(env.db, action.repo, action.number, label, env.feature)
    new = [l for l in action.labels if l.lower() not in current]
    if not new:
        return "present"
    await state.replace_created(env.db, key, action.repo, "labels-attempt",
                                json.dumps(sorted({*sent, *new})))
    await env.api.post("/repos/{owner}/{repo}/issues/{issue_number}/labels", uv,
                       data={"labels": new})
    # Only what the bot itself added goes in the ledger: a label a human had set
    # before stays theirs.
    for label in new:
        await state.record_bot_label(env.db, action.repo, action.number, label, env.feature)
    return ",".join(new)


async def remove_label(action: A.RemoveLabel, env: "ActionEnv") -> Any:
    if not await state.bot_added(env.db, action.repo, action.number, action.label):
        return "not-ours"
    uv = {**_split(action.repo), "issue_number": action.number, "name": action.label}
    try:
        await env.api.delete("/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", uv)
    except Exception as exc:
        if _status(exc) != 404:
            raise
    await state.forget_bot_label(env.db, action.repo, action.number, action.label)
    return "removed"


async def _find_comment(env: "ActionEnv", repo: str, number: int, marker: str) -> dict | None:
    uv = {**_split(repo), "issue_number": number}
    async for c in env.api.getiter("/repos/{owner}/{repo}/issues/{issue_number}/comments", uv):
        if marker in (c.get("body") or "") and (c.get("user") or {}).get("login") in (env.bot_login, None):
            return c
    return None


async def comment(action: A.Comment, env: "ActionEnv") -> Any:
    # Marked by its place in the delivery, not its text (see executor.place).
    marker = f"<!-- contributor-flow:{(env.place or env.fingerprint)[:16]} -->"
    # Recorded before the first send: a later run looks even when it does not know it is a
    # retry (``deliveries retry`` starts the count of attempts again).
    key = f"comment-attempt:{env.place or env.fingerprint}"
    if env.retrying or await state.created_object(env.db, key) is not None:
        # An earlier attempt may have posted it (maybe worded otherwise) and lost the answer.
        found = await _find_comment(env, action.repo, action.number, marker)
        if found:
            return found["id"]
    await state.remember_created(env.db, key, action.repo, "comment-attempt", "")
    uv = {**_split(action.repo), "issue_number": action.number}
    made = await env.api.post("/repos/{owner}/{repo}/issues/{issue_number}/comments", uv,
                              data={"body": f"{action.body}\n\n{marker}"})
    return made.get("id")


async def upsert_comment(action: A.UpsertComment, env: "ActionEnv") -> Any:
    marker = state.marker_line(action.marker)
    body = f"{marker}\n{action.body}"
    key = state.created_key(action, env.feature)
    found = None
    cached = await state.created_object(env.db, key)
    if cached:
        try:
            found = await env.api.getitem("/repos/{owner}/{repo}/issues/comments/{comment_id}",
                                          {**_split(action.repo), "comment_id": cached})
        except Exception as exc:
            # Moments after the event, the card may be one a delivery just made that this
            # read's replica does not have yet: made again, it would be there twice. The
            # executor asks again a moment later (``fresh``); then a 404 means deleted.
            if _status(exc) != 404 or env.fresh:
                raise
            await state.forget_created(env.db, key)
    if found is None:
        found = await _find_comment(env, action.repo, action.number, marker)
    if found is None:
        made = await env.api.post("/repos/{owner}/{repo}/issues/{issue_number}/comments",
                                  {**_split(action.repo), "issue_number": action.number},
                                  data={"body": body})
        await state.remember_created(env.db, key, action.repo, "comment", str(made["id"]))
        return f"created {made['id']}"
    if not cached:
        await state.remember_created(env.db, key, action.repo, "comment", str(found["id"]))
    if (found.get("body") or "").strip() == body.strip():
        return "unchanged"
    await env.api.patch("/repos/{owner}/{repo}/issues/comments/{comment_id}",
                        {**_split(action.repo), "comment_id": found["id"]}, data={"body": body})
    return f"edited {found['id']}"


# A list item, with its checkbox when it is a task (GitHub lets readers tick those in place,
# in the bot's section too): indentation, tick, text.
_ITEM = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)]) (?:\[([ xX])\] )?(.*?)[ \t\r]*$")


def _tasks(lines: list[str]) -> list[tuple[tuple, re.Match[str]] | None]:
    """Per line, the task-list item on it (None for any other line): its key, its match. The
    key is its text with the texts of the items it is nested in, and how often that same
    item came before: the text alone is not enough ("tests added" under two items)."""
    keys: list[tuple[tuple, re.Match[str]] | None] = []
    parents: list[tuple[int, str]] = []
    seen: dict[tuple, int] = {}
    for line in lines:
        m = _ITEM.match(line)
        if m is None:
            if line.strip() and not line[:1].isspace():
                parents = []  # a paragraph at the margin ends the list
            keys.append(None)
            continue
        indent = len(m.group(1).expandtabs(4))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (*(text for _, text in parents), m.group(3))
        parents.append((indent, m.group(3)))
        if m.group(2) is None:
            keys.append(None)
            continue
        seen[path] = seen.get(path, -1) + 1
        keys.append(((path, seen[path]), m))
    return keys


def keep_ticks(current: str, section: str) -> str:
    """``section`` with each task-list item ticked or not as the same item is in the
    ``current`` section (see ``UpsertBodySection.keep_ticks``)."""
    ticks = {task[0]: task[1].group(2) for task in _tasks(current.split("\n")) if task}
    if not ticks:
        return section
    lines = section.split("\n")
    for i, task in enumerate(_tasks(lines)):
        if task and task[0] in ticks:
            m = task[1]
            lines[i] = lines[i][:m.start(2)] + ticks[task[0]] + lines[i][m.end(2):]
    return "\n".join(lines)


def replace_section(text: str, marker: str, section: str, *, ticks: bool = False) -> str:
    """Put ``section`` between start/end markers, leaving the author's text alone (and with
    ``ticks``, the ticks of the section's task list as they are in ``text``)."""
    # Accept the marker bare or as a full HTML comment, like UpsertComment does.
    marker = marker.strip().removeprefix("<!--").removesuffix("-->").strip()
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = text or ""
    # The author's text may hold stray markers (pasted from elsewhere): take the first end
    # after a start, and the start nearest to it, so nothing outside the section is touched.
    i = text.find(start)
    j = text.find(end, i + len(start)) if i != -1 else -1
    if j != -1:
        i = text.rfind(start, 0, j)
        if ticks:
            section = keep_ticks(text[i + len(start):j], section)
    block = f"{start}\n{section}\n{end}"
    if "\r\n" in text:  # saved from GitHub's web editor: write the card in its line endings
        block = _crlf(block)
    if j != -1:
        return text[:i] + block + text[j + len(end):]
    sep = ("\r\n\r\n" if "\r\n" in text else "\n\n") if text.strip() else ""
    return text.rstrip("\r\n") + sep + block


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


async def upsert_body_section(action: A.UpsertBodySection, env: "ActionEnv") -> Any:
    uv = {**_split(action.repo), "issue_number": action.number}
    item = await env.api.getitem("/repos/{owner}/{repo}/issues/{issue_number}", uv)
    body = item.get("body") or ""
    new = replace_section(body, action.marker, action.body, ticks=action.keep_ticks)
    # Line endings are the editor's business, not a change of the card.
    if new.replace("\r\n", "\n") == body.replace("\r\n", "\n"):
        return "unchanged"
    await env.api.patch("/repos/{owner}/{repo}/issues/{issue_number}", uv, data={"body": new})
    return "edited"


def _reaction_url(action: A.React) -> tuple[str, dict[str, Any]]:
    uv: dict[str, Any] = _split(action.repo)
    if action.comment_id:
        uv["comment_id"] = action.comment_id
        return "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", uv
    if action.review_comment_id:
        uv["comment_id"] = action.review_comment_id
        return "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", uv
    uv["issue_number"] = action.number
    return "/repos/{owner}/{repo}/issues/{issue_number}/reactions", uv


async def react(action: A.React, env: "ActionEnv") -> Any:
    url, uv = _reaction_url(action)
    if action.remove:
        async for r in env.api.getiter(url, uv):
            if r.get("content") in action.remove and (r.get("user") or {}).get("login") == env.bot_login:
                try:
                    await env.api.delete(url + "/{reaction_id}", {**uv, "reaction_id": r["id"]})
                except Exception as exc:
                    if _status(exc) != 404:
                        raise
    await env.api.post(url, uv, data={"content": action.content})
    return action.content


async def assign(action: A.Assign, env: "ActionEnv") -> Any:
    await env.api.post("/repos/{owner}/{repo}/issues/{issue_number}/assignees",
                       {**_split(action.repo), "issue_number": action.number},
                       data={"assignees": list(action.assignees)})


async def unassign(action: A.Unassign, env: "ActionEnv") -> Any:
    await env.api.delete("/repos/{owner}/{repo}/issues/{issue_number}/assignees",
                         {**_split(action.repo), "issue_number": action.number},
                         data={"assignees": list(action.assignees)})


async def _ask(action: A.RequestReviewers, env: "ActionEnv", users: list[str], teams: list[str]) -> None:
    data: dict[str, Any] = {"reviewers": users}
    if teams:
        data["team_reviewers"] = teams
    await env.api.post("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
                       {**_split(action.repo), "pull_number": action.number}, data=data)


async def request_reviewers(action: A.RequestReviewers, env: "ActionEnv") -> Any:
    """GitHub refuses the whole request (422) when one name cannot be asked (not a
    collaborator any more, a team without access): then each is asked on its own, so one
    stale owner does not keep the others from being asked. Fails only if nobody was asked."""
    owner = action.repo.split("/", 1)[0]
    names = [(login, [login], []) for login in action.reviewers]
    names += [(f"{owner}/{slug}", [], [slug]) for slug in action.team_reviewers]
    refusal: Exception | None = None
    try:
        await _ask(action, env, list(action.reviewers), list(action.team_reviewers))
        outcome = {who: "requested" for who, _, _ in names}
    except Exception as exc:
        if _status(exc) != 422:
            raise
        refusal, outcome = exc, {who: "refused" for who, _, _ in names}
        if len(names) > 1:  # which name does GitHub refuse? ask each on its own
            for who, users, teams in names:
                try:
                    await _ask(action, env, users, teams)
                    outcome[who] = "requested"
                except Exception as one:
                    if _status(one) != 422:
                        raise
    await state.remember_review_requests(env.db, action.repo, action.number, outcome)
    asked = [who for who, result in outcome.items() if result == "requested"]
    if refusal is not None and not asked:
        raise refusal
    refused = [who for who, result in outcome.items() if result == "refused"]
    return "requested " + ", ".join(asked) + (f"; refused {', '.join(refused)}" if refused else "")


async def remove_reviewers(action: A.RemoveReviewers, env: "ActionEnv") -> Any:
    await env.api.delete("/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
                         {**_split(action.repo), "pull_number": action.number},
                         data={"reviewers": list(action.reviewers)})


async def close(action: A.Close, env: "ActionEnv") -> Any:
    await env.api.patch("/repos/{owner}/{repo}/issues/{issue_number}",
                        {**_split(action.repo), "issue_number": action.number},
                        data={"state": "closed", "state_reason": action.reason})


async def reopen(action: A.Reopen, env: "ActionEnv") -> Any:
    await env.api.patch("/repos/{owner}/{repo}/issues/{issue_number}",
                        {**_split(action.repo), "issue_number": action.number},
                        data={"state": "open"})

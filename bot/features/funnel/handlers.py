"""Live recorder: every conversation event, collaborator change, team membership and
push to an approver file becomes a ``Record`` of funnel acts (written idempotently)."""
from __future__ import annotations

from typing import Any, Sequence

from ...context import Context
from ...core.actions import Action, Record
from ...core.events import Event
from .approvers import approver_ids, approver_paths
from .extract import Act, Grant, acts_from, epoch, member_grant, person


def _repo_id(event: Event) -> int | None:
    repo = event.payload.get("repository") or {}
    return int(repo["id"]) if repo.get("id") is not None else None


def record(event: Event, acts: Sequence[Act] = (), grants: Sequence[Grant] = ()) -> list[Action]:
    repo_id = _repo_id(event)
    if repo_id is None or not (acts or grants):
        return []
    return [Record(event.repo, feature="funnel", op="acts", args={
        "repo_id": repo_id, "repo": event.repo,
        "acts": [[a.key, a.kind, a.user_id, a.login, a.is_bot, a.at] for a in acts],
        "grants": [[g.user_id, g.login, g.source, g.at] for g in grants],
        # The name the delivery carries is the repository's name when it was received
        # (a replayed old delivery must not rename the repository back).
        "seen_at": int(event.received_at.timestamp())})]


async def on_conversation(event: Event, ctx: Context) -> list[Action]:
    repo_id = _repo_id(event)
    if repo_id is None:
        return []
    return record(event, acts_from(event.name, event.payload, repo_id))


async def on_member(event: Event, ctx: Context) -> list[Action]:
    # The payload has no time: the delivery's arrival is the nearest to the grant (the
    # decision may come much later: a backlog, retries, a dead delivery re-run).
    return record(event, grants=member_grant(event.payload, event.received_at.isoformat()))


async def on_membership(event: Event, ctx: Context) -> list[Action]:
    """Team memberships are organisation-wide: stored per team, counted for the
    repositories whose rules name the team among approver_teams."""
    p = event.payload
    team, org = p.get("team") or {}, p.get("organization") or {}
    who = person(p.get("member"))
    if p.get("action") != "added" or p.get("scope", "team") != "team" or who is None:
        return []
    if not team.get("slug") or not org.get("login"):
        return []
    at = int(event.received_at.timestamp())  # as for on_member
    return [Record(event.repo, feature="funnel", op="team_grants", args={
        "org": org["login"], "team": team["slug"], "members": [[who[0], who[1], at]]})]


def _changed_paths(payload: Any) -> set[str]:
    paths: set[str] = set()
    for c in payload.get("commits") or []:
        paths.update(c.get("added") or [])
        paths.update(c.get("modified") or [])
    return paths


async def on_push(event: Event, ctx: Context) -> list[Action]:
    """A push to the default branch that changed OWNERS or CODEOWNERS: everyone the files
    now name gained approver rights (no later than the push; earlier grants are kept)."""
    p = event.payload
    repo = p.get("repository") or {}
    if p.get("ref") != f"refs/heads/{repo.get('default_branch')}" or p.get("deleted"):
        return []
    section = ctx.rules.section("funnel")
    paths = approver_paths(_changed_paths(p), section)
    if not paths:
        return []
    at = epoch((p.get("head_commit") or {}).get("timestamp")) or int(event.received_at.timestamp())
    named = await approver_ids(ctx.db, ctx.gh, ctx.repo, paths, str(p.get("after") or ""), section)
    grants = [Grant(uid, login, source, at) for uid, (login, source) in sorted(named.items())]
    return record(event, grants=grants)


CONVERSATION = ("issues", "issue_comment", "pull_request", "pull_request_review",
                "pull_request_review_comment")
HANDLERS = {
    **{name: (on_conversation,) for name in CONVERSATION},
    "member": (on_member,),
    "membership": (on_membership,),
    "push": (on_push,),
}

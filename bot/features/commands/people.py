"""/assign, /unassign, /cc and /uncc. Without logins, they apply to the commenter."""
from __future__ import annotations

from ...context import Context
from ...core.actions import Action, Assign, RemoveReviewers, RequestReviewers, Unassign
from ...core.events import Event
from ...github.errors import PermanentGitHubError
from ..base import CommandSpec, Invocation
from . import common
from .common import shown
from .errors import CommandError

MAX_PEOPLE = 10  # GitHub's own limit on assignees per issue


def _people(inv: Invocation, event: Event, *, allow_teams: bool = False) -> tuple[list[str], list[str]]:
    users, teams = common.logins(inv.args, allow_teams=allow_teams)
    if not inv.args:
        users = [event.sender_login]
    if len(users) + len(teams) > MAX_PEOPLE:
        raise CommandError(f"at most {MAX_PEOPLE} people at a time")
    return users, teams


async def _not_assignable(ctx: Context, number: int, users: list[str]) -> list[str]:
    """Those GitHub would not assign here. It leaves them out of an assignment without a
    word (201 all the same), so the bot asks first rather than report a +1 for nothing."""
    owner, repo = ctx.repo.split("/", 1)
    refused = []
    for login in users:
        try:
            await ctx.gh.getitem("/repos/{owner}/{repo}/issues/{issue_number}/assignees/{assignee}",
                                 {"owner": owner, "repo": repo, "issue_number": number, "assignee": login})
        except PermanentGitHubError as exc:
            if exc.status != 404:
                raise
            refused.append(login)
    return refused


async def assign(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    users, _ = _people(inv, event)
    number = common.number(event)
    refused = await _not_assignable(ctx, number, users)
    if refused:
        raise CommandError("GitHub cannot assign " + ", ".join(shown(u) for u in refused) + " here: only "
                           "collaborators, members of the organization and people who took part in "
                           "this conversation can be assigned; nothing was changed")
    return [Assign(repo=ctx.repo, number=number, assignees=tuple(users))]


async def unassign(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    users, _ = _people(inv, event)
    return [Unassign(repo=ctx.repo, number=common.number(event), assignees=tuple(users))]


async def cc(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    if not inv.args:
        raise CommandError("name who should review: `/cc @user ...`")
    users, teams = _people(inv, event, allow_teams=True)
    author = common.item_author(event).lower()
    users = [u for u in users if u.lower() != author]  # GitHub refuses the author as reviewer
    if not users and not teams:
        raise CommandError("the author of a pull request cannot review it")
    return [RequestReviewers(repo=ctx.repo, number=common.number(event), reviewers=tuple(users),
                             team_reviewers=tuple(teams))]


async def uncc(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    users, _ = _people(inv, event)
    return [RemoveReviewers(repo=ctx.repo, number=common.number(event), reviewers=tuple(users))]


COMMANDS = (
    CommandSpec("assign", "/assign [@user ...]", "Assigns people (yourself without a login).",
                ("triager", "maintainer"), assign),
    CommandSpec("unassign", "/unassign [@user ...]", "Unassigns people (yourself without a login).",
                ("triager", "maintainer"), unassign),
    CommandSpec("cc", "/cc @user|@org/team ...", "Requests reviews.",
                ("author", "triager", "maintainer"), cc, on_issues=False),
    CommandSpec("uncc", "/uncc [@user ...]", "Withdraws review requests (yours without a login).",
                ("author", "triager", "maintainer"), uncc, on_issues=False),
)

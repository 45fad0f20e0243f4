"""Routing an issue whose kind is known: labels, an assignee from the rotation, a board
item, a comment, and for RFC kinds the RFC record. Done once per issue and kind.

Deciding only reads the store. A rotation's turn and a problem's report are Records that
carry what the decision read (the last turn, that nobody reported the problem), written
as compare-and-sets: of two routings decided at once (other subjects on one worker, other
replicas) the second is refused before its assignment or comment and decided again, so
it gets the next person and no second report."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from ...context import Context
from ...core.actions import (Action, AddLabels, AddToProject, Assign, Note, Record, RemoveFromProject, RemoveLabel,
                             UpsertComment)
from ...core.events import parse_time
from ...core.markdown import neutralize
from ...github import PermanentGitHubError
from ...store.db import Database
from ...store.state import bot_labels
from . import boards, store
from .rotation import next_assignee

log = logging.getLogger("bot.route")
FEATURE = "route"


def board_owner(board: Mapping[str, Any], repo: str) -> str:
    return board.get("owner") or repo.split("/", 1)[0]


async def board_actions(ctx: Context, repo: str, number: int, board: Mapping[str, Any], status: str,
                        section: Mapping[str, Any]) -> list[Action]:
    """AddToProject, or the report of why the board cannot be used (once per problem)."""
    if not board.get("number"):
        return []
    owner = board_owner(board, repo)
    found = await boards.check(ctx.gh, ctx.event.installation_id, owner, int(board["number"]), board["field"],
                               status or None)
    if found.ok:
        return [*await problems_solved(ctx.db, repo, list(found.solved)),
                AddToProject(repo, number=number, project_owner=owner, project_number=int(board["number"]),
                             field=board["field"], value=status or None)]
    log.warning("routing %s#%s: %s", repo, number, found.problem)
    return [Note(repo, feature=FEATURE, number=number, text=f"not put on a board: {found.problem}"),
            *await report_problem(ctx.db, f"delivery:{ctx.event.delivery_id}", repo, number, found.key, (
                f"Routing problem: {found.problem}. Please fix the board or the `routing` rules; "
                "issues are routed without the board until then."), section)]


async def report_problem(db: Database, claimant: str, repo: str, number: int, key: str, text: str,
                         section: Mapping[str, Any]) -> list[Action]:
    """One comment to the maintainers per problem (``key``), on issue ``number``, unless
    another decision reported it: this one's (``claimant``: the delivery, the job's period)
    is claimed by the Record before it, see ``store.write_problem``."""
    if await store.problem_reporter(db, repo, key) not in (None, claimant):
        return []
    who = section.get("maintainers") or ""
    mention = f"@{who} " if who else ""
    # The claim stands for the comment: in a dry run, where the comment is not posted,
    # it is not written either, so the problem is reported once the bot acts.
    return [Record(repo, feature=FEATURE, op="problem", args={"repo": repo, "problem": key, "claimant": claimant},
                   needs_github=True),
            UpsertComment(repo, number=number, marker=f"route-problem:{key}", body=f"{mention}{text}")]


async def problems_solved(db: Database, repo: str, keys: list[str]) -> list[Action]:
    """The reports of problems a check found fixed are cleared, so a problem that comes back
    later is told again. Nothing to write unless one was reported."""
    solved = await store.reported(db, repo, keys)
    if not solved:
        return []
    return [Record(repo, feature=FEATURE, op="problems_solved", args={"repo": repo, "problems": solved})]


async def team_members(ctx: Context, team: str) -> list[str]:
    org, _, slug = team.partition("/")
    members = []
    async for member in ctx.gh.getiter("/orgs/{org}/teams/{team_slug}/members", {"org": org, "team_slug": slug}):
        members.append(member["login"])
    return sorted(members, key=str.casefold)


async def open_assigned(ctx: Context, repo: str, login: str) -> int:
    data = await ctx.gh.getitem("/search/issues{?q,per_page}",
                                {"q": f"repo:{repo} is:issue is:open assignee:{login}", "per_page": 1})
    return int(data.get("total_count") or 0)


def resume_after(people: list[str], last: int, last_login: str) -> int:
    """Where the next turn starts from: the place of whoever took the last turn in today's
    list, as people join and leave (a team's members come sorted by login), so nobody gets
    two turns in a row or is passed over. If that person left, the one who followed them
    has moved into their place. ``last`` (the stored index) is kept for the compare-and-set."""
    if last < 0 or not last_login:
        return last
    folded = [login.casefold() for login in people]
    if last_login.casefold() in folded:
        return folded.index(last_login.casefold())
    return last - 1


async def open_counts(ctx: Context, repo: str, people: list[str], start: int,
                      rotation: Mapping[str, Any]) -> dict[str, int | None]:
    """Open issues assigned to the people in turn order after ``start``, until one is under
    the cap: one search each, and GitHub's search API allows 30 requests a minute, so not
    the whole rotation (a large team) for every bug. None for a login the search refuses."""
    cap, counts = rotation["max_open"], {}
    if not cap:
        return counts
    away = {login.casefold() for login in rotation["away"]}
    for step in range(1, len(people) + 1):
        login = people[(start + step) % len(people)]
        if login.casefold() in away or login in counts:
            continue
        try:
            counts[login] = count = await open_assigned(ctx, repo, login)
        except PermanentGitHubError as exc:
            # A login GitHub will not search (renamed, a typo: 422) is passed over this turn
            # rather than failing the routing of every bug whose turn reaches it.
            log.warning("routing in %s: open issues of %s not counted, passed over: %s", repo, login, exc)
            counts[login] = None
            continue
        if count < cap:
            break
    return counts


async def rotation_people(ctx: Context, repo: str, number: int, name: str, rotation: Mapping[str, Any],
                          section: Mapping[str, Any]) -> tuple[list[str], list[Action], str]:
    """The rotation's people, with the actions that go with reading them, and why nobody
    when a team cannot be listed (404, 403): that is told to the maintainers once, like a
    missing board, and the issue is routed without an assignee."""
    if rotation["people"] or not rotation["team"]:
        return list(rotation["people"]), [], ""
    team, key = rotation["team"], f"team:{rotation['team']}"
    try:
        people = await team_members(ctx, team)
    except PermanentGitHubError as exc:
        problem = f"the team {team} of rotation {name!r} cannot be listed (GitHub answered {exc.status})"
        log.warning("routing %s#%s: %s", repo, number, problem)
        return [], await report_problem(ctx.db, f"delivery:{ctx.event.delivery_id}", repo, number, key, (
            f"Routing problem: {problem}. Please check the team in the `routing` rules and that the app "
            "may read the organization's members; issues are routed without an assignee until then."),
            section), f"not assigned: {problem}"
    return people, await problems_solved(ctx.db, repo, [key]), ""


async def assign_actions(ctx: Context, repo: str, number: int, issue: Mapping[str, Any], name: str,
                         section: Mapping[str, Any]) -> tuple[list[Action], str]:
    if issue.get("assignees"):
        return [], "already assigned"
    rotation = (section.get("rotations") or {}).get(name)
    if rotation is None:
        return [], f"no rotation named {name!r}"
    people, actions, why_not = await rotation_people(ctx, repo, number, name, rotation, section)
    if why_not:
        return actions, why_not
    if not people:
        return actions, f"rotation {name!r} has nobody in it"
    last, last_login, taken = await store.turn(ctx.db, repo, name, number)
    pick = taken
    if pick is None:
        start = resume_after(people, last, last_login)
        counts = await open_counts(ctx, repo, people, start, rotation)
        pick = next_assignee(people, start, away=rotation["away"], open_counts=counts,
                             max_open=rotation["max_open"])
    skipped = f" (skipped {', '.join(pick.skipped)})" if pick.skipped else ""
    if pick.login is None:
        return actions, f"nobody free in rotation {name!r}{skipped}"
    # The turn is taken before the assignment, so a decision that lost the turn to another
    # assigns nobody (see store.write_turn).
    turn = Record(repo, feature=FEATURE, op="turn", args={
        "repo": repo, "rotation": name, "number": number, "after": last, "index": pick.index, "login": pick.login,
        "skipped": list(pick.skipped)})
    return ([*actions, turn, Assign(repo, number=number, assignees=(pick.login,))],
            f"assigned {pick.login} from {name!r}{skipped}")


def rfc_record(repo: str, number: int, state: str, issue: Mapping[str, Any],
               known: Mapping[str, Any] | None = None) -> Record:
    """The RFC's row in a new state: title and link from the issue, the opening time kept
    once recorded (it orders the agenda)."""
    opened = parse_time(issue.get("created_at"))
    return Record(repo, feature=FEATURE, op="rfc", args={
        "repo": repo, "number": number, "state": state, "title": str(issue.get("title") or "")[:300],
        "url": str(issue.get("html_url") or ""),
        "opened_at": known["opened_at"] if known else (opened.timestamp() if opened else 0.0)})


def _board_key(board: Mapping[str, Any], repo: str) -> str:
    return f"{board_owner(board, repo)}#{board['number']}" if board.get("number") else ""


async def unroute(kind: str, repo: str, issue: Mapping[str, Any], ctx: Context,
                  section: Mapping[str, Any]) -> list[Action]:
    """Undo the routing of the issue's earlier kinds, now that it is of ``kind``: the labels
    routing added (if the bot added them and the new kind does not want them too), the
    board item (unless the new kind uses the same board: the new status moves it), an RFC
    not decided yet (withdrawn). Assignees and comments stay: a person was asked, and the
    conversation is history."""
    number = int(issue["number"])
    earlier = [r for r in await store.routings(ctx.db, repo, number) if r["kind"] != kind]
    if not earlier:
        return []
    new_spec = (section.get("routes") or {}).get(kind)
    rfc = section["rfc"]
    wanted = set()
    new_board = ""
    if new_spec is not None:
        wanted = {label.casefold() for label in new_spec["labels"]}
        if new_spec["rfc"] and rfc["labels"].get("draft"):
            wanted.add(rfc["labels"]["draft"].casefold())
        new_board = _board_key(new_spec["board"], repo)
    present = {label["name"].casefold(): label["name"] for label in issue.get("labels") or []}
    ours = {label.casefold() for label in await bot_labels(ctx.db, repo, number)}
    actions: list[Action] = []
    for old in earlier:
        spec = (section.get("routes") or {}).get(old["kind"]) or {}
        # The labels this routing recorded, and those the old kind's rules name today: a
        # routing stored before its labels were recorded has none, and the ledger check below
        # keeps this to labels the bot itself put on.
        candidates = list(old["labels"]) + list(spec.get("labels") or ())
        if spec.get("rfc"):
            candidates += [label for label in rfc["labels"].values() if label]  # whichever state it reached
        said: list[str] = []
        for label in dict.fromkeys(c.casefold() for c in candidates):
            if label in present and label in ours and label not in wanted:
                actions.append(RemoveLabel(repo, number=number, label=present[label]))
                said.append(f"label {present[label]}")
        if old["board"] and old["board"] != new_board:
            owner, _, board_number = old["board"].rpartition("#")
            actions.append(RemoveFromProject(repo, number=number, project_owner=owner,
                                             project_number=int(board_number)))
            said.append(f"off board {old['board']}")
        if spec.get("rfc"):
            known = await store.rfc(ctx.db, repo, number)
            if known is not None and known["state"] in ("draft", "review"):
                actions.append(rfc_record(repo, number, "withdrawn", issue, known))
                said.append("RFC withdrawn")
        actions += [Record(repo, feature=FEATURE, op="unrouted", args={"repo": repo, "number": number,
                                                                       "kind": old["kind"]}),
                    Note(repo, feature=FEATURE, number=number,
                         text=f"no longer {old['kind']}: " + ("; ".join(said) or "nothing to undo"))]
    return actions


async def route(kind: str, repo: str, issue: Mapping[str, Any], ctx: Context) -> list[Action]:
    """Actions that send an issue of ``kind`` where the rules say. Empty once done.

    A lookup GitHub refuses for good leaves the issue unrouted (noted and logged) rather
    than failing the caller, whose own actions (the kind label, which starts the SLA clock)
    must still be taken; a transient error is raised, so the delivery is tried again."""
    try:
        return await _route(kind, repo, issue, ctx)
    except PermanentGitHubError as exc:
        number = int(issue["number"])
        log.warning("routing %s#%s as %s failed: %s", repo, number, kind, exc)
        return [Note(repo, feature=FEATURE, number=number,
                     text=f"not routed as {kind}: GitHub refused a lookup ({exc.status})")]


async def _route(kind: str, repo: str, issue: Mapping[str, Any], ctx: Context) -> list[Action]:
    if not ctx.rules.enabled("routing"):
        return []
    section = ctx.rules.section("routing")
    number = int(issue["number"])
    actions: list[Action] = await unroute(kind, repo, issue, ctx, section)
    spec = (section.get("routes") or {}).get(kind)
    if spec is None:
        return actions
    if await store.routed(ctx.db, repo, number, kind):
        return actions
    present = {label["name"].casefold() for label in issue.get("labels") or []}
    summary: list[str] = []
    rfc = section["rfc"]
    labels = list(spec["labels"]) + ([rfc["labels"]["draft"]] if spec["rfc"] and rfc["labels"].get("draft") else [])
    new_labels = tuple(label for label in dict.fromkeys(labels) if label.casefold() not in present)
    if new_labels:
        actions.append(AddLabels(repo, number=number, labels=new_labels))
        summary.append("labels " + ", ".join(new_labels))
    if spec["rotation"]:
        assign, said = await assign_actions(ctx, repo, number, issue, spec["rotation"], section)
        actions += assign
        summary.append(said)
    status = spec["board"]["status"] or (rfc["statuses"].get("draft", "") if spec["rfc"] else "")
    placed = await board_actions(ctx, repo, number, spec["board"], status, section)
    actions += placed
    if any(isinstance(a, AddToProject) for a in placed):
        summary.append(f"board {board_owner(spec['board'], repo)}#{spec['board']['number']} ({status or 'no status'})")
    if spec["comment"] and ("{support_url}" not in spec["comment"] or section["support_url"]):
        author = neutralize((issue.get("user") or {}).get("login") or "", max_len=40)
        body = spec["comment"].replace("{support_url}", section["support_url"]).replace("{author}", author)
        actions.append(UpsertComment(repo, number=number, marker=f"route:{kind}", body=body))
        summary.append("comment")
    if spec["rfc"]:
        actions.append(rfc_record(repo, number, "draft", issue))
    text = f"routed as {kind}: " + ("; ".join(summary) or "nothing to do")
    board = _board_key(spec["board"], repo) if any(isinstance(a, AddToProject) for a in placed) else ""
    actions += [Record(repo, feature=FEATURE, op="routed", args={"repo": repo, "number": number, "kind": kind,
                                                                 "summary": text, "board": board,
                                                                 "labels": list(new_labels)}),
                Note(repo, feature=FEATURE, number=number, text=text)]
    return actions

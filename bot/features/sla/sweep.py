"""The periodic sweep: warn at the warning point, mark breaches, once each.

It keeps no timers: every run recomputes every open clock from the store at
``now``, and the ``warned_at`` / ``breached_at`` marks (written by the same batch)
make a second run a no-op. The comments are ``UpsertComment``s with one marker per
policy and purpose, so even a run whose marks were lost makes no second comment.

Before it warns or marks a breach it reads the item from GitHub (rare: twice per clock
at most): an item closed, deleted or moved whose webhook never reached the SLA is
recorded as such instead, so nobody is called to a closed item.
"""
from __future__ import annotations

import logging
from datetime import datetime
from dataclasses import dataclass
from datetime import timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ...core import sla
from ...core.actions import Action, AddLabels, Guard, Note, Record, UpsertComment
from ...core.events import parse_time
from ...github.errors import GitHubError
from ...github.urls import is_repo_url
from ...store.db import Database
from . import store
from .ledger import ItemReader, reconcile
from .policy import Policy, answer_commands, mentions, other_section, policies_for, rotation_members
from .responses import comment_answers, response_actions

if TYPE_CHECKING:  # pragma: no cover
    from ...context import GitHubReader, JobContext
    from ...rules.loader import Rules

log = logging.getLogger("bot.features.sla")

GONE = frozenset({301, 404, 410})  # transferred (moved), or deleted


def audience(section: Mapping[str, Any], policy: Policy | None, routing: Mapping[str, Any] | None) -> list[str]:
    """Whom a warning mentions: the policy's own team, else the triage rotation, else
    the section's team."""
    if policy is not None and policy.team:
        return [policy.team]
    members = rotation_members(routing, policy.kinds if policy else ())
    if members:
        return members
    return [section["team"]] if section["team"] else []


def _warning(clock: store.StoredClock, who: list[str], due: datetime | None) -> str:
    kind = "pull request" if clock.is_pr else "issue"
    when = due.strftime("%Y-%m-%d %H:%M UTC") if due else "soon"
    lead = f"{mentions(who)}: this" if who else "This"
    return (f"{lead} {kind} has had no response from the project yet. Its first response is due "
            f"by {when} ({clock.clock.target / 3600:g} h policy `{clock.policy}`).")


def _breach(clock: store.StoredClock, who: list[str]) -> str:
    kind = "pull request" if clock.is_pr else "issue"
    lead = f"{mentions(who)}: this" if who else "This"
    return (f"{lead} {kind} has waited longer than {clock.clock.target / 3600:g} h for a first "
            f"response (policy `{clock.policy}`). Please answer the author, or pause the clock "
            f"with `/sla pause` if it waits on them.")


def item_reader(gh: "GitHubReader | None", repo: str) -> ItemReader | None:
    """Reads items of ``repo`` once per sweep: the item's JSON, ``{}`` when GitHub says
    it is gone, None when it cannot be read. None without a reader (no installation)."""
    if gh is None:
        return None
    owner, name = repo.split("/", 1)
    found: dict[int, Mapping[str, Any] | None] = {}

    async def read(number: int) -> Mapping[str, Any] | None:
        if number not in found:
            try:
                found[number] = await gh.getitem("/repos/{owner}/{repo}/issues/{issue_number}",
                                                 {"owner": owner, "repo": name, "issue_number": number})
            except GitHubError as exc:
                if exc.status not in GONE:
                    log.warning("SLA sweep cannot read %s#%s: %s", repo, number, exc)
                found[number] = {} if exc.status in GONE else None
            except LookupError:  # no GitHub access for this repository
                found[number] = None
            else:
                if _moved(found[number], repo, number):
                    found[number] = {}
        return found[number]

    return read


def _moved(item: Mapping[str, Any] | None, repo: str, number: int) -> bool:
    """Whether GitHub answered with another item: a transferred issue's URL answers 301 and
    the HTTP client follows it, to the issue in its new repository (open there, under
    another number). For this repository that item is gone, like a 404."""
    if not isinstance(item, Mapping) or not item:
        return False
    if item.get("number") is not None and int(item["number"]) != number:
        return True
    return bool(item.get("repository_url")) and not is_repo_url(item["repository_url"], repo)


async def _closed_on_github(read: ItemReader, repo: str, number: int, now: datetime) -> list[Action] | None:
    """None when GitHub has the item open; otherwise what the sweep does instead of
    warning: record the close it missed, or nothing this run when it cannot tell."""
    item = await read(number)
    if item is None:
        return []  # unknown: no call to anyone on a guess; the next run asks again
    if item and item.get("state") != "closed":
        return None
    closed = parse_time(item.get("closed_at")) if item else None
    at = min(closed, now) if closed else now
    return [Record(repo, feature="sla", op="set_closed", args={"repo": repo, "number": number, "closed": True,
                                                               "at": at.timestamp()}),
            Note(repo, feature="sla", number=number,
                 text="closed on GitHub (no webhook seen): clocks stopped" if item
                 else "gone from GitHub (deleted or moved): clocks stopped")]


@dataclass
class _SweepContext:
    """What the response decision (``responses``) reads, for the sweep's repository."""
    db: Database
    repo: str
    rules: "Rules"
    roles_of: Callable[..., Any]
    bot_login: str


async def _answered_on_github(gh: "GitHubReader", rctx: _SweepContext, number: int) -> list[Action] | None:
    """The first response GitHub has but the SLA never saw (its delivery lost or dead):
    its actions, dated by the comment, or None when there is none or the comments cannot
    be read (then the sweep decides as without them, and the next run asks again)."""
    tracked = await store.item(rctx.db, rctx.repo, number)
    if tracked is None or tracked["first_response_at"] is not None:
        return None
    section = rctx.rules.section("sla")
    commands = answer_commands(rctx.rules)
    owner, name = rctx.repo.split("/", 1)
    since = datetime.fromtimestamp(float(tracked["opened_at"]), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        async for comment in gh.getiter("/repos/{owner}/{repo}/issues/{issue_number}/comments{?since,per_page}",
                                        {"owner": owner, "repo": name, "issue_number": number,
                                         "since": since, "per_page": 100}):
            at = parse_time(comment.get("created_at"))
            if at is None:
                continue
            if await comment_answers(rctx, section, tracked, comment, at, commands):  # type: ignore[arg-type]
                return await response_actions(rctx, number=number, user=comment.get("user"),  # type: ignore[arg-type]
                                              at=at, kind="comment")
    except (GitHubError, LookupError) as exc:
        log.warning("SLA sweep cannot read the comments of %s#%s: %s", rctx.repo, number, exc)
    return None


def _due(clock: store.StoredClock, now: datetime) -> str | None:
    state = sla.state(clock.clock, now)
    if state == sla.BREACHED and clock.breached_at is None:
        return sla.BREACHED
    if state == sla.WARNING and clock.warned_at is None:
        return sla.WARNING
    return None


async def sweep_repo(db: Database, repo: str, rules: "Rules", now: datetime,
                     gh: "GitHubReader | None" = None, roles_of: Callable[..., Any] | None = None,
                     bot_login: str = "") -> list[Action]:
    section = rules.section("sla")
    read = item_reader(gh, repo)
    actions = await reconcile(db, repo, rules, now, read)
    # What reconciling changes (clocks started, pauses opened or ended) takes effect with
    # this batch: the next run enforces those items, reading the store as it leaves it.
    changed = {a.args["number"] for a in actions if isinstance(a, Record) and "number" in a.args}
    routing = other_section(rules, "routing")
    policies = {p.name: p for p in policies_for(rules)}
    for clock in await store.clocks(db, repo, unanswered=True, open_items=True):
        if clock.policy not in policies:
            continue  # a policy taken out of the rules: nothing is owed under it now
        due = _due(clock, now) if clock.number not in changed else None
        if due is None:
            continue
        instead = await _closed_on_github(read, repo, clock.number, now) if read is not None else None
        if instead is not None:
            actions += instead
            changed.add(clock.number)
            continue
        if gh is not None and roles_of is not None:
            answered = await _answered_on_github(gh, _SweepContext(db, repo, rules, roles_of, bot_login), clock.number)
            if answered:
                actions += answered
                changed.add(clock.number)
                continue
        who = audience(section, policies.get(clock.policy), routing)
        args = {"repo": repo, "number": clock.number, "policy": clock.policy, "at": now.timestamp()}
        # Sent paced, a while after this decision: withdrawn if answered or closed meanwhile.
        owed = Guard("sla", "still_owed", {"repo": repo, "number": clock.number, "policy": clock.policy})
        if due == sla.BREACHED:
            due_at = sla.due_at(clock.clock, now)
            escalate = [section["escalate_to"]] if section["escalate_to"] else who
            actions += [
                AddLabels(repo, number=clock.number, labels=(section["breach_label"],), guard=owed),
                UpsertComment(repo, number=clock.number, marker=f"contributor-flow:sla-breach:{clock.policy}",
                              body=_breach(clock, escalate), guard=owed),
                Record(repo, feature="sla", op="mark_breached",
                       args={**args, "due": due_at.timestamp() if due_at else now.timestamp()}),
                Record(repo, feature="sla", op="mark_warned", args=args),
                Note(repo, feature="sla", number=clock.number, text=f"SLA breached ({clock.policy})", guard=owed),
            ]
        else:
            actions += [
                UpsertComment(repo, number=clock.number, marker=f"contributor-flow:sla-warning:{clock.policy}",
                              body=_warning(clock, who, sla.due_at(clock.clock, now)), guard=owed),
                Record(repo, feature="sla", op="mark_warned", args=args),
                Note(repo, feature="sla", number=clock.number, text=f"SLA warning ({clock.policy})", guard=owed),
            ]
    return actions


async def run_sweep(jctx: "JobContext") -> list[Action]:
    now = jctx.now()
    actions: list[Action] = []
    for handle in await jctx.repos():
        if not handle.rules.enabled("sla"):
            continue
        try:
            actions += await sweep_repo(jctx.db, handle.repo, handle.rules, now, handle.gh,
                                          handle.roles_of, jctx.bot_login)
        except Exception:  # one repository's bad state must not stop the others
            log.exception("SLA sweep failed for %s", handle.repo)
    return actions

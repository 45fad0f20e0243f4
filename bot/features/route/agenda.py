"""The weekly RFC review agenda: before the review call, one post listing the RFCs
waiting for review, oldest first, to a Discussion category or an issue.

The job runs every quarter hour and the scheduler runs each period once whatever the
number of replicas. A week counts as posted only once the executor has made the post
(its own record of the Discussion or comment, written after GitHub answered), so a post
that failed is tried again on the next run, and the post itself is deduplicated
(Discussion dedupe key / comment marker of the call's week), so a week gets one.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...context import JobContext, RepoHandle
from ...core.actions import Action, CreateDiscussion, UpsertComment
from ...core.markdown import neutralize
from ...store import state
from ..discussion_categories import missing_category
from . import store
from .plan import problems_solved, report_problem
from .rules import WEEKDAYS

log = logging.getLogger("bot.route")
JOB_NAME = "rfc-review-agenda"



def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in routing.agenda; using UTC", name)
        return ZoneInfo("UTC")


def next_call(now: datetime, agenda: Mapping[str, Any]) -> datetime:
    """The first review call after ``now`` (local day and time). Counted from now, not
    from the current week: the window before a call early in the week (Monday 09:00,
    24 h before) starts in the week before."""
    tz = zone(agenda["timezone"])
    local = now.astimezone(tz)
    hh, mm = (int(x) for x in agenda["time"].split(":"))
    day = local.date() + timedelta(days=(WEEKDAYS.index(agenda["weekday"]) - local.weekday()) % 7)
    call = datetime.combine(day, time(hh, mm), tz)
    if call <= now:
        call = datetime.combine(day + timedelta(days=7), time(hh, mm), tz)
    return call


def week_of(call: datetime) -> str:
    """The call's (local) ISO week: what makes an agenda once a week."""
    year, week, _ = call.isocalendar()
    return f"{year:04d}-W{week:02d}"


def due(now: datetime, agenda: Mapping[str, Any]) -> tuple[bool, datetime]:
    call = next_call(now, agenda)
    # In absolute time: a window across a change of daylight saving time is as long as said.
    opens = call.astimezone(timezone.utc) - timedelta(seconds=agenda["post_before"])
    return now >= opens, call


def render(call: datetime, rfcs: Sequence[Mapping[str, Any]], title_template: str) -> tuple[str, str]:
    date = call.strftime("%Y-%m-%d")
    title = title_template.replace("{date}", date).replace("{week}", week_of(call))
    when = call.strftime("%A %Y-%m-%d %H:%M %Z")
    lines = [f"RFCs waiting for review at the call on {when}, oldest first:", ""]
    if not rfcs:
        lines.append("No RFC is waiting for review this week.")
    for i, item in enumerate(rfcs, 1):
        opened = datetime.fromtimestamp(item["opened_at"], timezone.utc).strftime("%Y-%m-%d") if item["opened_at"] else "?"
        lines.append(f"{i}. [{neutralize(item['title'], max_len=120)}]({item['url']}) "
                     f"(#\u200b{item['number']}, opened {opened})")
    lines += ["", "Move an RFC with `/rfc accept`, `/rfc reject` or `/rfc postpone` on its issue."]
    return title, "\n".join(lines)


def _dedupe_key(week: str) -> str:
    # Prefixed because the weekly report may post to the same category.
    return f"rfc-agenda-{week}"


def _marker(week: str) -> str:
    return f"rfc-agenda:{week}"


def post_action(repo: str, agenda: Mapping[str, Any], call: datetime, rfcs: Sequence[Mapping[str, Any]]) -> Action:
    week = week_of(call)
    title, body = render(call, rfcs, agenda["title"])
    if agenda["discussion_category"]:
        return CreateDiscussion(repo, category=agenda["discussion_category"], title=title, body=body,
                                dedupe_key=_dedupe_key(week))
    return UpsertComment(repo, number=agenda["issue"], marker=_marker(week), body=f"## {title}\n\n{body}")


async def posted(db, repo: str, agenda: Mapping[str, Any], week: str) -> bool:
    """Whether the week's post exists: the executor's own record of it (written only once
    GitHub has the post), found by the same action with any text; the job's actions are
    recorded under the job's name."""
    if agenda["discussion_category"]:
        action: Action = CreateDiscussion(repo, category=agenda["discussion_category"], title="", body="",
                                          dedupe_key=_dedupe_key(week))
    else:
        action = UpsertComment(repo, number=agenda["issue"], marker=_marker(week), body="")
    return await state.created_object(db, state.created_key(action, JOB_NAME)) is not None




def _category_key(repo: str, agenda: Mapping[str, Any]) -> str:
    return f"category:{repo}:{agenda['discussion_category']}"


async def _category_report(jctx: JobContext, handle: RepoHandle, section: Mapping[str, Any], problem: str,
                           rfcs: Sequence[Mapping[str, Any]]) -> list[Action]:
    """The agenda cannot be posted: logged each run, and told to the maintainers once, on
    the agenda's issue if one is set, else on the oldest RFC waiting for review."""
    agenda = section["agenda"]
    log.warning("RFC review agenda of %s not posted: %s", handle.repo, problem, extra={"repo": handle.repo})
    number = agenda["issue"] or (rfcs[0]["number"] if rfcs else 0)
    if not number:
        return []  # nowhere to say it (and nothing waiting): a later week reports it
    return await report_problem(jctx.db, f"job:{JOB_NAME}:{jctx.period_key}", handle.repo, int(number),
                                _category_key(handle.repo, agenda), (
        f"Routing problem: {problem}, so the weekly RFC review agenda cannot be posted. Please create "
        "the category or fix `routing.agenda`; the agenda is posted once it can be."), section)


async def run_agenda(jctx: JobContext) -> list[Action]:
    now = jctx.now()
    actions: list[Action] = []
    for handle in await jctx.repos():
        if not handle.rules.enabled("routing"):
            continue
        section = handle.rules.section("routing")
        agenda = section["agenda"]
        if not agenda["enabled"] or not (agenda["discussion_category"] or agenda["issue"]):
            continue
        is_due, call = due(now, agenda)
        if not is_due or await posted(jctx.db, handle.repo, agenda, week_of(call)):
            continue
        rfcs = await store.rfcs_in(jctx.db, handle.repo, "review")
        if agenda["discussion_category"]:
            problem = await missing_category(handle.gh, handle.repo, agenda["discussion_category"])
            if problem:
                actions += await _category_report(jctx, handle, section, problem, rfcs)
                continue
            actions += await problems_solved(jctx.db, handle.repo, [_category_key(handle.repo, agenda)])
        actions.append(post_action(handle.repo, agenda, call, rfcs))
    return actions

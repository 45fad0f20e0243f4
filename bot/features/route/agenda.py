"""The weekly RFC review agenda: before the review call, one post listing the RFCs
waiting for review, oldest first, to a Discussion category or an issue.

The job runs every quarter hour; the scheduler runs each period once whatever the
number of replicas, the agenda is recorded per ISO week, and the post itself is
deduplicated (Discussion dedupe key / comment marker of the week), so a week gets one.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...context import JobContext
from ...core.actions import Action, CreateDiscussion, Record, UpsertComment
from ...core.markdown import neutralize
from . import store
from .plan import FEATURE
from .rules import WEEKDAYS

log = logging.getLogger("bot.route")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r in routing.agenda; using UTC", name)
        return ZoneInfo("UTC")


def call_of_week(now: datetime, agenda: Mapping[str, Any]) -> datetime:
    """The review call of the (local) ISO week ``now`` falls in."""
    tz = zone(agenda["timezone"])
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    day = monday + timedelta(days=WEEKDAYS.index(agenda["weekday"]))
    hh, mm = (int(x) for x in agenda["time"].split(":"))
    return datetime.combine(day, time(hh, mm), tz)


def week_of(call: datetime) -> str:
    year, week, _ = call.isocalendar()
    return f"{year:04d}-W{week:02d}"


def due(now: datetime, agenda: Mapping[str, Any]) -> tuple[bool, datetime]:
    call = call_of_week(now, agenda)
    return call - timedelta(seconds=agenda["post_before"]) <= now < call, call


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


def post_actions(repo: str, agenda: Mapping[str, Any], call: datetime, rfcs: Sequence[Mapping[str, Any]]) -> list[Action]:
    week = week_of(call)
    title, body = render(call, rfcs, agenda["title"])
    if agenda["discussion_category"]:
        # Keyed by the ISO week; prefixed because the executor dedupes discussions per
        # repo, category and key, and the weekly report may use the same category.
        post: Action = CreateDiscussion(repo, category=agenda["discussion_category"], title=title, body=body,
                                        dedupe_key=f"rfc-agenda-{week}")
        target = f"discussion:{agenda['discussion_category']}"
    else:
        post = UpsertComment(repo, number=agenda["issue"], marker=f"rfc-agenda:{week}", body=f"## {title}\n\n{body}")
        target = f"issue:{agenda['issue']}"
    return [post, Record(repo, feature=FEATURE, op="agenda",
                         args={"repo": repo, "week": week, "target": target, "items": len(rfcs)})]


async def run_agenda(jctx: JobContext) -> list[Action]:
    now = jctx.now()
    actions: list[Action] = []
    for handle in await jctx.repos():
        if not handle.rules.enabled("routing"):
            continue
        agenda = handle.rules.section("routing")["agenda"]
        if not agenda["enabled"] or not (agenda["discussion_category"] or agenda["issue"]):
            continue
        is_due, call = due(now, agenda)
        if not is_due or await store.agenda_posted(jctx.db, handle.repo, week_of(call)):
            continue
        actions += post_actions(handle.repo, agenda, call, await store.rfcs_in(jctx.db, handle.repo, "review"))
    return actions

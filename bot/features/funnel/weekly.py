"""The weekly report: when it is due, what goes in it, and posting it once.

The report of ISO week W (Monday 00:00 to Monday 00:00 UTC) is due at the configured
weekday and time (UTC) of week W+1, so the week it describes is always complete. The
job runs every quarter hour (the scheduler runs each period once across replicas) and
acts only when a repository's report is due and not yet created; the Discussion's
dedupe key is the ISO week, so even two overlapping runs create one.
"""
from __future__ import annotations

import calendar
import logging
import re
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ...context import JobContext
from ...core.actions import Action, CreateDiscussion, Record
from ...store import state
from ..discussion_categories import missing_category
from ...store.db import Database
from .query import funnel_for, scope_of
from .render import LABELS
from .report import MARKER, PUBLIC_ONLY, ReportInputs, RfcItem, comparable, figures, render
from .rules import WEEKDAYS
from . import store

if TYPE_CHECKING:  # pragma: no cover
    from ...runtime import Runtime

log = logging.getLogger("bot.funnel")
UTC = timezone.utc


def iso_week(instant: datetime) -> str:
    year, week, _ = instant.astimezone(UTC).isocalendar()
    return f"{year:04d}-W{week:02d}"


_WEEK = re.compile(r"(\d{4})-W(\d{1,2})", re.ASCII | re.IGNORECASE)


def normal_week(week: str) -> str:
    """The week as ``YYYY-Www``: the report's once-per-week key (Discussion, stored report)
    and its sort order, so ``2026-W3`` and ``2026-w03`` are the same week as ``2026-W03``."""
    found = _WEEK.fullmatch(week.strip())
    try:
        if found is None:
            raise ValueError
        year, number = int(found[1]), int(found[2])
        datetime.fromisocalendar(year, number, 1)  # week 53 exists in some years only
    except ValueError:
        raise ValueError(f"not an ISO week (YYYY-Www): {week!r}") from None
    return f"{year:04d}-W{number:02d}"


def week_bounds(week: str) -> tuple[datetime, datetime]:
    year, number = normal_week(week).split("-W")
    start = datetime.fromisocalendar(int(year), int(number), 1).replace(tzinfo=UTC)
    return start, start + timedelta(days=7)


def previous_week(now: datetime) -> str:
    return iso_week(now.astimezone(UTC) - timedelta(days=7))


def due_at(week: str, report: Mapping[str, Any]) -> datetime:
    """When the report of ``week`` is due: the configured day and time of the next week."""
    _, end = week_bounds(week)
    hh, mm = (int(x) for x in report["time"].split(":"))
    day = end + timedelta(days=WEEKDAYS.index(report["weekday"]))
    return datetime.combine(day.date(), time(hh, mm), UTC)


# The job runs once a quarter hour. A report due in the last minutes of the following week
# (weekday sun, time 23:50) would find that week over at its next run and never go out; one
# due late on Sunday would get a single try. Every report keeps being due this long at least.
LATE_GRACE = timedelta(days=1)


def due_week(now: datetime, report: Mapping[str, Any]) -> str | None:
    """The week whose report is due at ``now``: the last complete week once its time has
    come, before that the week before it until LATE_GRACE after its time, else none."""
    week = previous_week(now)
    if now >= due_at(week, report):
        return week
    older = previous_week(now - timedelta(days=7))
    return older if now < due_at(older, report) + LATE_GRACE else None


def months_before(instant: datetime, months: int) -> datetime:
    """The same day ``months`` earlier, or that month's last day if it is shorter."""
    year, month = instant.year, instant.month - months
    while month < 1:
        year, month = year - 1, month + 12
    return instant.replace(year=year, month=month, day=min(instant.day, calendar.monthrange(year, month)[1]))


async def sla_markdown(db: Database, repo: str, since: datetime, until: datetime,
                       now: datetime) -> str | None:
    """The SLA feature's figures, if that feature is present and answers."""
    try:
        from ..sla.report import sla_figures, to_markdown
    except ImportError:
        return None
    try:
        return to_markdown(await sla_figures(db, repo, since, until, now))
    except Exception:  # its tables or shape may change under us: the report goes on
        log.warning("SLA figures unavailable for %s", repo, exc_info=True)
        return None


async def rfcs_waiting(gh: Any, repo: str, labels: Sequence[str]) -> list[RfcItem] | None:
    """Open items labelled for RFC review (the classify/route feature's labels)."""
    if gh is None:
        return None
    found: dict[int, RfcItem] = {}
    try:
        for label in labels:
            q = f'repo:{repo} is:open label:"{label}"'
            data = await gh.getitem("/search/issues{?q,per_page}", {"q": q, "per_page": 50})
            for item in data.get("items") or []:
                found[int(item["number"])] = RfcItem(int(item["number"]), str(item.get("title") or ""),
                                                     str(item.get("html_url") or ""))
    except Exception:
        log.warning("RFC search failed for %s", repo, exc_info=True)
        return None
    return [found[n] for n in sorted(found)]


async def counted_repos(db: Database, repo: str, scope: str) -> set[str] | None:
    """Which repositories an org-mode report posted in ``repo`` may count (lower-case names),
    or None for all of them. Its Discussion is as readable as ``repo``: in a public one anyone
    reads it, so only the organisation's repositories known to be public count, as on the
    anonymous dashboard (a private sibling's newcomers, cohorts or existence would show), and
    ``repo`` itself. A posting repository of unknown visibility counts as public here: leaving
    private siblings out is the safe mistake."""
    if scope == repo:
        return None
    row = await state.installation_named(db, repo)
    if row is not None and row["is_private"] == 1:
        return None
    return await state.public_repos(db) | {repo.lower()}


async def build(db: Database, repo: str, week: str, section: Mapping[str, Any], gh: Any,
                now: datetime) -> tuple[str, str, dict]:
    """(title, body, figures) of ``repo``'s report for ``week``."""
    report = section["report"]
    start, end = week_bounds(week)
    scope = scope_of(repo, section)
    among = await counted_repos(db, repo, scope)
    previous = await store.last_report(db, repo, week)
    unlike = None
    if previous is not None and not comparable(previous[1], among is not None):
        unlike, previous = previous[0], None
    trailing_since = months_before(end, report["trailing_months"])
    inputs = ReportInputs(
        scope=scope, week=week,
        week_funnel=await funnel_for(db, scope, start, end, section, among=among),
        trailing_funnel=await funnel_for(db, scope, trailing_since, end, section, among=among),
        trailing_months=report["trailing_months"],
        previous=previous, public_only=among is not None, unlike_previous=unlike,
        sla_markdown=await sla_markdown(db, repo, start, end, now),
        rfcs=await rfcs_waiting(gh, repo, report["rfc_labels"]),
        welcome_limit=report["welcome_limit"])
    title, body = render(inputs)
    return title, body, figures(inputs)


def actions_for(repo: str, week: str, category: str, title: str, body: str, figs: dict) -> list[Action]:
    return [CreateDiscussion(repo, category=category, title=title, body=body, dedupe_key=week),
            Record(repo, feature="funnel", op="report", args={"repo": repo, "week": week, "figures": figs})]


JOB_NAME = "funnel-weekly-report"


async def already_posted(db: Database, repo: str, category: str, week: str) -> bool:
    """The executor's own record of the Discussion, written once GitHub has it (the job
    and the CLI both post under the job's name)."""
    action = CreateDiscussion(repo, category=category, title="", body="", dedupe_key=week)
    return await state.created_object(db, state.created_key(action, JOB_NAME)) is not None






DISCUSSION_BODY = """query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { discussion(number: $number) { body } }
}"""
_STAGE_ROW = re.compile(r"^\| ([^|\n]+?) \| (\d+) \|", re.MULTILINE)


def shown_figures(body: str) -> dict | None:
    """What the next report compares against (each stage's contributors, as ``figures`` has
    them, and whether only public repositories counted), read from a posted report's body;
    None unless both stage tables are there as ``render`` writes them."""
    if MARKER not in body:
        return None
    head, _, rest = body.partition("\n## This week")
    week_part, _, trailing_part = rest.partition("\n## Trailing ")
    trailing_part = trailing_part.partition("\n### ")[0]   # the cohorts table follows
    names = {label: name for name, label in LABELS.items()}
    shown: dict[str, list[dict]] = {}
    for key, part in (("week", week_part), ("trailing", trailing_part)):
        rows = _STAGE_ROW.findall(part)
        if [label for label, _ in rows] != list(names):
            return None
        shown[key] = [{"name": names[label], "contributors": int(n)} for label, n in rows]
    if PUBLIC_ONLY in head:
        shown["public_only"] = True
    return shown


async def posted_figures(db: Database, gh: Any, repo: str, category: str, week: str) -> dict | None:
    """The figures the week's Discussion shows, read back from it; None if it cannot be read
    (no GitHub access, no URL recorded, edited out of shape)."""
    action = CreateDiscussion(repo, category=category, title="", body="", dedupe_key=week)
    url = await state.created_object(db, state.created_key(action, JOB_NAME)) or ""
    number = url.rpartition("/discussions/")[2]
    if gh is None or not number.isdigit():
        return None
    owner, name = repo.split("/", 1)   # renamed since: the number stays, the name is today's
    try:
        data = await gh.graphql(DISCUSSION_BODY, owner=owner, name=name, number=int(number))
        body = data["repository"]["discussion"]["body"]
    except Exception:
        log.warning("the posted report of %s for %s could not be read back", week, repo, exc_info=True)
        return None
    return shown_figures(body) if isinstance(body, str) else None


async def run_weekly(jctx: JobContext) -> list[Action]:
    now = jctx.now()
    actions: list[Action] = []
    for handle in await jctx.repos():
        section = handle.rules.section("funnel")
        report = section["report"]
        week = due_week(now, report)
        if not handle.rules.enabled("funnel") or not report["enabled"] or week is None:
            continue
        # Done when recorded, and also when the Record after the post ran although the post
        # failed for good (the category is checked below, before that): retrying every
        # quarter hour would not help.
        if await store.report_posted(jctx.db, handle.repo, week):
            continue
        posted = await already_posted(jctx.db, handle.repo, report["category"], week)
        # Asked before anything is posted or stored: a week closed while its category is
        # missing (or renamed) would never go out once a maintainer makes it, and the next
        # report would compare against figures nobody saw. Each run asks again until it exists.
        problem = None if posted else await missing_category(handle.gh, handle.repo, report["category"])
        if problem:
            log.warning("weekly report of %s for %s held: %s", week, handle.repo, problem)
            continue
        # Posted but not recorded (the process stopped between the two): the figures are
        # still stored, or the next report would have nothing to compare against; those the
        # Discussion shows, so the next report's change is against what its readers saw.
        shown = await posted_figures(jctx.db, handle.gh, handle.repo, report["category"], week) if posted else None
        title, body, figs = await build(jctx.db, handle.repo, week, section, handle.gh, now)
        post, record = actions_for(handle.repo, week, report["category"], title, body, shown or figs)
        actions += [record] if posted else [post, record]
    return actions


async def post_weekly(runtime: "Runtime", repo: str, week: str, *, dry_run: bool) -> str:
    """``report weekly``: render, and unless dry-run create the Discussion (once). A week
    still in progress is only printed (marked partial): posted, its figures would be final
    for good, since the week's report is posted once."""
    from ...context import ReadOnlyGitHub
    from ...scheduler import act_as_job

    now = datetime.now(UTC)
    started = now.timestamp()
    week = normal_week(week)
    _, end = week_bounds(week)
    partial = now < end
    if partial and not dry_run:
        raise SystemExit(f"{week} has not ended (it ends {end:%Y-%m-%d %H:%M} UTC): its report can be "
                         "posted from then on; --dry-run prints the figures so far")
    # The report's key is the repository as the job spells it, whatever case an operator types.
    repo = await state.installed_name(runtime.db, repo)
    inst = await state.installation_for(runtime.db, repo)
    gh = None
    if runtime.github is not None and not runtime.github.dry_run and inst is not None:
        gh = ReadOnlyGitHub(await runtime.api(inst))
    rules = (await runtime.rules_for(repo, inst)).rules
    section = rules.section("funnel")
    title, body, figs = await build(runtime.db, repo, week, section, gh, now)
    if dry_run:
        mark = f" (partial: the week ends {end:%Y-%m-%d %H:%M} UTC)" if partial else ""
        return f"# {title}{mark}\n\n{body}"
    category = section["report"]["category"]
    post, record = actions_for(repo, week, category, title, body, figs)
    if not await already_posted(runtime.db, repo, category, week):
        problem = await missing_category(gh, repo, category)
        if problem:  # nothing stored: the job (or this command) posts it once the category exists
            raise SystemExit(f"not posted: {problem}")
    if await already_posted(runtime.db, repo, category, week):
        if await store.report_posted(runtime.db, repo, week):
            return f"The report of {week} for {repo} was already posted."
        # Posted, its figures never stored: store them, as the job does (those it shows).
        post = None
        shown = await posted_figures(runtime.db, gh, repo, category, week)
        record = actions_for(repo, week, category, title, body, shown or figs)[1]
    # Performed as the scheduled job's are (a repository renamed while this ran: what it
    # recorded under the name it read follows the repository), with the job's name as the
    # batch: one idempotence key either way.
    outcome = await act_as_job(runtime, f"cli:funnel-weekly:{repo}:{week}",
                               [(JOB_NAME, [record] if post is None else [post, record])],
                               started=started, installation_id=inst)
    assert outcome is not None
    if post is None and not outcome.failed:
        return f"The report of {week} for {repo} was already posted; its figures are now stored."
    if outcome.failed:
        raise SystemExit(f"posting failed: {outcome.failed[0][1]}")
    if outcome.dry_run:
        return f"dry-run (no credentials): would post {title!r}"
    return f"posted {title!r}"

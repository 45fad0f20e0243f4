"""Weekly report: when it is due, what it says, and that the job asks for one Discussion
per ISO week (the executor's created-object record closes the week)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.context import JobContext, RepoHandle
from bot.core.actions import CreateDiscussion, Record
from bot.core.funnel import Contributor, compute
from bot.features.funnel import FEATURE, store
from bot.features.funnel.report import ReportInputs, RfcItem, _welcome, render
from bot.features.funnel.weekly import (JOB_NAME, due_at, iso_week, months_before, normal_week, previous_week,
                                        run_weekly, week_bounds)
from bot.store import state
from tests.helpers import RecordingReader, bundled_rules, fixed_roles

from .conftest import REPO, issue_payload, pr_payload, run

UTC = timezone.utc
REPORT = bundled_rules().section("funnel")["report"]
# Week 2026-W10 is Monday 2 March to Monday 9 March; its report is due Monday 9 March 09:00.
WEEK = "2026-W10"
MON = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.mark.parametrize("instant, week", [
    (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), "2026-W10"),
    (datetime(2026, 3, 8, 23, 59, tzinfo=UTC), "2026-W10"),
    (datetime(2027, 1, 1, tzinfo=UTC), "2026-W53"),
    (datetime(2026, 3, 2, 0, 30, tzinfo=timezone(timedelta(hours=2))), "2026-W09"),
])
def test_iso_week(instant, week):
    assert iso_week(instant) == week


@pytest.mark.parametrize("report, due", [
    ({"weekday": "mon", "time": "09:00"}, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),
    ({"weekday": "sun", "time": "23:45"}, datetime(2026, 3, 15, 23, 45, tzinfo=UTC)),
])
def test_due_at_is_the_configured_time_of_the_following_week(report, due):
    assert week_bounds(WEEK) == (MON, MON + timedelta(days=7))
    assert due_at(WEEK, report) == due
    assert previous_week(due) == WEEK


def test_week_bounds_rejects_garbage():
    with pytest.raises(ValueError, match="ISO week"):
        week_bounds("2026-10")


@pytest.mark.parametrize("typed, key", [
    ("2026-W03", "2026-W03"), ("2026-W3", "2026-W03"), ("2026-w03", "2026-W03"), (" 2026-W10 ", "2026-W10"),
    ("2026-W53", "2026-W53"),
])
def test_a_week_has_one_key_however_it_is_typed(typed, key):
    # The key names the Discussion and the stored report, and orders them: "2026-W3" once
    # made a second report of 2026-W03 and sorted after 2026-W10.
    assert normal_week(typed) == key
    assert week_bounds(typed) == week_bounds(key)


@pytest.mark.parametrize("typed", ["2026-W00", "2026-W54", "2025-W53", "2026-W+3", "2026-W\u0663", "2026-W003",
                                   "26-W03", "2026W03", ""])
def test_not_a_week(typed):
    with pytest.raises(ValueError, match="ISO week"):
        normal_week(typed)


@pytest.mark.parametrize("instant, months, start", [
    (datetime(2025, 12, 29, tzinfo=UTC), 6, datetime(2025, 6, 29, tzinfo=UTC)),   # week 2025-W52's trailing window
    (datetime(2026, 7, 31, tzinfo=UTC), 6, datetime(2026, 1, 31, tzinfo=UTC)),
    (datetime(2026, 8, 31, tzinfo=UTC), 6, datetime(2026, 2, 28, tzinfo=UTC)),    # February is shorter
    (datetime(2024, 3, 30, 9, tzinfo=UTC), 1, datetime(2024, 2, 29, 9, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
])
def test_months_before_keeps_the_day_when_the_month_has_it(instant, months, start):
    assert months_before(instant, months) == start


async def test_weeks_stored_unpadded_are_padded_by_the_migration(db):
    """Reports stored as typed (``2026-W3``) before weeks were normalised: padded, and where
    the week was posted twice the padded row stays."""
    from importlib import resources

    from bot.store.migrate import split_statements

    rows = [("octo/a", "2026-W3", '{"n": 1}'), ("octo/a", "2026-W03", '{"n": 2}'),
            ("octo/a", "2026-W4", '{"n": 3}'), ("octo/b", "2026-W3", '{"n": 4}'), ("octo/a", "2026-W10", '{}')]
    await db.executemany("INSERT INTO funnel_reports (repo, week, figures, posted_at) VALUES (?, ?, ?, 0)", rows)
    sql = resources.files("bot.features.funnel.migrations").joinpath("0004_report_week_keys.sql").read_text()
    for statement in split_statements(sql):
        await db.execute(statement)
    stored = await db.fetchall("SELECT repo, week, figures FROM funnel_reports ORDER BY repo, week")
    assert [tuple(r.values()) for r in stored] == [
        ("octo/a", "2026-W03", '{"n": 2}'), ("octo/a", "2026-W04", '{"n": 3}'), ("octo/a", "2026-W10", "{}"),
        ("octo/b", "2026-W03", '{"n": 4}')]
    # Ordered as weeks now: the report before 2026-W10 is 2026-W04.
    from bot.features.funnel.store import last_report
    assert (await last_report(db, "octo/a", "2026-W10"))[0] == "2026-W04"


def _funnel(people, since, until):
    return compute(people, since, until)


def test_render_has_every_part():
    t = MON.timestamp()
    people = [Contributor(1, "newbie", (t + 3600, t + 7200, None, None)),
              Contributor(2, "old-hand", (t - 90 * 86400, t - 80 * 86400, t - 70 * 86400, None))]
    week = _funnel(people, MON, MON + timedelta(days=7))
    trailing = _funnel(people, MON - timedelta(days=180), MON + timedelta(days=7))
    previous = ("2026-W09", {"week": [{"name": "first_contact", "contributors": 3}],
                             "trailing": [{"name": "first_contact", "contributors": 0}]})
    title, body = render(ReportInputs(
        scope=REPO, week=WEEK, week_funnel=week, trailing_funnel=trailing, trailing_months=6,
        previous=previous, sla_markdown="## First-response SLA: octo/widgets\n| x |",
        rfcs=[RfcItem(7, "RFC: a @team plan", "https://github.com/octo/widgets/issues/7")]))
    assert title == f"Contributor funnel: {WEEK} ({REPO})"
    assert "| First contact | 1 | 100% | 100% | n/a | -2 |" in body       # against W09's 3
    assert "| First PR | 1 | 100% | 100% | 1.0 h | new |" in body
    assert "| First contact | 2 | 100% | 100% | n/a | +2 |" in body      # trailing window
    assert "Change against the report of 2026-W09." in body
    assert "```mermaid\nflowchart LR" in body and 's0 -- "100%" --> s1' in body
    assert "| 2026-03 | 1 |" in body                                    # cohorts
    assert "## First-response SLA: octo/widgets" in body
    assert "Welcome to [newbie](https://github.com/newbie)!" in body
    assert "old-hand" not in body.split("## New contributors")[1]
    assert "RFC: a @\u200bteam plan" in body                          # no ping from a title


@pytest.mark.parametrize("logins, limit, expected", [
    (["ann", "bob", "cy"], 2, "Welcome to [ann](https://github.com/ann), [bob](https://github.com/bob) and 1 more!"),
    (["ann", "bob"], 0, "Welcome to 2 new contributors!"),
    (["ann"], 0, "Welcome to 1 new contributor!"),
    ([], 5, "No new contributors this week."),
])
def test_welcome_line(logins, limit, expected):
    assert _welcome(logins, limit).startswith(expected)


def test_render_without_sla_rfcs_or_history():
    empty = _funnel([], MON, MON + timedelta(days=7))
    _, body = render(ReportInputs(scope=REPO, week=WEEK, week_funnel=empty, trailing_funnel=empty,
                                  trailing_months=6))
    assert "SLA figures unavailable." in body
    assert "RFC list unavailable." in body
    assert "No new contributors this week." in body
    assert "No earlier report to compare with." in body


class _WithCategory:
    """``reader``, in a repository that has the report's category (the job asks first)."""

    def __init__(self, reader, names=("Reports",)):
        self.reader, self.names = reader, names

    def __getattr__(self, name):
        return getattr(self.reader, name)

    async def graphql(self, query, **variables):
        if "discussionCategories" in query:
            return {"repository": {"discussionCategories": {"nodes": [{"name": n} for n in self.names]}}}
        return await self.reader.graphql(query, **variables)


def _jctx(db, now, reader, rules=None):
    rules = rules or bundled_rules()
    reader = reader if isinstance(reader, _WithCategory) else _WithCategory(reader)

    async def repos():
        return [RepoHandle(repo=REPO, installation_id=1, rules=rules, gh=reader, roles_of=fixed_roles({}))]
    return JobContext(db=db, bot_login="contributor-flow[bot]", repos=repos, clock=lambda: now)


async def test_job_posts_once_when_due(db):
    await run(db, [("issues", issue_payload("opened", 1, "alice", MON + timedelta(hours=3))),
                   ("pull_request", pr_payload("opened", 2, "bob", MON + timedelta(days=2)))])
    search = {"items": [{"number": 9, "title": "RFC: plugins", "html_url": "https://x/9"}]}
    reader = RecordingReader(items={"/search/issues{?q,per_page}": search})
    due = due_at(WEEK, REPORT)
    assert await run_weekly(_jctx(db, due - timedelta(minutes=1), reader)) == []

    actions = await run_weekly(_jctx(db, due, reader))
    post, record = actions
    assert isinstance(post, CreateDiscussion) and isinstance(record, Record)
    assert (post.category, post.dedupe_key) == ("Reports", WEEK)
    assert "[alice](https://github.com/alice), [bob](https://github.com/bob)" in post.body
    assert "[RFC: plugins](https://x/9)" in post.body
    assert reader.calls[0][1]["q"] == f'repo:{REPO} is:open label:"rfc/review"'

    # The executor records the Discussion it made; from then on the week is closed.
    await state.remember_created(db, f"discussion:{REPO}:Reports:{WEEK}", REPO, "discussion", "url")
    await FEATURE.writers[record.op](db, **record.args)
    assert await run_weekly(_jctx(db, due + timedelta(hours=1), reader)) == []

    # The next week's report compares against this one.
    nxt = await run_weekly(_jctx(db, due + timedelta(days=7), reader))
    assert nxt[0].dedupe_key == "2026-W11" and "Change against the report of 2026-W10." in nxt[0].body


async def test_job_respects_switches(db):
    due = due_at(WEEK, REPORT)
    off = bundled_rules({"funnel": {"report": {"enabled": False}}})
    assert await run_weekly(_jctx(db, due, RecordingReader(), off)) == []
    friday = bundled_rules({"funnel": {"report": {"weekday": "fri", "time": "17:30"}}})
    assert await run_weekly(_jctx(db, due, RecordingReader(), friday)) == []
    assert len(await run_weekly(_jctx(db, datetime(2026, 3, 13, 17, 30, tzinfo=UTC),
                                      RecordingReader(), friday))) == 2


async def test_a_week_whose_post_failed_for_good_is_not_retried(db):
    # The Discussion could not be created for good although its category was there: the
    # executor still runs the Record that follows it, and the job leaves the week alone.
    due = due_at(WEEK, REPORT)
    post, record = await run_weekly(_jctx(db, due, RecordingReader()))
    await FEATURE.writers[record.op](db, **record.args)
    assert await run_weekly(_jctx(db, due + timedelta(minutes=15), RecordingReader())) == []


async def test_a_missing_or_renamed_category_holds_the_week_open(db):
    """Nothing is posted or stored while the category is missing (renamed on GitHub, say):
    the report goes out at the first run that finds it."""
    due = due_at(WEEK, REPORT)
    renamed = _WithCategory(RecordingReader(), names=("Weekly reports",))
    assert await run_weekly(_jctx(db, due, renamed)) == []
    assert not await store.report_posted(db, REPO, WEEK)
    post, record = await run_weekly(_jctx(db, due + timedelta(minutes=15), RecordingReader()))
    assert isinstance(post, CreateDiscussion) and post.dedupe_key == WEEK


def test_discussion_documents_are_valid_against_githubs_schema():
    """The documents the weekly report goes out through (category look-up, creation)."""
    import graphql as gql

    from bot.executor.projects import CATEGORIES, CREATE_DISCUSSION
    from bot.features.discussion_categories import CATEGORIES as REPORT_CATEGORIES
    from tests.fakegithub.graphql import schema

    for document in (CATEGORIES, CREATE_DISCUSSION, REPORT_CATEGORIES):
        assert gql.validate(schema(), gql.parse(document)) == []
    broken = CREATE_DISCUSSION.replace("categoryId:", "category:")
    assert gql.validate(schema(), gql.parse(broken))   # the check does catch a wrong argument


async def test_a_report_due_in_the_last_quarter_hour_of_the_week_still_goes_out(db):
    # Due Sunday 15 March 23:50, the last run of that week is at 23:45 and the next one at
    # Monday 00:00, when 2026-W10 already lies two weeks back: it must still be posted then.
    late = bundled_rules({"funnel": {"report": {"weekday": "sun", "time": "23:50"}}})
    due = due_at(WEEK, late.section("funnel")["report"])
    assert due == datetime(2026, 3, 15, 23, 50, tzinfo=UTC)
    assert await run_weekly(_jctx(db, due - timedelta(minutes=5), RecordingReader(), late)) == []
    # A report left unposted for days is not sent a week late.
    assert await run_weekly(_jctx(db, datetime(2026, 3, 20, 12, 0, tzinfo=UTC), RecordingReader(), late)) == []
    post, record = await run_weekly(_jctx(db, datetime(2026, 3, 16, 0, 0, 5, tzinfo=UTC),
                                          RecordingReader(), late))
    assert post.dedupe_key == WEEK and record.args["week"] == WEEK
    await FEATURE.writers[record.op](db, **record.args)
    assert await run_weekly(_jctx(db, datetime(2026, 3, 16, 0, 15, 5, tzinfo=UTC), RecordingReader(), late)) == []


def test_the_week_is_shown_as_its_seven_days():
    # 2026-W10 runs Monday 2 March to Sunday 8 March; 9 March belongs to the next week.
    empty = _funnel([], MON, MON + timedelta(days=7))
    _, body = render(ReportInputs(scope=REPO, week=WEEK, week_funnel=empty, trailing_funnel=empty,
                                  trailing_months=6))
    heading = next(line for line in body.splitlines() if line.startswith("## This week"))
    assert "2026-03-02" in heading and "2026-03-08" in heading
    assert "2026-03-09" not in heading


async def test_the_bot_switched_off_posts_no_report(db):
    due = due_at(WEEK, REPORT)
    off = bundled_rules({"core": {"enabled": False}})
    assert off.section("funnel")["enabled"] and not off.enabled("funnel")
    assert await run_weekly(_jctx(db, due, RecordingReader(), off)) == []


async def test_a_week_posted_but_not_recorded_gets_its_record_only(db):
    # The process stopped between the Discussion and its Record: the next run records the
    # figures (no second post), so the following report has a week to compare against.
    due = due_at(WEEK, REPORT)
    made = CreateDiscussion(REPO, category="Reports", title="", body="", dedupe_key=WEEK)
    await state.remember_created(db, state.created_key(made, JOB_NAME), REPO, "discussion", "url")
    (record,) = await run_weekly(_jctx(db, due + timedelta(minutes=15), RecordingReader()))
    assert isinstance(record, Record) and record.args["week"] == WEEK
    await FEATURE.writers[record.op](db, **record.args)
    assert await run_weekly(_jctx(db, due + timedelta(minutes=30), RecordingReader())) == []
    nxt = await run_weekly(_jctx(db, due + timedelta(days=7), RecordingReader()))
    assert "Change against the report of 2026-W10." in nxt[0].body


async def test_a_week_posted_but_not_recorded_stores_the_figures_its_discussion_shows(db):
    """The next report's change is against the report its readers saw, not against figures
    recomputed later (history imported or delivered late in between changes them)."""
    await run(db, [("issues", issue_payload("opened", 1, "alice", MON + timedelta(hours=3)))])
    due = due_at(WEEK, REPORT)
    post, _ = await run_weekly(_jctx(db, due, RecordingReader()))
    assert "| First contact | 1 |" in post.body
    # Posted (the executor adds its own marker) and recorded as made, then the process stopped.
    url = f"https://github.com/{REPO}/discussions/7"
    await state.remember_created(db, state.created_key(post, JOB_NAME), REPO, "discussion", url)
    # bob's issue of that week arrives late: recomputed, the week would have two newcomers.
    await run(db, [("issues", issue_payload("opened", 2, "bob", MON + timedelta(days=1)))])

    def discussion(query, owner, name, number):
        assert (f"{owner}/{name}", number) == (REPO, 7)
        return {"repository": {"discussion": {"body": f"{post.body}\n\n<!-- contributor-flow:key -->"}}}

    reader = RecordingReader(graphql=discussion)
    (record,) = await run_weekly(_jctx(db, due + timedelta(minutes=15), reader))
    stored = record.args["figures"]
    assert [(s["name"], s["contributors"]) for s in stored["week"]] == [
        ("first_contact", 1), ("first_pr", 0), ("first_merge", 0), ("approver", 0)]
    assert stored["trailing"][0]["contributors"] == 1
    await FEATURE.writers[record.op](db, **record.args)
    nxt = await run_weekly(_jctx(db, due + timedelta(days=7), RecordingReader()))
    # W11 has no newcomer (-1 against the one shown, not -2); its trailing six months hold
    # alice and bob, one more than shown.
    assert "| First contact | 0 | n/a | n/a | n/a | -1 |" in nxt[0].body
    assert "| First contact | 2 | 100% | 100% | n/a | +1 |" in nxt[0].body


@pytest.mark.parametrize("answer", [
    RuntimeError("GitHub unreachable"),
    {"repository": {"discussion": None}},                                        # deleted
    {"repository": {"discussion": {"body": "Edited away by a maintainer."}}},
])
async def test_a_posted_report_that_cannot_be_read_back_stores_figures_recomputed(db, answer):
    await run(db, [("issues", issue_payload("opened", 1, "alice", MON + timedelta(hours=3)))])
    due = due_at(WEEK, REPORT)
    post, _ = await run_weekly(_jctx(db, due, RecordingReader()))
    await state.remember_created(db, state.created_key(post, JOB_NAME), REPO, "discussion",
                                 f"https://github.com/{REPO}/discussions/7")
    await run(db, [("issues", issue_payload("opened", 2, "bob", MON + timedelta(days=1)))])

    def discussion(query, **variables):
        if isinstance(answer, Exception):
            raise answer
        return answer

    (record,) = await run_weekly(_jctx(db, due + timedelta(minutes=15), RecordingReader(graphql=discussion)))
    assert record.args["figures"]["week"][0]["contributors"] == 2
    assert set(record.args["figures"]["week"][0]) > {"name", "contributors", "rate_from_first"}


def test_shown_figures_read_both_stage_tables_as_render_writes_them():
    from bot.features.funnel.weekly import shown_figures

    week = compute([Contributor(1, "a", (10, 20, None, None)), Contributor(2, "b", (30, None, None, None))],
                   datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(100, UTC))
    trailing = compute([Contributor(3, "c", (5, None, None, None))],
                       datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(100, UTC))
    previous = ("2026-W09", {"week": [{"name": "first_contact", "contributors": 7}], "trailing": []})
    _, body = render(ReportInputs(scope=REPO, week=WEEK, week_funnel=week, trailing_funnel=trailing,
                                  trailing_months=6, previous=previous))
    shown = shown_figures(body)
    assert [s["contributors"] for s in shown["week"]] == [2, 1, 0, 0]
    assert [s["contributors"] for s in shown["trailing"]] == [1, 0, 0, 0]
    assert shown_figures(body.replace("| First PR |", "| First pull |")) is None
    from bot.features.funnel.report import MARKER
    assert shown_figures(body.replace(MARKER, "")) is None


# --- org mode: a report anyone can read counts only public repositories -------------------------

ORG = bundled_rules({"funnel": {"org_mode": True}})
SIBLINGS = {REPO: False, "octo/secret": True, "octo/unsaid": None, "octo/gears": False}


async def _org_history(db, posting: bool | None = False) -> None:
    """One newcomer in W10 in each sibling (and in an uninstalled one); ``posting``: what the
    report's own repository is recorded as (None: never said)."""
    from bot.features.funnel import store
    from bot.features.funnel.extract import COMMENT, object_key

    for repo, private in {**SIBLINGS, REPO: posting}.items():
        await state.remember_installation(db, repo, 1, private=private)
    newcomers = {REPO: "alice", "octo/secret": "sneaky", "octo/unsaid": "quiet", "octo/gears": "gina",
                 "octo/gone": "uninstalled"}
    for repo_id, (repo, login) in enumerate(newcomers.items(), 1):
        act = [object_key(repo_id, COMMENT), COMMENT, 100 + repo_id, login, False,
               int((MON + timedelta(days=1)).timestamp())]
        await store.record_acts(db, repo_id=repo_id, repo=repo, acts=[act])


def _contacts(figures: dict) -> tuple[int, int]:
    return figures["week"][0]["contributors"], figures["trailing"][0]["contributors"]


@pytest.mark.parametrize("posting", [False, None])
async def test_an_org_report_in_a_public_repository_counts_only_public_repositories(db, posting):
    """Posted where anyone reads it (or where the bot does not know: the safe side), the report
    counts the repository itself and its siblings known to be public; not a private one, one
    never said to be public, or one not installed. The stored figures are those posted."""
    await _org_history(db, posting)
    post, record = await run_weekly(_jctx(db, due_at(WEEK, REPORT), RecordingReader(), ORG))
    assert "| First contact | 2 | 100% | 100% | n/a |" in post.body          # alice and gina
    assert "[alice](https://github.com/alice), [gina](https://github.com/gina)" in post.body
    for hidden in ("sneaky", "quiet", "uninstalled", "secret", "unsaid"):
        assert hidden not in post.body
    assert "Scope: `octo` (its public repositories only" in post.body
    assert _contacts(record.args["figures"]) == (2, 2) and record.args["figures"]["public_only"] is True


async def test_an_org_report_in_a_private_repository_counts_every_repository(db):
    await _org_history(db, posting=True)
    post, record = await run_weekly(_jctx(db, due_at(WEEK, REPORT), RecordingReader(), ORG))
    assert "| First contact | 5 | 100% | 100% | n/a |" in post.body
    assert "sneaky" in post.body and "public repositories only" not in post.body
    assert _contacts(record.args["figures"]) == (5, 5) and "public_only" not in record.args["figures"]


async def test_a_report_compares_only_against_one_that_counted_the_same_repositories(db):
    """The week before was posted while the repository was private (every repository counted):
    its change would tell the private ones' figures on a public page. The week after compares."""
    await _org_history(db, posting=True)
    due = due_at(WEEK, REPORT)
    post, record = await run_weekly(_jctx(db, due - timedelta(days=7), RecordingReader(), ORG))
    await FEATURE.writers[record.op](db, **record.args)                       # W09, all counted
    await state.remember_installation(db, REPO, 1, private=False)            # made public
    post, record = await run_weekly(_jctx(db, due, RecordingReader(), ORG))
    assert "No change shown: the report of 2026-W09 counted other repositories." in post.body
    assert "| Change |" not in post.body and "| First contact | 2 | 100% | 100% | n/a |\n" in post.body
    await FEATURE.writers[record.op](db, **record.args)
    nxt, _ = await run_weekly(_jctx(db, due + timedelta(days=7), RecordingReader(), ORG))
    assert "Change against the report of 2026-W10." in nxt.body
    assert "| First contact | 2 | 100% | 100% | n/a | +0 |" in nxt.body      # trailing, like with like


async def test_a_public_report_posted_but_not_recorded_stores_what_it_shows(db):
    """Read back from the Discussion, the figures still say they counted public repositories
    only, so the next report compares against them."""
    await _org_history(db)
    due = due_at(WEEK, REPORT)
    post, _ = await run_weekly(_jctx(db, due, RecordingReader(), ORG))
    await state.remember_created(db, state.created_key(post, JOB_NAME), REPO, "discussion",
                                 f"https://github.com/{REPO}/discussions/7")
    reader = RecordingReader(graphql=lambda query, **v: {"repository": {"discussion": {"body": post.body}}})
    (record,) = await run_weekly(_jctx(db, due + timedelta(minutes=15), reader, ORG))
    assert record.args["figures"] == {"week": [{"name": "first_contact", "contributors": 2},
                                               {"name": "first_pr", "contributors": 0},
                                               {"name": "first_merge", "contributors": 0},
                                               {"name": "approver", "contributors": 0}],
                                      "trailing": record.args["figures"]["trailing"], "public_only": True}
    await FEATURE.writers[record.op](db, **record.args)
    nxt, _ = await run_weekly(_jctx(db, due + timedelta(days=7), RecordingReader(), ORG))
    assert "Change against the report of 2026-W10." in nxt.body

"""Stage rules on small hand-made histories, recorded from real example payloads through
the feature's handlers and writers, then read back as a funnel (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.features.funnel import FEATURE, store
from bot.features.funnel.query import funnel_for
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, bundled_rules

from .conftest import (REPO, REPO_ID, USERS, _base, comment_payload, iso, issue_payload, member_payload,
                       pr_payload, review_payload, run)

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
SECTION = bundled_rules().section("funnel")


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


async def counts(db, since=MARCH[0], until=MARCH[1], section=SECTION):
    f = await funnel_for(db, REPO, since, until, section)
    return [s.contributors for s in f.stages], f


async def test_comment_pr_merge_and_reviews(db):
    await run(db, [
        ("issues", issue_payload("opened", 1, "alice", h(0))),
        ("issue_comment", comment_payload(1, "alice", h(0), "bob", h(1), 5001)),
        ("pull_request", pr_payload("opened", 2, "bob", h(5))),
        ("pull_request_review", review_payload(2, "bob", h(5), "carol", h(6), 6001)),
        # Merged by a maintainer: the author reaches first_merge.
        ("pull_request", pr_payload("closed", 2, "bob", h(5), merged_at=h(29), sender="maint")),
    ])
    stages, f = await counts(db)
    assert stages == [3, 1, 1, 0]
    assert f.newcomers == ("alice", "bob", "carol")
    assert f.stage("first_pr").median_hours_from_previous == 4.0
    assert f.stage("first_merge").median_hours_from_previous == 24.0


async def test_pr_without_a_prior_comment_enters_stage_one_and_two_at_once(db):
    await run(db, [("pull_request", pr_payload("opened", 3, "carol", h(2)))])
    stages, f = await counts(db)
    assert stages == [1, 1, 0, 0]
    assert f.stage("first_pr").median_hours_from_previous == 0.0


async def test_self_replies_and_repeats_do_not_move_first_contact(db):
    await run(db, [
        ("issues", issue_payload("opened", 4, "alice", h(0))),
        ("issue_comment", comment_payload(4, "alice", h(0), "alice", h(3), 5002)),
        ("issue_comment", comment_payload(4, "alice", h(0), "alice", h(4), 5003)),
        ("pull_request", pr_payload("opened", 5, "alice", h(10))),
    ])
    stages, f = await counts(db)
    assert stages == [1, 1, 0, 0]
    assert f.stage("first_pr").median_hours_from_previous == 10.0  # from the issue, not a reply


async def test_reopen_is_not_a_new_pr_and_a_missed_open_is_recovered(db):
    # Only the close and the reopen were seen: the PR's opening comes from created_at.
    await run(db, [
        ("pull_request", pr_payload("closed", 6, "bob", h(1), sender="maint")),
        ("pull_request", pr_payload("reopened", 6, "bob", h(1), sender="bob")),
        ("pull_request", pr_payload("closed", 6, "bob", h(1), merged_at=h(49), sender="maint")),
    ])
    stages, f = await counts(db)
    assert stages == [1, 1, 1, 0]
    rows = await db.fetchall("SELECT kind, at FROM funnel_acts WHERE user_id = ? ORDER BY kind", (12,))
    assert [(r["kind"], r["at"]) for r in rows] == [(5, int(h(1).timestamp())), (6, int(h(49).timestamp()))]


async def test_bots_ghost_and_rules_lists(db):
    await run(db, [
        ("pull_request", pr_payload("opened", 7, "dependabot[bot]", h(0))),
        ("issues", issue_payload("opened", 8, "ghost", h(1))),
        ("issue_comment", comment_payload(8, "ghost", h(1), "carol", h(2), 5004)),
        ("issues", issue_payload("opened", 9, "maint", h(3))),
    ])
    stages, f = await counts(db)
    assert f.newcomers == ("carol", "maint")           # the bot and the deleted user never count
    assert await db.fetchval("SELECT COUNT(*) FROM funnel_users WHERE user_id = 10137") == 0
    section = bundled_rules({"funnel": {"bots": {"deny": ["maint"], "allow": ["dependabot[bot]"]}}}
                            ).section("funnel")
    stages, f = await counts(db, section=section)
    assert f.newcomers == ("dependabot[bot]", "carol")
    assert stages == [2, 1, 0, 0]


async def test_new_means_nothing_earlier_in_history(db):
    await run(db, [
        ("issues", issue_payload("opened", 10, "alice", datetime(2026, 2, 27, tzinfo=UTC))),
        ("pull_request", pr_payload("opened", 11, "alice", h(1))),
        ("pull_request", pr_payload("opened", 12, "bob", h(2))),
    ])
    stages, f = await counts(db)
    assert f.newcomers == ("bob",)
    assert stages == [1, 1, 0, 0]


async def test_cohort_boundaries_are_utc(db):
    # 23:30 UTC on 31 March is already April in Paris; it belongs to March.
    late_march = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    first_april = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    await run(db, [
        ("issues", issue_payload("opened", 13, "alice", late_march)),
        ("issues", issue_payload("opened", 14, "bob", first_april)),
    ])
    f = await funnel_for(db, REPO, MARCH[0], datetime(2026, 5, 1, tzinfo=UTC), SECTION)
    assert {c.month: c.stages[0].contributors for c in f.cohorts} == {"2026-03": 1, "2026-04": 1}


async def test_replayed_events_change_nothing(db):
    events = [("issues", issue_payload("opened", 15, "alice", h(0))),
              ("pull_request", pr_payload("closed", 16, "alice", h(1), merged_at=h(2)))]
    await run(db, events)
    before = await db.fetchall("SELECT * FROM funnel_milestones ORDER BY user_id")
    await run(db, events)
    assert await db.fetchall("SELECT * FROM funnel_milestones ORDER BY user_id") == before
    assert await db.fetchval("SELECT COUNT(*) FROM funnel_acts") == 3


async def test_member_event_grants_approver_with_write_only(db):
    await run(db, [("issues", issue_payload("opened", 17, "alice", h(0))),
                   ("member", member_payload("alice", "write")),
                   ("member", member_payload("bob", "read"))], now=h(30))
    stages, f = await counts(db)
    assert stages == [1, 1, 1, 1]
    # Gaining rights counts the PR and merge stages as reached at that instant.
    assert [s.median_hours_from_previous for s in f.stages] == [None, 30.0, 0.0, 0.0]
    assert f.newcomers == ("alice",)


async def test_membership_in_a_configured_team_counts_as_approver(db):
    payload = load_example("membership", "added")
    payload["member"] = USERS["bob"]
    org, slug = payload["organization"]["login"], payload["team"]["slug"]
    await run(db, [("pull_request", pr_payload("opened", 18, "bob", h(0))),
                   ("membership", payload)], now=h(100))
    stages, _ = await counts(db)
    assert stages == [1, 1, 0, 0]                       # the team is not an approver team here
    section = bundled_rules({"funnel": {"approver_teams": [f"{org}/{slug}"]}}).section("funnel")
    stages, _ = await counts(db, section=section)
    assert stages == [1, 1, 1, 1]


async def test_push_changing_owners_reads_the_file_and_grants(db):
    owners = "approvers:\n  - carol\n  - nobody-here\nreviewers:\n  - bob\n"
    codeowners = "*.py @alice @octo/core\n"

    def contents(v):
        return {"OWNERS": owners, ".github/CODEOWNERS": codeowners}[v["path"]]

    reader = RecordingReader(
        items={"/repos/{owner}/{repo}/contents/{+path}{?ref}": contents,
               "/users/{username}": lambda v: {"carol": USERS["carol"]}.get(v["username"]) or _missing()},
        lists={"/orgs/{org}/teams/{team_slug}/members{?per_page}": [USERS["maint"]]})
    push = _base("push", None)
    push.update(ref="refs/heads/main", after="abc123", deleted=False,
                commits=[{"added": [], "modified": ["OWNERS", "src/x.py"], "removed": []},
                         {"added": [".github/CODEOWNERS"], "modified": [], "removed": []}],
                head_commit={"timestamp": "2026-03-04T10:00:00+01:00"})
    await run(db, [("issues", issue_payload("opened", 19, "alice", h(0))), ("push", push)],
              reader=reader)
    grants = await db.fetchall("SELECT user_id, source, at FROM funnel_grants ORDER BY user_id")
    at = int(datetime(2026, 3, 4, 9, tzinfo=UTC).timestamp())
    assert [(g["user_id"], g["source"], g["at"]) for g in grants] == [
        (11, "codeowners", at), (13, "owners", at), (14, "codeowners", at)]
    # alice was known already: no user look-up for her; the file was read at the pushed sha.
    assert ("/users/{username}", {"username": "alice"}) not in reader.calls
    assert all(v.get("ref") == "abc123" for u, v in reader.calls if "contents" in u)
    stages, f = await counts(db)
    assert stages == [3, 3, 3, 3]


def _missing():
    from bot.github import PermanentGitHubError

    raise PermanentGitHubError("404", status=404)


async def test_push_elsewhere_reads_nothing(db):
    reader = RecordingReader()
    push = _base("push", None)
    push.update(ref="refs/heads/feature", after="abc", commits=[{"modified": ["OWNERS"]}])
    assert await run(db, [("push", push)], reader=reader) == []
    push.update(ref="refs/heads/main", commits=[{"modified": ["README.md"]}])
    assert await run(db, [("push", push)], reader=reader) == []
    assert reader.calls == []


async def test_org_mode_takes_the_earliest_over_repositories(db):
    await run(db, [("issues", issue_payload("opened", 20, "alice", h(5)))])
    other = issue_payload("opened", 1, "alice", h(1))
    other["repository"].update(id=REPO_ID + 1, full_name="octo/other", name="other")
    await run(db, [("issues", other)])
    org = await funnel_for(db, "octo", *MARCH, SECTION)
    assert org.stage("first_contact").contributors == 1
    people = await store.contributors(db, "octo")
    assert people[0].raw[0] == h(1).timestamp()


async def test_window_filter_keeps_people_a_team_grant_moves_into_the_window(db):
    # bob's only act is after the window; joining an approver team inside it makes him
    # reach every stage then. carol's team grant is her only record.
    await run(db, [("issues", issue_payload("opened", 21, "bob", datetime(2026, 5, 10, tzinfo=UTC))),
                   ("issues", issue_payload("opened", 22, "alice", h(0)))])
    in_march = int(h(24).timestamp())
    await store.record_team_grants(db, org="octo", team="core", members=[[12, "bob", in_march],
                                                                         [13, "carol", in_march]])
    section = bundled_rules({"funnel": {"approver_teams": ["octo/core"]}}).section("funnel")
    stages, f = await counts(db, section=section)
    assert f.newcomers == ("alice", "bob", "carol")
    assert stages == [3, 2, 2, 2]
    stages, f = await counts(db)                     # without the team: bob is not new in March
    assert f.newcomers == ("alice",)


async def test_a_replayed_old_delivery_does_not_rename_the_repository_back(db):
    """The name a delivery carries is the repository's name when it was received: a
    delivery of 2015 replayed now must not undo the name a 2016 event gave."""
    from dataclasses import replace

    from bot.features.funnel.handlers import on_conversation
    from tests.helpers import make_context

    def delivered(name: str, received: datetime, number: int):
        payload = issue_payload("opened", number, "alice", received)
        payload["repository"]["full_name"] = name
        event, ctx = make_context("issues", payload, db=db)
        return replace(event, received_at=received), ctx

    for name, received, number in (("octo/renamed", datetime(2016, 6, 1, tzinfo=UTC), 31),
                                   ("octo/widgets", datetime(2015, 1, 1, tzinfo=UTC), 30)):
        event, ctx = delivered(name, received, number)
        [record] = await on_conversation(event, ctx)
        await store.record_acts(db, **record.args)
    assert await store.repo_ids(db, "octo/renamed") == [REPO_ID]
    assert await store.repo_ids(db, REPO) == []


async def test_a_merge_is_recovered_from_review_events_too(db):
    """Review and review-comment payloads carry the PR without ``merged`` but with
    ``merged_at`` (so do a tenth of GH Archive's review-comment events): a post-merge
    review recovers a missed merge, as a comment on the PR already does."""
    review = review_payload(40, "bob", h(1), "carol", h(30), 6040)
    review["pull_request"]["merged_at"] = iso(h(20))
    assert "merged" not in review["pull_request"]
    comment = _base("pull_request_review_comment", "created")
    comment["pull_request"].update(number=41, id=700041, user=USERS["alice"], created_at=iso(h(2)),
                                   merged_at=iso(h(26)))
    comment["pull_request"].pop("merged", None)
    comment["comment"].update(id=7041, user=USERS["carol"], created_at=iso(h(31)))
    await run(db, [("pull_request_review", review), ("pull_request_review_comment", comment)])
    stages, f = await counts(db)
    assert stages == [3, 2, 2, 0]
    assert f.stage("first_merge").median_hours_from_previous == 21.5  # bob 19 h, alice 24 h
    rows = await db.fetchall("SELECT user_id, at FROM funnel_acts WHERE kind = 6 ORDER BY user_id")
    assert [(r["user_id"], r["at"]) for r in rows] == [(11, int(h(26).timestamp())),
                                                       (12, int(h(20).timestamp()))]


async def test_a_closed_unmerged_pr_is_no_merge(db):
    await run(db, [("pull_request", pr_payload("closed", 42, "bob", h(1), sender="maint"))])
    review = review_payload(42, "bob", h(1), "carol", h(3), 6042)
    review["pull_request"]["merged_at"] = None
    await run(db, [("pull_request_review", review)])
    stages, _ = await counts(db)
    assert stages == [2, 1, 0, 0]


async def test_rights_granted_count_from_when_the_delivery_came_not_when_it_was_processed(db):
    """member and membership payloads carry no time: the delivery's arrival is the nearest
    to the grant. A delivery processed days later (a backlog, retries, a dead delivery
    re-run) must not move the approver stage to then."""
    from dataclasses import replace

    from bot.features.funnel.handlers import on_member, on_membership
    from tests.helpers import make_context

    team = load_example("membership", "added")
    team["member"] = USERS["bob"]
    received, processed = h(30), h(30) + timedelta(days=5)
    for name, payload, handler in (("member", member_payload("alice", "write"), on_member),
                                   ("membership", team, on_membership)):
        event, ctx = make_context(name, payload, db=db, now=processed)
        event = replace(event, received_at=received)
        ctx = replace(ctx, event=event)
        [record] = await handler(event, ctx)
        await FEATURE.writers[record.op](db, **record.args)
    grants = await db.fetchall("SELECT user_id, at FROM funnel_grants")
    assert [(g["user_id"], g["at"]) for g in grants] == [(11, int(received.timestamp()))]
    teams = await db.fetchall("SELECT user_id, at FROM funnel_team_grants")
    assert [(g["user_id"], g["at"]) for g in teams] == [(12, int(received.timestamp()))]


async def test_a_renamed_repository_keeps_its_figures_before_its_next_funnel_event(db):
    """A rename (or transfer) is known at once from the bot's id -> name mapping; the funnel's
    own name follows only the next conversation event. A quiet repository renamed on Sunday
    must not get a weekly report (or a dashboard page) of zeros on Monday, and its old name,
    which another repository may take, no longer counts its history."""
    from bot.runtime import load_features
    from bot.store import renames, repo_names
    from tests.store.test_repo_renames import event

    await run(db, [("issues", issue_payload("opened", 1, "alice", h(0))),
                   ("pull_request", pr_payload("opened", 2, "bob", h(5)))])
    decl = renames.Declarations.of([repo_names.CORE, *(f.repo_names for f in load_features() if f.repo_names)])
    await repo_names.resolve(db, decl, event(REPO, repo_id=REPO_ID), received_at=100.0)
    await repo_names.resolve(db, decl, event("Octo/Gadgets", repo_id=REPO_ID, updated_at="2026-03-02T10:00:00Z"),
                             received_at=200.0)
    f = await funnel_for(db, "octo/gadgets", *MARCH, SECTION)
    assert [s.contributors for s in f.stages] == [2, 1, 0, 0]
    assert f.newcomers == ("alice", "bob")
    org = await funnel_for(db, "octo", *MARCH, SECTION)
    assert org.stages[0].contributors == 2
    assert (await funnel_for(db, REPO, *MARCH, SECTION)).stages[0].contributors == 0


async def test_a_renamed_contributor_is_named_as_last_seen_not_as_at_their_last_act(db):
    """alice renames herself to alice2 after her last act; a delivery about her issue then
    carries the new login, dated by the issue's opening. The report must welcome (and link)
    the name she has now: the old one may belong to someone else by then."""
    renamed = {**USERS["alice"], "login": "alice2"}
    await run(db, [("issues", issue_payload("opened", 1, "alice", h(0))),
                   ("issue_comment", comment_payload(1, "alice", h(0), "alice", h(1), 5101))], now=h(1))
    later = comment_payload(1, "bob", h(0), "bob", h(48), 5102)
    later["issue"]["user"] = renamed
    await run(db, [("issue_comment", later)], now=h(48))
    _, f = await counts(db)
    assert f.newcomers == ("alice2", "bob")

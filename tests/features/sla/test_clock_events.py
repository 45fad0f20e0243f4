"""Webhooks in, clocks out: start, pause, resume, stop, on both databases."""
from __future__ import annotations

import pytest

from bot.core import sla
from bot.core.actions import AddLabels, Note, Record, RemoveLabel, UpsertComment
from bot.features.sla import store
from bot.store.state import record_bot_label
from tests.helpers import bundled_rules

from .conftest import REPO, T0, comment_event, deliver, hours, issue_event, review_event, sweep


async def clock_of(db, number: int = 7, policy: str = "bugs"):
    found = [c for c in await store.clocks(db, REPO, number=number) if c.policy == policy]
    return found[0] if found else None


async def test_bug_opened_starts_clock_at_creation(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0.1))
    c = await clock_of(db)
    assert c.clock.started == T0 and c.clock.target == 72 * 3600 and c.clock.warn == 48 * 3600
    assert sla.state(c.clock, hours(50)) == sla.WARNING


async def test_issue_outside_every_policy_has_no_clock_but_is_tracked(db):
    await deliver(db, issue_event("opened", labels=["question"]), now=hours(0))
    assert await store.clocks(db, REPO) == []
    assert (await store.item(db, REPO, 7))["author_id"] == 501


@pytest.mark.parametrize("user, at_h, counts", [
    ("maint", 5, True),
    ("triage", 5, True),
    ("reporter", 5, False),          # the author
    ("renamed", 5, False),           # the author under a new login: compared by id
    ("visitor", 5, False),           # no responder role
    ("ci[bot]", 5, False),           # a bot, whatever its role
    ("contributor-flow[bot]", 5, False),
    ("maint", 20 / 3600, False),     # within 30 s of opening: automation
])
async def test_who_answers(db, user, at_h, counts):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user=user, at=hours(at_h)), now=hours(at_h))
    c = await clock_of(db)
    assert (c.clock.answered == hours(at_h)) if counts else c.clock.answered is None
    tracked = await store.item(db, REPO, 7)
    assert (tracked["first_responder"] == USERS_LOGIN.get(user, user)) if counts else tracked["first_response_at"] is None


USERS_LOGIN = {"renamed": "renamed-reporter"}


async def test_first_response_is_kept_and_late_one_is_met(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="maint", at=hours(80)), now=hours(80))
    await deliver(db, comment_event(user="triage", at=hours(90)), now=hours(90))
    c = await clock_of(db)
    assert c.clock.answered == hours(80)
    assert sla.state(c.clock, hours(100)) == sla.MISSED


@pytest.mark.parametrize("body", [
    "/sla status", "/explain", "/help", "/label priority/high", "/assign", "/kind bug",
    "/triage needs-info", "/label bug\n\n/assign @maint\r\n", "/label bug <!-- a note -->",
])
async def test_a_comment_of_commands_only_is_not_an_answer(db, body):
    # Talking to the bot is not answering the reporter: the clock keeps running.
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="triage", at=hours(3), body=body), now=hours(3))
    assert (await clock_of(db)).clock.answered is None
    assert (await store.item(db, REPO, 7))["first_response_at"] is None


@pytest.mark.parametrize("body, rules, counts", [
    ("/close", None, True),                       # a responder closing is their answer
    ("/label duplicate\n/close duplicate", None, True),
    ("/close", {"sla": {"answer_commands": []}}, False),
    ("/label priority/high", {"sla": {"answer_commands": ["close", "label"]}}, True),
])
async def test_answer_commands_count_even_alone(db, body, rules, counts):
    rules = bundled_rules(rules) if rules else None
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0), rules=rules)
    await deliver(db, comment_event(user="triage", at=hours(3), body=body), now=hours(3), rules=rules)
    assert (await clock_of(db)).clock.answered == (hours(3) if counts else None)


@pytest.mark.parametrize("body", [
    "/label bug\nThanks for the report, I can reproduce it.",
    "Which version is this?\n/label needs-info",
    "```\n/close\n```",          # a code block is shown to the reporter, not run
    "> /close\nNo, this one stays open.",
])
async def test_commands_with_words_for_the_reporter_answer(db, body):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="triage", at=hours(3), body=body), now=hours(3))
    assert (await clock_of(db)).clock.answered == hours(3)


@pytest.mark.parametrize("state, body, counts", [
    ("approved", "/lgtm", True),              # the verdict answers whatever the text
    ("changes_requested", "/hold", True),
    ("commented", "/label area/ui", False),
    ("commented", "Looks reasonable", True),
])
async def test_a_review_of_commands_only_answers_only_with_a_verdict(db, state, body, counts):
    rules = bundled_rules({"sla": {"policies": [{"name": "prs", "item_types": ["pull_request"]}]}})
    await deliver(db, issue_event("opened", pr=True), now=hours(0), rules=rules)
    name, payload = review_event(user="maint", at=hours(4))
    payload["review"].update(state=state, body=body)
    await deliver(db, (name, payload), now=hours(4), rules=rules)
    c = await clock_of(db, policy="prs")
    assert c.clock.answered == (hours(4) if counts else None)


async def test_review_answers_a_pull_request(db):
    rules = bundled_rules({"sla": {"policies": [{"name": "prs", "item_types": ["pull_request"]}]}})
    await deliver(db, issue_event("opened", pr=True), now=hours(0), rules=rules)
    await deliver(db, review_event(user="maint", at=hours(4)), now=hours(4), rules=rules)
    c = await clock_of(db, policy="prs")
    assert c.is_pr and c.clock.answered == hours(4)


async def test_needs_info_pauses_until_the_author_answers(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(2))
    c = await clock_of(db)
    assert sla.state(c.clock, hours(100)) == sla.PAUSED
    await deliver(db, comment_event(user="reporter", at=hours(10), body="Here are the logs"), now=hours(10))
    c = await clock_of(db)
    assert sla.paused_seconds(c.clock, hours(20)) == 8 * 3600
    assert sla.due_at(c.clock, hours(20)) == hours(80)
    assert c.clock.answered is None  # the author's comment is not a response


async def test_removing_the_pause_label_resumes(db):
    await deliver(db, issue_event("opened", labels=["bug", "needs-info"]), now=hours(0))
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(24),
                                  sender="triage"), now=hours(24))
    c = await clock_of(db)
    assert sla.counted(c.clock, hours(30)) == 6 * 3600


async def test_reopened_item_keeps_its_start_and_closed_time_does_not_count(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("closed", labels=["bug"], at=hours(1)), now=hours(1))  # by the author
    await deliver(db, issue_event("reopened", labels=["bug"], at=hours(25)), now=hours(25))
    c = await clock_of(db)
    assert c.clock.started == T0 and c.clock.answered is None
    assert sla.counted(c.clock, hours(30)) == 6 * 3600


async def test_close_by_maintainer_is_a_response(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("closed", labels=["bug"], at=hours(3), sender="maint"), now=hours(3))
    assert (await clock_of(db)).clock.answered == hours(3)


async def test_entering_the_policy_later_starts_then(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug"], label="bug", at=hours(5), sender="triage"),
                  now=hours(5))
    assert (await clock_of(db)).clock.started == hours(5)


async def test_already_answered_item_entering_a_policy_gets_no_clock(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await deliver(db, comment_event(user="maint", at=hours(1), labels=()), now=hours(1))
    actions = await deliver(db, issue_event("labeled", labels=["bug"], label="bug", at=hours(5),
                                            sender="maint"), now=hours(5))
    assert await clock_of(db) is None
    assert any(isinstance(a, Note) and "already answered" in a.text for a in actions)


async def test_leaving_the_policy_pauses_its_clock_and_coming_back_resumes(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("unlabeled", labels=[], label="bug", at=hours(10), sender="triage"),
                  now=hours(10))
    assert sla.state((await clock_of(db)).clock, hours(200)) == sla.PAUSED
    await deliver(db, issue_event("labeled", labels=["bug"], label="bug", at=hours(20), sender="triage"),
                  now=hours(20))
    c = await clock_of(db)
    assert c.clock.started == T0 and sla.counted(c.clock, hours(30)) == 20 * 3600


async def test_label_change_counts_only_when_the_rules_say_so(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    event = issue_event("labeled", labels=["bug", "area/ui"], label="area/ui", at=hours(2), sender="triage")
    await deliver(db, event, now=hours(2))
    assert (await clock_of(db)).clock.answered is None
    await deliver(db, event, now=hours(2), rules=bundled_rules({"sla": {"label_change_counts": True}}))
    assert (await clock_of(db)).clock.answered == hours(2)


async def test_breach_label_removed_on_answer_only_when_configured(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await record_bot_label(db, REPO, 7, "sla/breached", "sla")
    keep = await deliver(db, comment_event(user="maint", at=hours(80)), now=hours(80))
    assert not any(isinstance(a, RemoveLabel) for a in keep)
    await deliver(db, issue_event("opened", number=8, labels=["bug"]), now=hours(0))
    await record_bot_label(db, REPO, 8, "sla/breached", "sla")
    rules = bundled_rules({"sla": {"remove_breach_label_on_response": True}})
    removed = await deliver(db, comment_event(number=8, user="maint", at=hours(80)), now=hours(80), rules=rules)
    assert RemoveLabel(REPO, number=8, label="sla/breached") in removed


async def test_redelivery_is_idempotent(db):
    event = issue_event("opened", labels=["bug", "needs-info"])
    await deliver(db, event, now=hours(0))
    await deliver(db, event, now=hours(0))
    assert len(await store.clocks(db, REPO)) == 1
    rows = await db.fetchall("SELECT * FROM sla_pauses WHERE repo = ?", (REPO,))
    assert len(rows) == 1
    records = [a for a in await deliver(db, comment_event(user="maint", at=hours(3)), now=hours(3))
               if isinstance(a, Record)]
    for r in records:  # a retried delivery runs its writers again
        from bot.features.sla import FEATURE
        await FEATURE.writers[r.op](db, **r.args)
    assert (await clock_of(db)).clock.answered == hours(3)


@pytest.mark.parametrize("action", ["deleted", "transferred"])
async def test_deleted_or_transferred_issue_is_no_longer_owed(db, action):
    from tests.fixtures.webhooks import load_example

    from .conftest import USERS
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    payload = load_example("issues", action)
    payload["issue"].update(number=7, user=dict(USERS["reporter"]))
    payload["sender"] = dict(USERS["maint"])
    payload["repository"]["full_name"] = REPO  # the repository it left
    await deliver(db, ("issues", payload), now=hours(5))
    [c] = await store.clocks(db, REPO)
    assert c.closed and sla.state(c.clock, hours(200)) == sla.PAUSED
    assert c.clock.answered is None  # not a response


# An undo delivered before what it undoes (deliveries arrive out of order; a failed one is
# redelivered later): the payloads' own instants tell which came first, and a clock is
# never left paused for good by a wait, a close or a departure that was already over.

async def test_a_pause_label_removed_then_delivered_before_its_adding_does_not_pause_for_good(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(5.01),
                                  sender="triage"), now=hours(5.02))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(5),
                                  sender="triage"), now=hours(5.03))
    c = await clock_of(db)
    assert not sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == pytest.approx((30 - 0.01) * 3600)
    assert sla.state(c.clock, hours(49)) == sla.WARNING


async def test_a_reopen_delivered_before_its_close_leaves_the_item_open(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("reopened", labels=["bug"], at=hours(6)), now=hours(6.1))
    await deliver(db, issue_event("closed", labels=["bug"], at=hours(5)), now=hours(6.2))  # by the author
    [c] = await store.clocks(db, REPO, open_items=True)
    assert not c.closed and not sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == 29 * 3600


async def test_a_reopen_delivered_after_a_later_close_leaves_the_item_closed(db):
    """Closed at 5 h, reopened at 6 h (delivery held up), closed again at 7 h: the stale
    reopen arrives last and must not pass the closed item for an open one."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("closed", labels=["bug"], at=hours(5)), now=hours(5))
    await deliver(db, issue_event("closed", labels=["bug"], at=hours(7)), now=hours(7))
    await deliver(db, issue_event("reopened", labels=["bug"], at=hours(6)), now=hours(7.1))
    [c] = await store.clocks(db, REPO)
    assert c.closed and await store.clocks(db, REPO, open_items=True) == []
    assert sla.is_paused(c.clock, hours(30)) and sla.counted(c.clock, hours(30)) == 6 * 3600
    assert [a for a in await sweep(db, hours(100)) if isinstance(a, (UpsertComment, AddLabels))] == []


@pytest.mark.parametrize("order", [(7, 3, 5), (3, 7, 5), (7, 5, 3), (5, 7, 3)])
async def test_a_stale_close_and_reopen_do_not_undo_the_latest_close(db, order):
    """Closed at 3 h, reopened at 5 h, closed at 7 h, delivered in any order with 7 h before
    the reopen: the item ends closed."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    for at in order:
        action = "reopened" if at == 5 else "closed"
        await deliver(db, issue_event(action, labels=["bug"], at=hours(at)), now=hours(8))
    [c] = await store.clocks(db, REPO)
    assert c.closed and sla.counted(c.clock, hours(30)) == (3 + 2) * 3600


@pytest.mark.parametrize("order", [(8, 7, 6, 5), (6, 8, 5, 7), (5, 8, 7, 6)])
async def test_a_stale_close_delivered_after_a_later_reopen_leaves_the_item_open(db, order):
    """Closed at 5 h and 7 h, reopened at 6 h and 8 h: open at the end whatever the order."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    for at in order:
        action = "reopened" if at in (6, 8) else "closed"
        await deliver(db, issue_event(action, labels=["bug"], at=hours(at)), now=hours(9))
    [c] = await store.clocks(db, REPO, open_items=True)
    assert not c.closed and not sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == (30 - 2) * 3600


async def test_a_kind_label_put_back_and_delivered_first_keeps_the_clock_running(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug"], label="bug", at=hours(6), sender="triage"),
                  now=hours(6.1))
    await deliver(db, issue_event("unlabeled", labels=[], label="bug", at=hours(5), sender="triage"),
                  now=hours(6.2))
    c = await clock_of(db)
    assert not sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == 29 * 3600


async def test_undo_then_do_again_in_order_still_pauses(db):
    """The guard looks only at undos after the pause began: a label put on again later
    pauses again, a close after a reopen closes again."""
    await deliver(db, issue_event("opened", labels=["bug", "needs-info"]), now=hours(0))
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(2))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(4),
                                  sender="triage"), now=hours(4))
    await deliver(db, issue_event("closed", labels=["bug", "needs-info"], at=hours(5)), now=hours(5))
    await deliver(db, issue_event("reopened", labels=["bug", "needs-info"], at=hours(6)), now=hours(6))
    await deliver(db, issue_event("closed", labels=["bug", "needs-info"], at=hours(7)), now=hours(7))
    [c] = await store.clocks(db, REPO)
    assert c.closed and sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == 2 * 3600


async def test_an_old_author_comment_redelivered_late_does_not_end_a_newer_wait(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    # The author's comment at 1 h is lost (intake down), the triager's needs-info at 2 h arrives.
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(2))
    # Redelivered at 2.1 h: it came before the wait, so it answers nothing.
    await deliver(db, comment_event(user="reporter", at=hours(1), body="More details"), now=hours(2.1))
    c = await clock_of(db)
    assert sla.is_paused(c.clock, hours(30)) and sla.counted(c.clock, hours(30)) == 2 * 3600
    # So the sweep does not warn while needs-info is on.
    assert not [a for a in await sweep(db, hours(49)) if isinstance(a, UpsertComment)]


async def test_an_old_unlabel_redelivered_late_does_not_end_the_labels_second_wait(db):
    await deliver(db, issue_event("opened", labels=["bug", "needs-info"]), now=hours(0))
    # needs-info off at 10 h (lost), back on at 20 h (delivered), then the 10 h removal redelivered.
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(20),
                                  sender="triage"), now=hours(20))
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(10),
                                  sender="triage"), now=hours(20.1))
    c = await clock_of(db)
    assert sla.is_paused(c.clock, hours(100)) and sla.counted(c.clock, hours(100)) == 10 * 3600
    # Taken off again at 30 h: the clock counts from there.
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(30),
                                  sender="triage"), now=hours(30))
    assert sla.counted((await clock_of(db)).clock, hours(40)) == (10 + 10) * 3600


async def test_a_late_unlabel_cuts_a_wait_that_ended_later_and_the_label_put_back_between_counts(db):
    """needs-info from 0, off at 10 h (lost), on at 20 h and off at 25 h (both delivered, the
    item paused throughout), on again at 30 h; then the 10 h removal comes: the item was
    waiting 0-10 h, 20-25 h and from 30 h."""
    await deliver(db, issue_event("opened", labels=["bug", "needs-info"]), now=hours(0))
    for action, at in (("labeled", 20), ("unlabeled", 25), ("labeled", 30), ("unlabeled", 10)):
        labels = ["bug", "needs-info"] if action == "labeled" else ["bug"]
        await deliver(db, issue_event(action, labels=labels, label="needs-info", at=hours(at), sender="triage"),
                      now=hours(max(at, 30) + 0.1))
    c = await clock_of(db)
    assert sla.is_paused(c.clock, hours(40))
    assert sla.counted(c.clock, hours(40)) == (10 + 5) * 3600


async def test_a_late_label_from_before_an_open_wait_pauses_until_it_was_undone(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(8),
                                  sender="triage"), now=hours(8))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(20),
                                  sender="triage"), now=hours(20))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(5),
                                  sender="triage"), now=hours(20.1))
    c = await clock_of(db)
    assert sla.counted(c.clock, hours(30)) == (5 + 12) * 3600


@pytest.mark.parametrize("body", ["/sla resume", "/sla status", "/label bug\n/cc @maint"])
async def test_an_authors_comment_of_commands_only_does_not_end_the_wait(db, body):
    """The wait on the author ends with their answer; a comment that only talks to the bot
    (``/sla status``; ``/sla resume``, which the author is refused) answers nothing."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(2))
    await deliver(db, comment_event(user="reporter", at=hours(5), body=body), now=hours(5))
    c = await clock_of(db)
    assert sla.state(c.clock, hours(100)) == sla.PAUSED
    await deliver(db, comment_event(user="reporter", at=hours(10), body="/sla status\nLogs attached."),
                  now=hours(10))
    c = await clock_of(db)
    assert sla.paused_seconds(c.clock, hours(20)) == 8 * 3600


async def test_an_authors_commands_only_comment_does_not_end_a_wait_recorded_late(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="reporter", at=hours(3), body="/sla status"), now=hours(3))
    # The bot's needs-info from 2 h, read from its ledger by a later sweep (or delivered late).
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(4))
    c = await clock_of(db)
    assert sla.is_paused(c.clock, hours(30))


# The audit trail (``sla_events``, behind /sla status and /explain, and read back to order
# late deliveries) keeps distinct events of one kind at one instant, and a redelivery adds
# nothing to it.

async def test_two_waiting_labels_taken_off_at_once_and_delivered_first_both_end_their_pauses(db):
    """Both waiting labels on at 5 h and off at once (one edit: the same instant) a minute
    later; the removals arrive first. Each removal is remembered, so neither label's late
    adding pauses the clock for good."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    both = ["needs-info", "waiting-for-author"]
    for label in both:
        await deliver(db, issue_event("unlabeled", labels=["bug"], label=label, at=hours(5.01),
                                      sender="triage"), now=hours(5.1))
    for label in both:
        await deliver(db, issue_event("labeled", labels=["bug", *both], label=label, at=hours(5),
                                      sender="triage"), now=hours(5.2))
    c = await clock_of(db)
    assert not sla.is_paused(c.clock, hours(30))
    assert sla.counted(c.clock, hours(30)) == pytest.approx((30 - 0.01) * 3600)
    events = [(e["kind"], e["at"], e["detail"]) for e in await store.events(db, REPO, 7)]
    for label in both:
        assert ("unlabeled", hours(5.01).timestamp(), label) in events
        assert ("paused", hours(5).timestamp(), f"label:{label}") in events


async def test_redelivered_events_add_nothing_to_the_audit_trail(db):
    sequence = [
        (issue_event("opened", labels=["bug", "needs-info"]), hours(0)),
        (issue_event("labeled", labels=["bug", "needs-info", "waiting-for-author"], label="waiting-for-author",
                     at=hours(1), sender="triage"), hours(1)),
        (issue_event("unlabeled", labels=["bug"], label="needs-info", at=hours(2), sender="triage"), hours(2)),
        (issue_event("unlabeled", labels=["bug"], label="waiting-for-author", at=hours(2), sender="triage"),
         hours(2)),
        (issue_event("closed", labels=["bug"], at=hours(3)), hours(3)),
        (issue_event("reopened", labels=["bug"], at=hours(4)), hours(4)),
        (comment_event(user="maint", at=hours(5)), hours(5)),
    ]
    for event, now in sequence:
        await deliver(db, event, now=now)
    trail = sorted(map(tuple_of, await store.events(db, REPO, 7)))
    pauses = await db.fetchall("SELECT * FROM sla_pauses WHERE repo = ? ORDER BY started_at, reason", (REPO,))
    for event, _ in sequence:  # every one redelivered, late
        await deliver(db, event, now=hours(6))
    assert sorted(map(tuple_of, await store.events(db, REPO, 7))) == trail
    assert await db.fetchall("SELECT * FROM sla_pauses WHERE repo = ? ORDER BY started_at, reason",
                             (REPO,)) == pauses
    assert len([e for e in trail if e[1] == "paused"]) == 3


def tuple_of(event) -> tuple:
    return (event["at"], event["kind"], event["policy"], event["detail"])

"""Labels the bot changes itself, read from its ledger by the sweep: a label it takes
off stops its policy's clock (even when its webhook never came), a waiting label it
takes off resumes the clock, and the author's answer ends a wait the sweep records
only afterwards."""
from __future__ import annotations

from datetime import datetime

from bot.core import sla
from bot.core.actions import AddLabels, Record, UpsertComment
from bot.features.sla import store
from bot.store.state import forget_bot_label
from tests.helpers import RecordingReader, bundled_rules

from .conftest import REPO, T0, apply, comment_event, deliver, hours, issue_event, sweep

ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"


async def bot_label(db, label: str, at: datetime, number: int = 7, feature: str = "classify") -> None:
    await db.execute("INSERT INTO bot_labels (repo, number, label, feature, added_at) VALUES (?, ?, ?, ?, ?)",
                     (REPO, number, label, feature, at.timestamp()))


async def the_clock(db, policy: str = "bugs"):
    [c] = [c for c in await store.clocks(db, REPO, number=7) if c.policy == policy]
    return c


def called_out(actions) -> list:
    return [a for a in actions if isinstance(a, (AddLabels, UpsertComment))]


async def test_a_kind_label_the_bot_takes_off_unseen_stops_its_clock(db):
    # The classifier said bug; at hour 1 the author says /kind feature and the bot takes
    # "bug" off. Its own unlabeled webhook never arrives.
    await deliver(db, issue_event("opened"), now=hours(0))
    await bot_label(db, "bug", hours(0.01))
    await sweep(db, hours(0.2))
    assert (await the_clock(db)).clock.started == T0
    await deliver(db, comment_event(user="reporter", at=hours(1), body="/kind feature", labels=["bug"]),
                  now=hours(1))
    await forget_bot_label(db, REPO, 7, "bug")
    await bot_label(db, "feature", hours(1))
    first = await sweep(db, hours(73))
    assert not called_out(first)
    assert not called_out(await sweep(db, hours(74)))
    c = await the_clock(db)
    # Dated by the comment the bot answered: one hour counted, then out of the policy.
    assert sla.state(c.clock, hours(100)) == sla.PAUSED and sla.counted(c.clock, hours(100)) == 3600
    assert [e["detail"] for e in await store.events(db, REPO, 7) if e["kind"] == "unlabeled"] == ["bug"]
    assert await db.fetchall("SELECT * FROM sla_ledger WHERE repo = ?", (REPO,)) == []
    assert await sweep(db, hours(75)) == []


async def test_without_activity_to_date_it_the_removal_counts_until_the_sweep_saw_it(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await bot_label(db, "bug", hours(0.01))
    await sweep(db, hours(0.2))
    await forget_bot_label(db, REPO, 7, "bug")
    await sweep(db, hours(30))
    c = await the_clock(db)
    assert sla.counted(c.clock, hours(100)) == 30 * 3600  # never more than was owed


async def test_the_bots_own_unlabeled_webhook_does_it_first_then_the_ledger_is_tidied(db):
    await deliver(db, issue_event("opened"), now=hours(0))
    await bot_label(db, "bug", hours(0.01))
    await sweep(db, hours(0.2))
    await forget_bot_label(db, REPO, 7, "bug")
    await deliver(db, issue_event("unlabeled", labels=[], label="bug", at=hours(2),
                                  sender="contributor-flow[bot]"), now=hours(2))
    actions = await sweep(db, hours(3))
    assert [a.op for a in actions if isinstance(a, Record)] == ["ledger_forget"]
    assert sla.counted((await the_clock(db)).clock, hours(50)) == 2 * 3600


async def test_a_kind_label_the_bot_puts_back_lets_the_clock_count_again(db):
    # /kind feature at hour 1 (the bot's own unlabeled webhook says so), /kind bug at hour 2:
    # the bot puts "bug" back, and its labeled webhook never reaches the features.
    await deliver(db, issue_event("opened"), now=hours(0))
    await bot_label(db, "bug", hours(0.01))
    await sweep(db, hours(0.2))
    await forget_bot_label(db, REPO, 7, "bug")
    await deliver(db, issue_event("unlabeled", labels=["feature"], label="bug", at=hours(1),
                                  sender="contributor-flow[bot]"), now=hours(1))
    await forget_bot_label(db, REPO, 7, "feature")
    await bot_label(db, "bug", hours(2))
    back = await sweep(db, hours(2.2))
    assert [a.op for a in back if isinstance(a, Record)] == ["start_clock", "ledger_seen"]
    c = await the_clock(db)
    assert c.clock.started == T0 and not sla.is_paused(c.clock, hours(3))
    assert sla.counted(c.clock, hours(50)) == 49 * 3600            # all but the hour it was a feature
    assert await sweep(db, hours(2.4)) == []                         # once
    assert [type(a).__name__ for a in called_out(await sweep(db, hours(50)))] == ["UpsertComment"]  # warned


async def test_a_waiting_label_the_bot_takes_off_resumes_the_clock(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await bot_label(db, "needs-info", hours(1), feature="commands")
    await sweep(db, hours(1.5))
    assert sla.state((await the_clock(db)).clock, hours(4)) == sla.PAUSED
    # /triage accepted at hour 5: not an answer (commands only); the bot takes needs-info off.
    await deliver(db, comment_event(user="triage", at=hours(5), body="/triage accepted"), now=hours(5))
    await forget_bot_label(db, REPO, 7, "needs-info")
    await sweep(db, hours(6))
    c = await the_clock(db)
    assert c.clock.answered is None and sla.counted(c.clock, hours(10)) == 6 * 3600


async def test_a_label_people_put_on_keeps_the_item_in_the_policy(db):
    # "crash" (a person's, not in the ledger) also means bug: GitHub's labels say so.
    rules = bundled_rules({"sla": {"kind_labels": {"bug": ["crash"]}}})
    await deliver(db, issue_event("opened"), now=hours(0), rules=rules)
    await bot_label(db, "bug", hours(0.01))
    await sweep(db, hours(0.2), rules)
    await forget_bot_label(db, REPO, 7, "bug")
    reader = RecordingReader({ISSUE: {"number": 7, "state": "open", "labels": [{"name": "crash"}]}})
    await sweep(db, hours(2), rules, gh=reader)
    c = await the_clock(db)
    assert sla.counted(c.clock, hours(10)) == 10 * 3600 and reader.calls


async def test_the_authors_answer_before_the_sweep_reads_needs_info_ends_that_wait(db):
    # /triage needs-info at hour 2 is no answer now; the bot adds the label, the author
    # answers at hour 3, and only then does the sweep read the label from the ledger.
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="triage", at=hours(2), body="/triage needs-info"), now=hours(2))
    await bot_label(db, "needs-info", hours(2), feature="commands")
    await deliver(db, comment_event(user="reporter", at=hours(3), body="Here are the logs"), now=hours(3))
    await sweep(db, hours(3.5))
    c = await the_clock(db)
    assert c.clock.answered is None
    assert sla.state(c.clock, hours(10)) == sla.RUNNING
    assert sla.paused_seconds(c.clock, hours(10)) == 3600 and sla.counted(c.clock, hours(10)) == 9 * 3600


async def test_a_wait_that_began_after_the_authors_answer_stays(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="reporter", at=hours(1), body="More details"), now=hours(1))
    await bot_label(db, "needs-info", hours(2), feature="commands")
    await sweep(db, hours(2.5))
    assert sla.state((await the_clock(db)).clock, hours(10)) == sla.PAUSED


async def test_a_late_pause_label_delivery_ends_at_the_authors_answer(db):
    # Deliveries out of order: the author's answer (hour 3) is processed before the
    # triager's needs-info label (hour 2).
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="reporter", at=hours(3), body="Logs attached"), now=hours(3))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(2),
                                  sender="triage"), now=hours(3.1))
    c = await the_clock(db)
    assert sla.state(c.clock, hours(10)) == sla.RUNNING and sla.counted(c.clock, hours(10)) == 9 * 3600


async def test_a_waiting_label_the_bot_takes_off_unseen_is_not_dated_before_it_was_put_on(db):
    """The removal is dated by the latest activity the bot saw, which may come before the
    label itself (the bot's needs-info follows the /triage comment that asked for it): the
    wait still ends, rather than being taken for a newer one the removal does not end."""
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="triage", at=hours(1), body="/triage needs-info"), now=hours(1))
    await bot_label(db, "needs-info", hours(1.01), feature="commands")
    await sweep(db, hours(1.5))
    assert sla.state((await the_clock(db)).clock, hours(4)) == sla.PAUSED
    await forget_bot_label(db, REPO, 7, "needs-info")
    await sweep(db, hours(6))
    assert not sla.is_paused((await the_clock(db)).clock, hours(10))

"""A transferred issue keeps its clock: GitHub opens it in the new repository
(``issues.opened`` with ``changes.old_issue`` and ``changes.old_repository``), and
the start, the first response and the pauses come along from the old one."""
from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import sla
from bot.core.actions import AddLabels, UpsertComment
from bot.features.sla import store
from bot.features.sla.sweep import sweep_repo
from tests.helpers import bundled_rules

from .conftest import REPO, T0, comment_event, deliver, hours, iso, issue_event

NEW = "Codertocat/New-Home"


def moved_in(*, at: datetime, labels=("bug",), old_issue: dict | None = None, number: int = 31,
             created: datetime = T0):
    """The opening GitHub sends to the new repository when issue 7 of REPO moves there: the
    moved issue keeps the old one's ``created_at``."""
    name, p = issue_event("opened", number=number, labels=labels, sender="maint", at=at)
    p["repository"] = dict(p["repository"], full_name=NEW, name="New-Home")
    p["issue"]["created_at"] = iso(created)
    p["changes"] = {"old_issue": old_issue or {"number": 7, "id": 1},
                    "old_repository": {"full_name": REPO, "name": "Hello-World"}}
    return name, p


async def move(db, at: datetime, **kw) -> list:
    """The old repository hears 'transferred', the new one 'opened'."""
    await deliver(db, issue_event("transferred", labels=["bug"], sender="maint", at=at), now=at)
    return await deliver(db, moved_in(at=at, **kw), now=at)


async def new_clock(db):
    [c] = await store.clocks(db, NEW, number=31)
    return c


async def test_an_answer_given_before_the_move_still_counts(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, comment_event(user="maint", at=hours(2)), now=hours(2))
    await move(db, hours(5))
    c = await new_clock(db)
    assert (c.clock.started, c.clock.answered) == (T0, hours(2))
    assert (await store.item(db, NEW, 31))["first_responder"] == "maint"
    actions = await sweep_repo(db, NEW, bundled_rules(), hours(80))
    assert not [a for a in actions if isinstance(a, (AddLabels, UpsertComment))]


async def test_the_clock_keeps_its_start_and_its_pauses(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(1),
                                  sender="triage"), now=hours(1))
    await deliver(db, comment_event(user="reporter", at=hours(2), body="Logs attached"), now=hours(2))
    # needs-info stays on (nobody took it off) but the author has answered: no new wait.
    actions = await move(db, hours(5), labels=("bug", "needs-info"))
    assert any("carried over (bugs)" in getattr(a, "text", "") for a in actions)
    c = await new_clock(db)
    assert c.clock.started == T0 and c.clock.answered is None and not c.closed
    assert sla.state(c.clock, hours(10)) == sla.RUNNING
    assert sla.counted(c.clock, hours(10)) == 9 * 3600       # the hour waiting on the author is left out
    assert sla.due_at(c.clock, hours(10)) == hours(73)
    # The old home's record stays closed (transferred): never past due there.
    [old] = await store.clocks(db, REPO, number=7)
    assert old.closed


async def test_a_wait_on_the_author_comes_along_with_its_label(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(1),
                                  sender="triage"), now=hours(1))
    await move(db, hours(5), labels=("bug", "needs-info"))
    c = await new_clock(db)
    assert sla.state(c.clock, hours(100)) == sla.PAUSED and sla.counted(c.clock, hours(100)) == 3600


async def test_a_wait_whose_label_stayed_behind_ends_at_the_move(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    await deliver(db, issue_event("labeled", labels=["bug", "needs-info"], label="needs-info", at=hours(1),
                                  sender="triage"), now=hours(1))
    await move(db, hours(5), labels=("bug",))
    c = await new_clock(db)
    assert sla.counted(c.clock, hours(10)) == 1 * 3600 + 5 * 3600


async def test_an_item_the_old_repository_did_not_follow_counts_from_the_move(db):
    created = T0 - timedelta(days=400)                  # an old issue, moved in from an untracked repository
    actions = await deliver(db, moved_in(at=hours(5), created=created,
                                         old_issue={"number": 7, "id": 1, "created_at": iso(created)}),
                            now=hours(5))
    assert any("not followed there: counted from the move" in getattr(a, "text", "") for a in actions)
    c = await new_clock(db)
    assert c.clock.started == hours(5) and c.clock.answered is None
    assert (await store.item(db, NEW, 31))["opened_at"] == hours(5).timestamp()
    early = await sweep_repo(db, NEW, bundled_rules(), hours(6))
    assert [a for a in early if isinstance(a, (AddLabels, UpsertComment))] == []
    actions = await sweep_repo(db, NEW, bundled_rules(), hours(5 + 49))
    assert [a.marker for a in actions if isinstance(a, UpsertComment)] == ["contributor-flow:sla-warning:bugs"]


async def test_a_move_from_an_untracked_repository_first_delivered_late_counts_from_the_move(db):
    """The opening reaches the bot only when redelivered (GitHub's "redeliver", or the bot's
    recovery of deliveries it missed) a day later: the clock counts from the move, as the
    payload dates it, not from the delivery's arrival."""
    await deliver(db, moved_in(at=hours(5), labels=("bug", "needs-info")), now=hours(29))
    c = await new_clock(db)
    assert c.clock.started == hours(5)
    assert (await store.item(db, NEW, 31))["opened_at"] == hours(5).timestamp()
    [pause] = await store.pause_rows(db, NEW, 31)
    assert (pause["reason"], pause["started_at"], pause["ended_at"]) == ("label:needs-info", hours(5).timestamp(), None)


async def test_a_redelivered_move_changes_nothing(db):
    event = moved_in(at=hours(5), labels=("bug", "needs-info"))
    await deliver(db, event, now=hours(5))
    events = await store.events(db, NEW, 31)
    pauses = await store.pause_rows(db, NEW, 31)
    await deliver(db, event, now=hours(40))
    assert (await new_clock(db)).clock.started == hours(5)
    assert await store.events(db, NEW, 31) == events and await store.pause_rows(db, NEW, 31) == pauses


async def test_a_move_without_its_instant_in_the_payload_counts_from_the_delivery(db):
    name, payload = moved_in(at=hours(5))
    payload["issue"].pop("updated_at")
    await deliver(db, (name, payload), now=hours(6))
    assert (await new_clock(db)).clock.started == hours(6)

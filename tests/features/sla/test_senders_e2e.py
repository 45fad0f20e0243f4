"""Closes and label removals stop the clocks whoever made them, end to end: real
payloads through the real pipeline to the fake GitHub. The bot's own events and those
of bots not in ``allowed_bots`` reach the SLA for these facts only, and a feature that
does not declare them (``any_sender``) does not hear them; a close whose webhook never
came is found by the sweep."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.core import sla
from bot.features.base import Feature
from bot.features.sla import SWEEP, store
from bot.features.sla.report import sla_figures
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.e2e.harness import BotHarness, retarget
from tests.fixtures.webhooks import load_example

REPO = "octo/repo"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
BOT = "contributor-flow[bot]"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(h: float) -> datetime:
    return T0 + timedelta(hours=h)


@pytest.fixture
def rules_dir(tmp_path) -> str:
    """core, commands, classify and sla; pull requests are owed an answer too."""
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "commands.yml", "classify.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    section = yaml.safe_load((Path(BUNDLED_RULES) / "sla.yml").read_text())
    section["policies"].append({"name": "prs", "item_types": ["pull_request"]})
    (out / "sla.yml").write_text(yaml.safe_dump(section))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_user("reporter")
    fake_github.add_user("stale[bot]", type="Bot")
    fake_github.add_user("mergify[bot]", type="Bot")
    fake_github.set_permission(REPO, "maint", "write")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def spy(bot, **kw) -> list[str]:
    """A feature without ``any_sender`` listening to closes: what it hears."""
    heard: list[str] = []

    async def listen(event, ctx):
        heard.append(event.sender_login)
        return []

    bot.runtime.features.append(Feature(name=f"spy{len(bot.runtime.features)}",
                                        handlers={"issues.closed": [listen]}, **kw))
    return heard


async def open_issue(bot, title: str, labels=()):
    issue = bot.fake.add_issue(REPO, title=title, user="reporter", labels=labels)
    issue.created_at = issue.updated_at = iso(T0)
    payload = retarget(load_example("issues", "opened"), REPO, bot.fake)
    payload["issue"] = bot.fake.serializer.issue(issue)
    payload["sender"] = bot.fake.serializer.user("reporter")
    await bot.deliver("issues", payload)
    return issue


async def issue_event(bot, issue, action: str, sender: str, *, at: datetime, label: str | None = None):
    """The webhook GitHub sends about ``issue`` as it is in the fake now."""
    issue.updated_at = iso(at)
    payload = retarget(load_example("issues", "unlabeled" if label else "reopened"), REPO, bot.fake)
    payload.update(action=action, issue=bot.fake.serializer.issue(issue), sender=bot.fake.serializer.user(sender))
    if label:
        payload["label"] = {"name": label, "color": "d73a4a"}
    await bot.deliver("issues", payload)


async def sweep(bot, at: datetime) -> int:
    return await run_job(bot.runtime, SWEEP, key=f"t:{at.isoformat()}", clock=lambda: at)


async def clocks(bot, number: int):
    return await store.clocks(bot.runtime.db, REPO, number=number)


async def past_due(bot, at: datetime) -> int:
    figures = await sla_figures(bot.runtime.db, REPO, hours(-24), hours(200), at)
    return figures["all"]["open_past_due"]


async def test_the_bots_own_close_stops_the_clock_and_no_other_feature_hears_it(bot):
    heard, heard_bots = spy(bot), spy(bot, accepts_bot_events=True)
    issue = await open_issue(bot, "It crashes", labels=("bug",))
    # The bot closed it (the author's /close, /triage wontfix): GitHub tells us so.
    issue.state, issue.closed_at = "closed", iso(hours(1))
    await issue_event(bot, issue, "closed", BOT, at=hours(1))
    [c] = await clocks(bot, issue.number)
    assert c.closed and c.clock.answered is None and sla.counted(c.clock, hours(100)) == 3600
    assert heard == [] and heard_bots == []


@pytest.mark.parametrize("closer", ["stale[bot]", "mergify[bot]"])
async def test_a_close_by_another_bot_stops_the_clock(bot, closer):
    heard = spy(bot)
    issue = await open_issue(bot, "It crashes", labels=("bug",))
    issue.state, issue.closed_at = "closed", iso(hours(10))
    await issue_event(bot, issue, "closed", closer, at=hours(10))
    [c] = await clocks(bot, issue.number)
    assert c.closed and c.clock.answered is None  # a bot's close is not a response
    await sweep(bot, hours(73))
    assert "sla/breached" not in bot.fake.issue(REPO, issue.number).labels
    assert await past_due(bot, hours(73)) == 0 and heard == []
    # ...and a reopen by a bot resumes it with its first start.
    issue.state, issue.closed_at = "open", None
    await issue_event(bot, issue, "reopened", closer, at=hours(20))
    [c] = await clocks(bot, issue.number)
    assert not c.closed and sla.counted(c.clock, hours(30)) == 20 * 3600


async def test_a_merge_bot_merging_stops_a_pull_request_clock(bot):
    fake = bot.fake
    pull = fake.add_pull(REPO, title="Fix the crash", user="reporter", head_ref="fix")
    pull.created_at = pull.updated_at = iso(T0)
    opened = retarget(load_example("pull_request", "opened"), REPO, bot.fake)
    opened.update(number=pull.number, pull_request=fake.serializer.pull(pull),
                  sender=fake.serializer.user("reporter"))
    await bot.deliver("pull_request", opened)
    assert [c.policy for c in await clocks(bot, pull.number)] == ["prs"]
    pull.state, pull.closed_at = "closed", iso(hours(3))
    pull.pull.merged, pull.pull.merged_at, pull.pull.merged_by = True, iso(hours(3)), "mergify[bot]"
    pull.updated_at = iso(hours(3))
    closed = retarget(load_example("pull_request", "closed"), REPO, bot.fake)
    closed.update(number=pull.number, pull_request=fake.serializer.pull(pull),
                  sender=fake.serializer.user("mergify[bot]"))
    await bot.deliver("pull_request", closed)
    [c] = await clocks(bot, pull.number)
    assert c.closed and sla.counted(c.clock, hours(100)) == 3 * 3600


async def test_a_close_whose_webhook_never_came_is_found_before_any_escalation(bot):
    # The author's /close: the bot closes the issue; its own webhook has not come (yet).
    issue = await open_issue(bot, "It crashes", labels=("bug",))
    await bot.comment(REPO, issue.number, "/close", "reporter", created_at=iso(hours(1)))
    assert bot.fake.issue(REPO, issue.number).state == "closed"
    bot.fake.issue(REPO, issue.number).closed_at = iso(hours(1))
    await sweep(bot, hours(73))
    assert "sla/breached" not in bot.fake.issue(REPO, issue.number).labels
    assert not [c for c in bot.fake.issue(REPO, issue.number).comments if "sla-breach" in c.body]
    [c] = await clocks(bot, issue.number)
    assert c.closed and sla.counted(c.clock, hours(100)) == 3600
    assert await past_due(bot, hours(73)) == 0


async def test_a_kind_label_the_bot_takes_off_stops_the_clock_from_its_webhook(bot):
    fake = bot.fake
    issue = await open_issue(bot, "[bug] It crashes")
    assert "bug" in fake.issue(REPO, issue.number).labels  # the classifier's
    await sweep(bot, hours(0.2))                            # read from the ledger
    assert [c.policy for c in await clocks(bot, issue.number)] == ["bugs"]
    await bot.comment(REPO, issue.number, "/kind feature", "reporter", created_at=iso(hours(1)))
    assert "bug" not in fake.issue(REPO, issue.number).labels
    # GitHub reports the bot's own removal: the clock leaves the policy at that instant.
    await issue_event(bot, fake.issue(REPO, issue.number), "unlabeled", BOT, at=hours(1.01), label="bug")
    [c] = await clocks(bot, issue.number)
    assert sla.state(c.clock, hours(100)) == sla.PAUSED and sla.counted(c.clock, hours(100)) == 1.01 * 3600


async def test_a_kind_label_the_bot_takes_off_unseen_never_breaches(bot):
    fake = bot.fake
    issue = await open_issue(bot, "[bug] It crashes")
    await sweep(bot, hours(0.2))
    await bot.comment(REPO, issue.number, "/kind feature", "reporter", created_at=iso(hours(1)))
    for at in (hours(73), hours(74)):
        await sweep(bot, at)
    labels = fake.issue(REPO, issue.number).labels
    assert "feature" in labels and "sla/breached" not in labels
    [c] = await clocks(bot, issue.number)
    assert sla.counted(c.clock, hours(100)) == 3600 and await past_due(bot, hours(100)) == 0

"""First-response SLA end to end: real example payloads delivered over HTTP to the real
app, sweeps run as the scheduler runs them and through ``python -m bot sla sweep --now``,
every request checked by the fake GitHub against GitHub's OpenAPI description."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.core import sla
from bot.features.sla import SWEEP, store
from bot.features.sla.report import sla_figures
from bot.context import JobContext
from bot.core.actions import UpsertComment
from bot.scheduler import act_as_job, run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/repo"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
WARNING = "contributor-flow:sla-warning:bugs"
BREACH = "contributor-flow:sla-breach:bugs"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def rules_dir(tmp_path) -> str:
    """core, commands and sla only (rule files of features being built elsewhere do not
    matter here); the SLA warns a configured team."""
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "commands.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    sla = yaml.safe_load((Path(BUNDLED_RULES) / "sla.yml").read_text())
    sla["team"] = "octo/triagers"
    (out / "sla.yml").write_text(yaml.safe_dump(sla))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_user("reporter")
    fake_github.add_user("visitor")
    fake_github.set_permission(REPO, "maint", "write")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def new_issue(fake, labels=("bug",)):
    issue = fake.add_issue(REPO, title="It crashes", user="reporter", labels=labels)
    issue.created_at = issue.updated_at = iso(T0)
    return issue


async def opened(bot, issue) -> None:
    payload = retarget(load_example("issues", "opened"), REPO, bot.fake)
    payload["issue"] = bot.fake.serializer.issue(issue)
    payload["sender"] = bot.fake.serializer.user(issue.user)
    await bot.deliver("issues", payload)


async def comment(bot, number: int, body: str, user: str, at: datetime) -> None:
    await bot.comment(REPO, number, body, user, created_at=iso(at))


async def sweep(bot, at: datetime) -> int:
    return await run_job(bot.runtime, SWEEP, key=f"test:{at.isoformat()}", clock=lambda: at)


def marked(fake, number: int, marker: str):
    return [c for c in fake.issue(REPO, number).comments if marker in c.body]


@BOTH_BACKENDS
async def test_warning_breach_answer_and_status(bot):
    fake = bot.fake
    issue = new_issue(fake)
    await opened(bot, issue)

    assert await sweep(bot, T0 + timedelta(hours=47)) == 0
    await sweep(bot, T0 + timedelta(hours=49))
    await sweep(bot, T0 + timedelta(hours=50))             # a second sweep: no second warning
    [warning] = marked(fake, issue.number, WARNING)
    assert "@octo/triagers" in warning.body and "2026-03-05 10:00 UTC" in warning.body
    assert "sla/breached" not in fake.issue(REPO, issue.number).labels

    await sweep(bot, T0 + timedelta(hours=73))
    await sweep(bot, T0 + timedelta(hours=74))
    assert "sla/breached" in fake.issue(REPO, issue.number).labels
    assert len(marked(fake, issue.number, BREACH)) == 1
    assert len(marked(fake, issue.number, WARNING)) == 1
    added = [c for c in fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
             if "sla/breached" in c.json.get("labels", [])]
    assert len(added) == 1

    # The author and a passer-by comment: the clock runs on. The maintainer answers: it stops.
    await comment(bot, issue.number, "Any news?", "reporter", T0 + timedelta(hours=75))
    await comment(bot, issue.number, "Same here", "visitor", T0 + timedelta(hours=76))
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert c.clock.answered is None
    await comment(bot, issue.number, "Reproduced, fixing.", "maint", T0 + timedelta(hours=80))
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert c.clock.answered == T0 + timedelta(hours=80)
    assert "sla/breached" in fake.issue(REPO, issue.number).labels   # kept as history

    # /sla status through the commands feature, by anyone
    await comment(bot, issue.number, "/sla status", "visitor", T0 + timedelta(hours=81))
    status = fake.issue(REPO, issue.number).comments[-1]
    assert status.user == fake.bot_login and "| bugs | missed | 2026-03-02 10:00 UTC |" in status.body

    figures = await sla_figures(bot.runtime.db, REPO, T0 - timedelta(days=1), T0 + timedelta(days=7),
                                T0 + timedelta(hours=100))
    bugs = figures["policies"]["bugs"]
    assert (bugs["items"], bugs["breaches"], bugs["within_target_share"]) == (1, 1, 0.0)
    assert bugs["first_response_p50_hours"] == 80


async def test_pause_by_triager_holds_the_warning(bot):
    fake = bot.fake
    issue = new_issue(fake)
    await opened(bot, issue)
    await comment(bot, issue.number, "/sla pause", "maint", T0 + timedelta(hours=1))
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert c.clock.answered is None            # a bare /sla command is not an answer
    assert await sweep(bot, T0 + timedelta(hours=60)) == 0
    # the refusal for someone without the role, and nothing changes
    await comment(bot, issue.number, "/sla resume", "visitor", T0 + timedelta(hours=61))
    refusal = fake.issue(REPO, issue.number).comments[-1]
    assert refusal.user == fake.bot_login and "only triagers and maintainers" in refusal.body
    # the author answers: the clock resumes
    await comment(bot, issue.number, "Here is the trace", "reporter", T0 + timedelta(hours=62))
    await sweep(bot, T0 + timedelta(hours=62 + 48))
    assert len(marked(fake, issue.number, WARNING)) == 1


async def test_sweep_from_the_command_line(bot, database_url, rules_dir):
    fake = bot.fake
    issue = new_issue(fake)
    await opened(bot, issue)
    env = {**os.environ, "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
           "GITHUB_API_URL": fake.url, "DATABASE_URL": bot.settings.database_url,
           "BOT_RULES_DIR": rules_dir, "BOT_MUTATION_INTERVAL": "0", "LOG_LEVEL": "WARNING"}

    async def cli(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sla", *args, env=env, cwd=str(Path(__file__).parents[2]),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode()

    now = iso(T0 + timedelta(hours=80))
    # label, escalation comment, breach and warning marks, note
    assert "5 action(s)" in await cli("sweep", "--now", now)
    assert "0 action(s)" in await cli("sweep", "--now", now)  # the same instant again
    assert "0 action(s)" in await cli("sweep", "--now", iso(T0 + timedelta(hours=90)))
    assert len(marked(fake, issue.number, BREACH)) == 1
    assert "sla/breached" in fake.issue(REPO, issue.number).labels

    report = json.loads(await cli("report", "--repo", REPO, "--since", "2026-03-01",
                                  "--until", "2026-03-09", "--format", "json"))
    assert report["policies"]["bugs"]["breaches"] == 1 and report["policies"]["bugs"]["open_past_due"] == 1
    md = await cli("report", "--repo", REPO, "--since", "2026-03-01")
    assert md.startswith("## First-response SLA: octo/repo") and "| bugs | 72.0 h | 1 | 0 |" in md


@BOTH_BACKENDS
async def test_clock_from_the_classifier_label(fake_github, database_url):
    """The classifier labels the bug as the bot (its own labeled webhook is never
    processed); the sweep finds the label in the bot's ledger and starts the clock at the
    opening. Bundled rules of every feature."""
    fake = fake_github
    fake.add_repo(REPO)
    fake.add_user("reporter")
    async with BotHarness(fake, database_url=database_url) as bot:
        # The ledger holds real instants, so this test lives in the present.
        t0 = datetime.now(timezone.utc).replace(microsecond=0)
        issue = fake.add_issue(REPO, title="[bug] It crashes on start", user="reporter",
                               body="### Steps to reproduce\nRun it.\n\n### Actual behavior\nTraceback")
        issue.created_at = issue.updated_at = iso(t0)
        await opened(bot, issue)
        assert "bug" in fake.issue(REPO, issue.number).labels
        assert await store.clocks(bot.runtime.db, REPO) == []
        await sweep(bot, t0 + timedelta(minutes=10))
        [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
        assert c.clock.started == t0
        await sweep(bot, t0 + timedelta(hours=49))
        assert len(marked(fake, issue.number, WARNING)) == 1


async def test_triage_needs_info_pauses_the_clock_with_the_bundled_rules(bot):
    """`/triage needs-info` puts on the label the commands section names for it
    (`triage/needs-information` by default), not one of `pause_labels`: the issue waits on
    its author all the same, and nobody is to be called to it meanwhile. The bot's own
    label is read from its ledger (real instants: this test lives in the present)."""
    fake = bot.fake
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    issue = fake.add_issue(REPO, title="It crashes", user="reporter", labels=["bug"])
    issue.created_at = issue.updated_at = iso(t0)
    await opened(bot, issue)
    asked = t0 + timedelta(hours=2)
    await comment(bot, issue.number, "/triage needs-info", "maint", asked)
    assert "triage/needs-information" in fake.issue(REPO, issue.number).labels
    await sweep(bot, asked + timedelta(minutes=10))
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert c.clock.answered is None                     # commands only: no answer
    assert sla.state(c.clock, t0 + timedelta(hours=49)) == sla.PAUSED
    await sweep(bot, t0 + timedelta(hours=49))
    assert marked(fake, issue.number, WARNING) == []
    # The author's answer resumes the clock: 2 h before the question, then from the answer.
    await comment(bot, issue.number, "Here is the trace", "reporter", t0 + timedelta(hours=50))
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert round(sla.counted(c.clock, t0 + timedelta(hours=60)) / 3600, 2) == 12


async def test_a_triage_that_closes_the_issue_is_the_maintainers_answer(bot):
    """`/triage duplicate #N` (and `/triage wontfix`) close the issue for the maintainer, as
    `/close` does, and tell the reporter why: their answer, though GitHub reports the bot as
    the closer. Without it a reopened duplicate was called "no response from the project"."""
    fake = bot.fake
    issue = new_issue(fake)
    await opened(bot, issue)
    await comment(bot, issue.number, "/triage duplicate #3", "maint", T0 + timedelta(hours=5))
    assert fake.issue(REPO, issue.number).state == "closed"
    [c] = await store.clocks(bot.runtime.db, REPO, number=issue.number)
    assert c.clock.answered == T0 + timedelta(hours=5)
    # /triage accepted closes nothing and says nothing to the reporter: no answer.
    other = new_issue(fake)
    await opened(bot, other)
    await comment(bot, other.number, "/triage accepted", "maint", T0 + timedelta(hours=5))
    [c] = await store.clocks(bot.runtime.db, REPO, number=other.number)
    assert c.clock.answered is None


async def test_an_answer_recorded_while_the_sweeps_calls_wait_their_turn_withdraws_them(bot):
    """The sweep decides every due clock at once; its comments and labels then go out paced
    about a second apart, minutes for a backlog. A maintainer's answer (or a close) the
    worker records meanwhile means nobody is to be called to that item: those calls are
    skipped, and the clock is not marked warned or breached."""
    fake = bot.fake
    answered, waiting = new_issue(fake), new_issue(fake)
    await opened(bot, answered)
    await opened(bot, waiting)
    at = T0 + timedelta(hours=80)
    key = f"test:{at.isoformat()}"
    jctx = JobContext(db=bot.runtime.db, bot_login=bot.runtime.bot_login, repos=bot.runtime.repo_handles,
                      clock=lambda: at, period_key=key)
    decided = list(await SWEEP.run(jctx))
    assert {a.number for a in decided if isinstance(a, UpsertComment)} == {answered.number, waiting.number}
    await comment(bot, answered.number, "Reproduced, fixing.", "maint", at)   # while they wait
    await act_as_job(bot.runtime, f"job:{SWEEP.name}:{key}", [(SWEEP.name, decided)], started=0)
    assert marked(fake, answered.number, BREACH) == [] and "sla/breached" not in fake.issue(
        REPO, answered.number).labels
    [c] = await store.clocks(bot.runtime.db, REPO, number=answered.number)
    assert c.clock.answered == at and c.breached_at is None and c.warned_at is None
    assert len(marked(fake, waiting.number, BREACH)) == 1 and "sla/breached" in fake.issue(
        REPO, waiting.number).labels

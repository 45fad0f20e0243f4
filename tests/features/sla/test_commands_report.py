"""/sla status|pause|resume, and the figures."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import sla
from bot.core.actions import Comment, Record
from bot.features.base import Invocation
from bot.features.commands.errors import CommandError, CommandRefused
from bot.features.sla import FEATURE, store
from bot.features.sla.report import sla_figures, to_markdown
from tests.helpers import bundled_rules, make_context

from .conftest import REPO, ROLES, T0, apply, comment_event, deliver, hours, issue_event


async def run_command(db, args: tuple[str, ...], user: str, now):
    [spec] = [c for c in FEATURE.commands if c.name == "sla"]
    name, payload = comment_event(user=user, at=now, body="/sla " + " ".join(args))
    event, ctx = make_context(name, payload, db=db, roles=ROLES, now=now)
    actions = list(await spec.handler(Invocation("sla", args, "/sla " + " ".join(args)), event, ctx))
    await apply(db, actions)
    return actions


async def test_status_shows_the_clock(db):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    [reply] = await run_command(db, ("status",), "visitor", hours(5))
    assert isinstance(reply, Comment)
    assert "| bugs | running | 2026-03-02 10:00 UTC | 0.0 h | 5.0 h of 72 h | 2026-03-05 10:00 UTC |" in reply.body


async def test_status_without_clock(db):
    [reply] = await run_command(db, (), "visitor", hours(1))
    assert "No first-response SLA clock" in reply.body


@pytest.mark.parametrize("user, allowed", [("triage", True), ("maint", True), ("visitor", False),
                                           ("reporter", False)])
async def test_pause_and_resume_need_triage_roles(db, user, allowed):
    await deliver(db, issue_event("opened", labels=["bug"]), now=hours(0))
    if not allowed:
        with pytest.raises(CommandRefused, match="only triagers and maintainers"):
            await run_command(db, ("pause",), user, hours(2))
        return
    actions = await run_command(db, ("pause",), user, hours(2))
    assert any(isinstance(a, Record) and a.op == "open_pause" for a in actions)
    [c] = await store.clocks(db, REPO)
    assert sla.state(c.clock, hours(100)) == sla.PAUSED
    await run_command(db, ("resume",), user, hours(12))
    [c] = await store.clocks(db, REPO)
    assert sla.counted(c.clock, hours(20)) == 10 * 3600
    [reply] = await run_command(db, ("status",), "visitor", hours(20))
    assert "| 10.0 h |" in reply.body  # paused time


async def test_unknown_subcommand_gets_usage(db):
    with pytest.raises(CommandError, match="usage"):
        await run_command(db, ("stop",), "maint", hours(1))


async def test_figures(db):
    # 1: answered in 5 h; 2: answered in 80 h (missed); 3: open, past due; 4: open, inside its
    # window (left out of the share); 5: a PR policy item answered in 1 h; 6: before the window.
    rules = bundled_rules({"sla": {"policies": [{"name": "bugs", "kinds": ["bug"]},
                                                {"name": "prs", "item_types": ["pull_request"]}]}})
    for n in (1, 2, 3):
        await deliver(db, issue_event("opened", number=n, labels=["bug"]), now=hours(0), rules=rules)
    await deliver(db, comment_event(number=1, user="maint", at=hours(5)), now=hours(5), rules=rules)
    await deliver(db, comment_event(number=2, user="maint", at=hours(80)), now=hours(80), rules=rules)
    await FEATURE.writers["start_clock"](db, repo=REPO, number=4, policy="bugs", started_at=hours(90).timestamp(),
                                         target=72 * 3600.0, warn=48 * 3600.0)
    await deliver(db, issue_event("opened", number=5, pr=True), now=hours(0), rules=rules)
    await deliver(db, comment_event(number=5, user="triage", at=hours(1)), now=hours(1), rules=rules)
    await FEATURE.writers["start_clock"](db, repo=REPO, number=6, policy="bugs",
                                         started_at=(T0 - timedelta(days=30)).timestamp(),
                                         target=72 * 3600.0, warn=48 * 3600.0)
    figures = await sla_figures(db, REPO, T0 - timedelta(days=1), T0 + timedelta(days=7), hours(100))
    bugs = figures["policies"]["bugs"]
    assert bugs["items"] == 4 and bugs["answered"] == 2
    assert bugs["first_response_p50_hours"] == pytest.approx(42.5)
    assert bugs["first_response_p90_hours"] == pytest.approx(72.5)
    assert (bugs["windows_ended"], bugs["within_target"], bugs["within_target_share"]) == (3, 1, 0.33)
    assert bugs["breaches"] == 2
    assert bugs["open_past_due"] == 2  # 3, and 6 which started before the window
    assert bugs["target_hours"] == 72
    prs = figures["policies"]["prs"]
    assert (prs["items"], prs["within_target_share"], prs["first_response_p50_hours"]) == (1, 1.0, 1.0)
    assert figures["all"]["items"] == 5
    md = to_markdown(figures)
    assert "| bugs | 72.0 h | 4 | 2 | 42.5 h | 72.5 h | 33% (1/3) | 2 | 2 |" in md


async def test_the_report_command_finds_the_repository_however_its_name_is_typed(tmp_path):
    """GitHub's names ignore case; an operator's typing may too. The figures are the stored
    repository's, titled with its name as GitHub spells it."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from bot.runtime import load_features, migration_namespaces
    from bot.store import state
    from bot.store.db import connect
    from bot.store.migrate import migrate

    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    db = await connect(url)
    try:
        await migrate(db, migration_namespaces(load_features()))
        await state.remember_installation(db, REPO, 1)
        await deliver(db, issue_event("opened", number=1, labels=["bug"]), now=hours(0))
    finally:
        await db.close()
    out = subprocess.run(
        [sys.executable, "-m", "bot", "sla", "report", "--repo", REPO.upper(), "--format", "json",
         "--since", (T0 - timedelta(days=1)).isoformat(), "--until", (T0 + timedelta(days=7)).isoformat()],
        cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert (figures["repo"], figures["all"]["items"]) == (REPO, 1)

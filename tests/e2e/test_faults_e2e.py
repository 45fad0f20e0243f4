"""Fault injection: the fake GitHub answers a share of calls with 502, 429 and secondary-limit
403 with Retry-After, stalls some, or (second case) applies a change and loses the answer.
Every delivery ends done, or dead after the configured attempts and then re-runnable; nothing
is created twice; nothing is sent before Retry-After has passed."""
from __future__ import annotations

import pytest

from bot.store import deliveries
from tests.conftest import BOTH_BACKENDS

from . import fault_scenario as scenario
from .harness import BotHarness

N = 15


def expected_effects(fake, items) -> list[str]:
    """What the workload must have left on GitHub once every delivery is done."""
    missing = []
    shas = {r.head_sha for r in fake.state.check_runs.values()}
    for event, did, payload in items:
        if event == "push" and payload["after"] not in shas:
            missing.append(f"{did}: no check run")
        elif event == "pull_request":
            issue = fake.issue(scenario.REPO, payload["number"])
            if not any(c.user == fake.bot_login for c in issue.comments):
                missing.append(f"{did}: no card")
        elif event == "issue_comment":
            issue = fake.issue(scenario.REPO, payload["issue"]["number"])
            if "bug" not in [label.lower() for label in issue.labels]:
                missing.append(f"{did}: not labelled")
    return missing


@BOTH_BACKENDS
@pytest.mark.timeout(240)
@pytest.mark.parametrize("lost_answers", [False, True], ids=["errors-and-limits", "lost-answers"])
async def test_every_delivery_ends_done_once_under_faults(fake_github, database_url, lost_answers):
    fake = fake_github
    scenario.setup(fake, max_attempts=3)
    watch = scenario.RetryAfterWatch()
    async with BotHarness(fake, database_url=database_url) as bot:
        watch.attach(bot.runtime.session)
        items = scenario.workload(fake, N)
        fake.faults.configure(share=0.2, kinds=("502", "429", "secondary_403"), retry_after=1,
                              stall_share=0.1, stall_seconds=0.5, seed=11,
                              after_effect=lost_answers)
        for event, delivery_id, payload in items:
            await bot.deliver(event, payload, delivery_id=delivery_id, wait=False)
        await bot.settle(timeout=180)
        rows = await deliveries.listing(bot.runtime.db, limit=1000)
        first = scenario.figures(fake, rows, watch)
        assert first.done + first.dead == N, first.line()
        assert first.faults_injected > 5
        if not lost_answers:
            assert {"502", "429", "secondary_403"} <= set(fake.faults.injected)
        # The dead ones are re-runnable once GitHub is healthy again.
        fake.faults.off()
        assert await deliveries.requeue(bot.runtime.db, dead=True) == first.dead
        await bot.settle(timeout=60)
        rows = await deliveries.listing(bot.runtime.db, limit=1000)
    final = scenario.figures(fake, rows, watch)
    scenario.forget_in_flight(fake)
    assert final.done == N, final.line()
    assert final.duplicates == 0, final.detail
    assert final.retry_after_violations == 0, final.detail
    assert watch.requests > 60
    assert expected_effects(fake, items) == []

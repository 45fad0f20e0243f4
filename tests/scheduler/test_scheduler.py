"""Periodic jobs run once per period, across replicas and restarts, on both back ends."""
from __future__ import annotations

import pytest

from bot.scheduler import claim_period, finish_period, period_key


async def test_one_claim_per_period_among_replicas(db):
    key = period_key(300, 1_000_000.0)
    assert await claim_period(db, "sweep", key, "replica-a", now=1_000_000.0)
    assert not await claim_period(db, "sweep", key, "replica-b", now=1_000_001.0)
    assert not await claim_period(db, "sweep", key, "replica-a", now=1_000_002.0)
    # The next period is a new claim.
    nxt = period_key(300, 1_000_300.0)
    assert nxt != key and await claim_period(db, "sweep", nxt, "replica-b", now=1_000_300.0)


async def test_a_dead_holders_period_is_taken_over_after_its_lease(db):
    key = "42"
    assert await claim_period(db, "report", key, "a", now=100.0, lease=60.0)
    assert not await claim_period(db, "report", key, "b", now=150.0, lease=60.0)
    assert await claim_period(db, "report", key, "b", now=161.0, lease=60.0)
    await finish_period(db, "report", key, "ok")
    # Finished: nobody runs it again, even after the lease.
    assert not await claim_period(db, "report", key, "c", now=10_000.0)


def test_period_keys_are_stable_within_a_period():
    assert period_key(3600, 7200.0) == period_key(3600, 10_799.9) != period_key(3600, 10_800.0)


@pytest.mark.parametrize("fails", [False, True])
async def test_what_a_job_writes_under_a_name_renamed_while_it_ran_follows_the_repository(db, fails):
    """The job read octo/old; the rename (a delivery of another subject) moved the rows while it
    ran; its actions were still written under octo/old. After the job they are under octo/new,
    also when the run then fails (GitHub down for a later action): its period is tried again
    only after its lease, later than the retry's follow step looks back."""
    from datetime import timedelta
    from types import SimpleNamespace

    from bot.core.actions import Note
    from bot.executor import Executor
    from bot.features.base import JobSpec
    from bot.github import TransientGitHubError
    from bot.runtime import load_features
    from bot.scheduler import run_job
    from bot.store import renames, repo_names, state
    from tests.store.test_repo_renames import NEW, OLD, REPO_ID, event

    decl = renames.Declarations.of([repo_names.CORE, *(f.repo_names for f in load_features() if f.repo_names)])
    await repo_names.resolve(db, decl, event(OLD), received_at=100.0)

    async def sweep(jctx):
        read_as = await repo_names.current_name(db, REPO_ID)
        await repo_names.resolve(db, decl, event(NEW, updated_at="2026-03-02T10:00:00Z"), received_at=200.0)
        return [Note(repo=read_as, number=5, feature="sla", text="clock paused")]

    class FailsAfterwards(Executor):
        async def run(self, **kw):
            await super().run(**kw)
            raise TransientGitHubError("gave up after 1 attempts: 502", status=502)

    async def no_repos():
        return []

    runtime = SimpleNamespace(db=db, bot_login="bot", repo_handles=no_repos, name_columns=decl,
                              executor=(FailsAfterwards if fails else Executor)(
                                  db, api_for=None, dry_run=True, features={}, bot_login="bot"))
    job = JobSpec("sweep", timedelta(minutes=5), sweep)
    if fails:
        with pytest.raises(TransientGitHubError):
            await run_job(runtime, job, key="1")
    else:
        assert await run_job(runtime, job, key="1") == 1
    assert [d["summary"] for d in await state.decisions_for(db, NEW, 5)] == ["clock paused"]
    assert await state.decisions_for(db, OLD, 5) == []

"""A delivery retried after its repository was renamed: its second attempt is decided under the
new name (store/repo_names.py), yet the executor must still skip what the first attempt did
and find what it posted. Against the fake GitHub over real HTTP; the pipeline passes
``hashed_as`` = {processed-as: came-with} (tests/e2e/test_repo_rename_e2e.py covers that end)."""
from __future__ import annotations

import hashlib
import json

import pytest_asyncio

from bot.core import actions as A
from bot.executor import fingerprint, place
from bot.github import TransientGitHubError
from bot.runtime import open_runtime
from bot.store import state
from tests.conftest import BOTH_BACKENDS
from tests.helpers import app_settings

from .test_lost_answers import LosesAnswers, executor

REPO = "octo/old"
NEW = "octo/new"
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest_asyncio.fixture
async def rt(fake_github, database_url):
    fake_github.add_repo(REPO)
    async with open_runtime(app_settings(fake_github, database_url)) as runtime:
        yield runtime


def decided(repo: str, number: int, body: str = "Done.") -> list[tuple[str, list[A.Action]]]:
    """A /command's batch as a handler decides it under ``repo``."""
    return [("commands.handle", [A.Comment(repo=repo, number=number, body=body),
                                 A.AddLabels(repo=repo, number=number, labels=("triaged",))])]


@BOTH_BACKENDS  # the ledger is in the store
async def test_a_reply_posted_before_a_rename_is_not_posted_again_by_the_retry(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    # The first attempt posts the reply; its answer is lost (a 502 after GitHub acted).
    ex = executor(rt, lambda api: LosesAnswers(api, lambda kind, what: what == COMMENTS))
    # A reply that names the repository: worded otherwise by the retry, found by its place.
    try:
        await ex.run(delivery_id="d1", installation_id=1, batches=decided(REPO, issue.number, f"In {REPO}."))
    except TransientGitHubError:
        pass
    else:
        raise AssertionError("the lost answer should have made the attempt transient")
    assert len(fake_github.issue(REPO, issue.number).comments) == 1

    fake_github.rename_repo(REPO, NEW)
    retry = executor(rt, lambda api: api)
    out = await retry.run(delivery_id="d1", installation_id=1, batches=decided(NEW, issue.number, f"In {NEW}."),
                          retrying=True, hashed_as={NEW: REPO})
    comments = fake_github.issue(NEW, issue.number).comments
    assert len(comments) == 1 and "In octo/old." in comments[0].body
    assert fake_github.issue(NEW, issue.number).labels == ["triaged"]
    assert out.failed == []


@BOTH_BACKENDS
async def test_what_the_first_attempt_did_is_skipped_by_the_ledger_after_a_rename(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    # The reply goes out; adding the label fails transiently (nothing applied).
    ex = executor(rt, lambda api: LosesAnswers(api, lambda kind, what: what.endswith("/labels"), applied=False))
    try:
        await ex.run(delivery_id="d2", installation_id=1, batches=decided(REPO, issue.number))
    except TransientGitHubError:
        pass
    fake_github.rename_repo(REPO, NEW)
    posted = len(fake_github.calls)
    out = await executor(rt, lambda api: api).run(
        delivery_id="d2", installation_id=1, batches=decided(NEW, issue.number), retrying=True,
        hashed_as={NEW: REPO})
    assert len(out.skipped) == 1 and len(out.done) == 1
    # Skipped from the ledger: not even a look for the comment's marker.
    assert not [c for c in fake_github.calls[posted:] if c.template == COMMENTS]
    assert len(fake_github.issue(NEW, issue.number).comments) == 1
    assert await state.bot_labels(rt.db, NEW, issue.number) == {"triaged"}


def test_without_a_rename_fingerprints_and_places_are_what_they_were():
    """A delivery in flight across the upgrade keeps its ledger: nothing renamed, nothing
    hashed differently."""
    action = A.Comment(repo=REPO, number=5, body="hi")
    raw = json.dumps(["d1", "commands.handle", 0, action.to_dict()], sort_keys=True, default=str)
    assert fingerprint("d1", "commands.handle", 0, action) == hashlib.sha256(raw.encode()).hexdigest()[:32]
    assert fingerprint("d1", "commands.handle", 0, action, None) == fingerprint("d1", "commands.handle", 0, action)
    raw = json.dumps(["d1", "commands.handle", "Comment", [REPO, 5], 0], default=str)
    assert place("d1", "commands.handle", action, 0) == hashlib.sha256(raw.encode()).hexdigest()[:32]
    # After a rename, the name it came with: the same as before it.
    renamed = A.Comment(repo=NEW, number=5, body="hi")
    assert fingerprint("d1", "commands.handle", 0, renamed, {NEW: REPO}) == fingerprint("d1", "commands.handle", 0, action)
    assert place("d1", "commands.handle", renamed, 0, {NEW: REPO}) == place("d1", "commands.handle", action, 0)


# --- a periodic job retried after a rename ----------------------------------------------------

async def _known_as(rt, repo_id: int, full_name: str, received_at: float, updated_at: str) -> None:
    """The bot learns the repository's name from a delivery (store/repo_names.py)."""
    from bot.store import repo_names
    from tests.store.test_repo_renames import event

    await repo_names.resolve(rt.db, rt.name_columns, event(full_name, repo_id=repo_id, updated_at=updated_at),
                             received_at)


def reminder_job(number: int):
    """A job that reminds on ``number`` in whatever the installed repository is called now
    (as the SLA sweep, the CLA re-check or the agenda read their repositories)."""
    from datetime import timedelta

    from bot.features.base import JobSpec

    async def remind(jctx):
        (row,) = await state.installations(jctx.db)
        return [A.Comment(repo=row["repo"], number=number, body="A reminder."),
                A.AddLabels(repo=row["repo"], number=number, labels=("stale",))]

    return JobSpec("reminder", timedelta(minutes=15), remind)


@BOTH_BACKENDS
async def test_a_job_retried_after_a_rename_does_not_repeat_what_its_first_attempt_did(rt, fake_github):
    from bot.scheduler import run_job

    repo = fake_github.repo(REPO)
    issue = fake_github.add_issue(REPO)
    await _known_as(rt, repo.id, REPO, 100.0, "2026-03-01T10:00:00Z")
    await state.remember_installation(rt.db, REPO, 1)
    job = reminder_job(issue.number)
    # The first attempt posts the reminder; adding the label fails transiently (not applied).
    rt.executor = executor(rt, lambda api: LosesAnswers(api, lambda kind, what: what.endswith("/labels"),
                                                        applied=False))
    try:
        await run_job(rt, job, key="7")
    except TransientGitHubError:
        pass
    else:
        raise AssertionError("the label's failure should have made the run transient")
    # Renamed before the period is tried again: the retry reads the new name.
    fake_github.rename_repo(REPO, NEW)
    await _known_as(rt, repo.id, NEW, 200.0, "2026-03-02T10:00:00Z")
    rt.executor = executor(rt, lambda api: api)
    await run_job(rt, job, key="7")
    (comment,) = fake_github.issue(NEW, issue.number).comments
    assert comment.body.startswith("A reminder.")
    assert fake_github.issue(NEW, issue.number).labels == ["stale"]

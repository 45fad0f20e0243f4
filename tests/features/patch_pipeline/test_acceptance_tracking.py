"""Acceptance (issue 7): only the run the bot dispatched counts as the pipeline.

A pull request can change the pipeline's workflow file so that it also runs on
``pull_request`` (for a fork, GitHub takes the workflow from the PR's merge commit), with jobs
named like the stages that just succeed. Such a run has the PR's head SHA as its own head; it
must not be linked to the pipeline, or a green ``patch-pipeline`` check would mean nothing.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.features.patch_pipeline import handlers
from bot.features.patch_pipeline.store import run_for_head

from .conftest import HEAD, NOW, REPO, Repo, apply_records, context, of, pr_payload, rules, workflow_run_payload
from tests.signing.cosign_fake import sig_file

PATCH = "patches/kernel/0001-fix.patch"
DATA = b"Subject: [PATCH] fix\n"


@pytest.fixture
def repo(key) -> Repo:
    r = Repo()
    r.put(HEAD, PATCH, DATA)
    r.put(HEAD, PATCH + ".sig", sig_file(key, DATA))
    r.pr_files[7] = [PATCH, PATCH + ".sig"]
    return r


async def send(db, repo, rule_set, event, payload, handler, at=NOW):
    ev, ctx = context(event, payload, db=db, repo=repo, rules=rule_set, now=at)
    actions = await handler(ev, ctx)
    await apply_records(db, actions)
    return actions


@pytest.mark.parametrize("trigger_event", ["pull_request", "pull_request_target", "push"])
async def test_a_pull_request_triggered_run_of_the_same_workflow_is_not_the_pipeline(db, repo, key,
                                                                                   trigger_event):
    rule_set = rules(key)
    dispatched = await send(db, repo, rule_set, "pull_request", pr_payload("opened"), handlers.on_pull_request)
    assert of(dispatched, "DispatchWorkflow")

    forged = workflow_run_payload("completed", run_id=999, status="completed", conclusion="success")
    forged["workflow_run"].update(event=trigger_event, head_sha=HEAD, display_title="innocent title")
    actions = await send(db, repo, rule_set, "workflow_run", forged, handlers.on_workflow_run,
                         at=NOW + timedelta(seconds=30))
    assert not [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-pipeline"]
    _, run = await run_for_head(db, REPO, HEAD)
    assert run.run_id is None  # still waiting for the dispatched run


async def test_the_dispatched_run_is_still_followed(db, repo, key):
    rule_set = rules(key)
    await send(db, repo, rule_set, "pull_request", pr_payload("opened"), handlers.on_pull_request)
    actions = await send(db, repo, rule_set, "workflow_run", workflow_run_payload("requested", run_id=42),
                         handlers.on_workflow_run, at=NOW + timedelta(seconds=5))
    assert [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-pipeline"]
    _, run = await run_for_head(db, REPO, HEAD)
    assert run.run_id == 42

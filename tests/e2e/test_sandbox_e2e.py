"""Sandbox deployments end to end: the real bot over real HTTP against the fake GitHub, which
validates every REST call (deployments and compare included) against GitHub's OpenAPI
description. The payloads are GitHub's vendored examples (``pull_request``, ``push``,
``deployment_status``), each checked against GitHub's schema for its event where one is kept."""
from __future__ import annotations

import asyncio
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.features import all_features
from bot.features.sandbox import FEATURE as SANDBOX
from bot.rules.registry import sections_of
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub import validate
from tests.fakegithub.state import now_iso
from tests.fixtures.webhooks import load_example

from .harness import BotHarness, retarget

REPO = "octo/site"
MARKER = "<!-- contributor-flow:context-card -->"
EDIT_URL = "/repos/{owner}/{repo}/issues/comments/{comment_id}"
DEPLOYMENTS = "/repos/{owner}/{repo}/deployments"
SANDBOX_URL = "https://sandbox.example.org/"
[CARDS_JOB] = SANDBOX.jobs


def write_rules(directory: Path, **sandbox) -> str:
    """Core, a one-component card and the sandbox section on; every other feature off, so the
    calls counted here are the sandbox's and the card's."""
    directory.mkdir(exist_ok=True)
    (directory / "core.yml").write_text((Path(BUNDLED_RULES) / "core.yml").read_text())
    (directory / "components.yml").write_text(yaml.safe_dump({
        "components": [{"name": "site", "paths": ["site/"], "owners": ["erin"]}], "codeowners": False,
        "reviewers": {"enabled": False}, "labels": {"enabled": False}}))
    (directory / "sandbox.yml").write_text(yaml.safe_dump({"enabled": True, **sandbox}))
    for section in sections_of(all_features()):
        if section.name not in ("core", "components", "sandbox"):
            (directory / f"{section.name}.yml").write_text("enabled: false\n")
    return str(directory)


@pytest.fixture
async def bot(fake_github, database_url, tmp_path):
    fake_github.add_repo(REPO)
    for login in ("alice", "bob", "erin"):
        fake_github.add_user(login)
    async with BotHarness(fake_github, database_url=database_url,
                          rules_dir=write_rules(tmp_path / "rules", create=True)) as harness:
        yield harness


def github_shape(payload: dict, schema: str) -> dict:
    """The payload as GitHub's schema ``schema`` has it, or the test fails."""
    root = {"$ref": f"#/components/schemas/{schema}", "components": validate._components()}
    errors = [e.message for e in jsonschema.Draft4Validator(root).iter_errors(payload)]
    assert not errors, errors[:3]
    return payload


def pr_payload(fake, number: int, action: str) -> dict:
    issue = fake.issue(REPO, number)
    payload = retarget(load_example("pull_request", action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(issue)
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
    payload["number"] = number
    payload["sender"] = fake.serializer.user(issue.user)
    return payload


async def opened(bot, user: str) -> int:
    """A pull request opened (its card posted)."""
    issue = bot.fake.add_pull(REPO, user=user, files=["site/index.html"])
    await bot.deliver("pull_request", pr_payload(bot.fake, issue.number, "opened"))
    return issue.number


async def merge(bot, number: int) -> str:
    """Merge on the fake (a new commit on main, the pull request's merge commit) and deliver
    ``closed`` as GitHub would; the merge commit's sha."""
    fake = bot.fake
    issue = fake.issue(REPO, number)
    commit = fake.commit_on_branch(REPO, "main", f"Merge pull request #{number}")
    issue.state, issue.closed_at = "closed", now_iso()
    issue.pull.merged, issue.pull.merged_at, issue.pull.merged_by = True, issue.closed_at, "bob"
    issue.pull.merge_commit_sha = commit.sha
    await bot.deliver("pull_request", pr_payload(fake, number, "closed"))
    return commit.sha


def push_payload(fake, sha: str, **changes) -> dict:
    payload = retarget(load_example("push"), REPO, fake)
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
    payload.update({"ref": "refs/heads/main", "before": "0" * 40, "after": sha, "deleted": False,
                    "created": False, **changes})
    return payload


def status_payload(fake, *, deployment_id: int, status_id: int, sha: str, state: str,
                   environment: str = "sandbox", **status) -> dict:
    payload = retarget(load_example("deployment_status", "created"), REPO, fake)
    payload["deployment"].update(id=deployment_id, sha=sha, ref="main", environment=environment)
    payload["deployment_status"].update(id=status_id, state=state, environment=environment, **status)
    return github_shape(payload, "webhook-deployment-status-created")


def card(fake, number: int) -> str:
    [found] = [c.body for c in fake.issue(REPO, number).comments if MARKER in c.body]
    return found


def sandbox_line(fake, number: int) -> str:
    return next(line for line in card(fake, number).splitlines() if "Sandbox:" in line)


async def cards_job(bot, key: str) -> None:
    await run_job(bot.runtime, CARDS_JOB, key=key)


def test_the_payloads_have_githubs_shape():
    github_shape(load_example("deployment_status", "created"), "webhook-deployment-status-created")
    with pytest.raises(AssertionError):
        bad = load_example("deployment_status", "created")
        bad["deployment_status"]["state"] = 7
        github_shape(bad, "webhook-deployment-status-created")


@BOTH_BACKENDS
async def test_merged_changes_learn_on_their_card_when_they_are_live(bot):
    fake = bot.fake
    first, second = await opened(bot, "alice"), await opened(bot, "bob")
    c1 = await merge(bot, first)
    c2 = await merge(bot, second)          # on top of c1: includes it
    await cards_job(bot, "t1")
    assert sandbox_line(fake, first) == f"- Sandbox: waiting for a deployment that includes `{c1[:7]}`"
    assert sandbox_line(fake, second) == f"- Sandbox: waiting for a deployment that includes `{c2[:7]}`"

    # The project deployed c1 by itself (its own workflow): c1 is live, c2 not included.
    await bot.deliver("deployment_status", status_payload(
        fake, deployment_id=7001, status_id=9001, sha=c1, state="success", environment="Sandbox",
        environment_url=SANDBOX_URL, created_at="2026-11-28T10:00:00Z"))
    await cards_job(bot, "t2")
    assert sandbox_line(fake, first) == (f"- Sandbox: live at [{SANDBOX_URL}]({SANDBOX_URL}) since"
                                         f" 2026-11-28 10:00 UTC (deployment of `{c1[:7]}`)")
    assert sandbox_line(fake, second) == f"- Sandbox: waiting for a deployment that includes `{c2[:7]}`"

    # c2 fails, with its log; then the next deployment of c2 succeeds.
    await bot.deliver("deployment_status", status_payload(
        fake, deployment_id=7002, status_id=9002, sha=c2, state="failure",
        log_url="https://github.com/octo/site/actions/runs/5", created_at="2026-11-28T11:00:00Z"))
    await cards_job(bot, "t3")
    assert sandbox_line(fake, second) == (
        f"- Sandbox: the deployment of `{c2[:7]}` failed ([log](https://github.com/octo/site/actions/runs/5));"
        f" waiting for the next deployment that includes `{c2[:7]}`")
    await bot.deliver("deployment_status", status_payload(
        fake, deployment_id=7003, status_id=9003, sha=c2, state="success",
        environment_url="javascript:alert(1)", created_at="2026-11-28T12:00:00Z"))
    await cards_job(bot, "t4")
    assert sandbox_line(fake, second) == f"- Sandbox: live since 2026-11-28 12:00 UTC (deployment of `{c2[:7]}`)"
    assert f"(deployment of `{c1[:7]}`)" in sandbox_line(fake, first)   # stopped waiting: left alone

    # An older deployment's statuses, delivered late, change no card.
    edited = len(fake.calls_to("PATCH", EDIT_URL))
    for status_id, state in ((9004, "failure"), (9005, "success")):
        await bot.deliver("deployment_status", status_payload(
            fake, deployment_id=7002, status_id=status_id, sha=c2, state=state, created_at="2026-11-28T13:00:00Z"))
    await cards_job(bot, "t5")
    assert len(fake.calls_to("PATCH", EDIT_URL)) == edited
    # Quiet: one card per pull request, edited in place; no other comment, no label.
    for number in (first, second):
        assert len(fake.issue(REPO, number).comments) == 1 and fake.issue(REPO, number).labels == []
    # Deployments deployed by the project itself: the bot created none for statuses.
    assert fake.calls_to("POST", DEPLOYMENTS) == []


@BOTH_BACKENDS
async def test_a_push_creates_exactly_one_deployment_even_when_its_answer_is_lost(bot):
    fake = bot.fake
    number = await opened(bot, "alice")
    head = await merge(bot, number)
    # The create lands, and its answer is lost (a 502): the delivery is retried, and the retry
    # finds the deployment instead of creating a second.
    fake.faults.configure(share=1.0, kinds=("502",), only_methods=("POST",), after_effect=True)
    delivery = await bot.deliver("push", push_payload(fake, head), wait=False)
    for _ in range(500):
        if fake.state.deployments:
            break
        await asyncio.sleep(0.01)
    fake.faults.off()
    assert await bot.wait_for(delivery) == "done"
    assert fake.faults.injected and len(fake.calls_to("POST", DEPLOYMENTS)) == 1
    # The same push again (a delivery re-run, or recovered under another id): nothing new.
    await bot.deliver("push", push_payload(fake, head))
    [made] = fake.state.deployments.values()
    assert (made.sha, made.environment, made.production_environment, made.transient_environment) == \
        (head, "sandbox", False, False)
    assert made.payload["requested_by"] == "contributor-flow" and made.creator == fake.bot_login
    [create] = fake.calls_to("POST", DEPLOYMENTS)
    assert create.json["auto_merge"] is False and create.json["required_contexts"] == []
    # A branch deleted, another branch, a tag: no deployment.
    for changes in ({"deleted": True, "after": "0" * 40}, {"ref": "refs/heads/feature"},
                    {"ref": "refs/tags/v1"}):
        await bot.deliver("push", push_payload(fake, head, **changes))
    assert len(fake.state.deployments) == 1
    # The deployment's own success (GitHub Actions reporting it) makes the pull request live.
    await bot.deliver("deployment_status", status_payload(
        fake, deployment_id=made.id, status_id=made.id + 1, sha=head, state="success",
        environment_url=SANDBOX_URL, created_at="2026-11-28T10:00:00Z"))
    await cards_job(bot, "t1")
    assert sandbox_line(fake, number).startswith(f"- Sandbox: live at [{SANDBOX_URL}]({SANDBOX_URL})")

"""Merge queue end to end: the real bot over real HTTP against the fake GitHub, which validates
every REST call (check runs on the group commit included) against GitHub's OpenAPI description.

The merge_group payloads are GitHub's vendored example (tests/fixtures/VENDORED.md); the package
has none for ``destroyed``, so that one is derived from it, and every payload delivered here is
first checked against GitHub's schema for its action."""
from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.features import merge_queue
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub import validate
from tests.fakegithub.builders import fake_sha
from tests.fixtures.webhooks import load_example
from tests.signing.cosign_fake import KeyPair, sig_file

from .harness import BotHarness, retarget

REPO = "octo/queue"
PHRASE = "I have read the CLA Document and I hereby sign the CLA"
CONFIG = ".github/contributor-flow.yml"
PATCH = "patches/kernel/0001-fix.patch"
WORKFLOW = "patch-pipeline.yml"
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
CHECK_RUN = "/repos/{owner}/{repo}/check-runs/{check_run_id}"


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair()


@pytest.fixture
def rules_dir(tmp_path, key) -> str:
    """The bundled core, cla and merge_queue rules; pipeline trusting one cosign key."""
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "cla.yml", "merge_queue.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    pipeline = yaml.safe_load((Path(BUNDLED_RULES) / "pipeline.yml").read_text())
    pipeline["trust"].update(keys=[{"name": "kernel-release", "pem": key.public_pem}])
    (out / "pipeline.yml").write_text(yaml.safe_dump(pipeline))
    return str(out)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_workflow(REPO, WORKFLOW, name="Patch pipeline")
    for login in ("alice", "bob"):
        fake_github.add_user(login)
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def github_shape(payload: dict, action: str) -> dict:
    """The payload as GitHub's schema for ``merge_group.<action>`` has it, or the test fails."""
    root = {"$ref": f"#/components/schemas/webhook-merge-group-{action.replace('_', '-')}",
            "components": validate._components()}
    errors = [e.message for e in jsonschema.Draft4Validator(root).iter_errors(payload)]
    assert not errors, errors
    return payload


def test_the_payloads_have_githubs_shape():
    vendored = load_example("merge_group", "checks_requested")
    github_shape(vendored, "checks_requested")
    github_shape(dict(vendored, action="destroyed", reason="dequeued"), "destroyed")
    with pytest.raises(AssertionError):
        github_shape(dict(vendored, action="destroyed", reason="exploded"), "destroyed")


def group_event(fake, number: int, group_sha: str, action: str = "checks_requested") -> dict:
    """GitHub's example, for a group of pull request ``number`` stacked on main's head."""
    payload = retarget(load_example("merge_group", "checks_requested"), REPO, fake)
    payload["action"] = action
    if action == "destroyed":
        payload["reason"] = "merged"
    stacked_on = fake.repo(REPO).branches.get("main") or fake_sha(REPO, "main")
    group = payload["merge_group"]
    group.update(head_sha=group_sha, head_ref=f"refs/heads/gh-readonly-queue/main/pr-{number}-{stacked_on}",
                 base_sha=stacked_on, base_ref="refs/heads/main")
    group["head_commit"]["id"] = group_sha
    return github_shape(payload, action)


def pr_event(fake, pr, action: str = "opened") -> dict:
    payload = retarget(load_example("pull_request", action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(pr)
    payload["number"] = pr.number
    payload["sender"] = fake.serializer.user(pr.user)
    return payload


def checks_on(fake, sha: str) -> dict[str, object]:
    """The latest check run of each name on a commit."""
    latest = {}
    for run in sorted(fake.state.check_runs.values(), key=lambda r: r.id):
        if run.head_sha == sha:
            latest[run.name] = run
    return latest


def created_on(fake, sha: str) -> list[str]:
    return [c.json["name"] for c in fake.calls_to("POST", CHECK_RUNS) if c.json["head_sha"] == sha]


def writes(fake) -> list[str]:
    return [f"{c.method} {c.template}" for c in fake.calls if c.method != "GET"]


async def signed_pull(bot, user: str = "alice", **kw):
    fake = bot.fake
    pr = fake.add_pull(REPO, user=user, head_ref=kw.pop("head_ref", f"work-{user}"),
                       commits=[{"message": "Work", "author": user}], **kw)
    await bot.deliver("pull_request", pr_event(fake, pr))
    await bot.comment(REPO, pr.number, PHRASE, user)
    assert checks_on(fake, pr.pull.head_sha)["cla"].conclusion == "success"
    return pr


async def follow(bot, key: str) -> int:
    [job] = merge_queue.FEATURE.jobs
    return await run_job(bot.runtime, job, key=key)


@BOTH_BACKENDS
async def test_a_signed_pull_request_queued_passes_its_cla_on_the_group_once(bot):
    fake = bot.fake
    pr = await signed_pull(bot)
    group = fake_sha("group", pr.number)
    before = writes(fake)
    labels, comments = set(pr.labels), len(pr.comments)

    delivery = await bot.deliver("merge_group", group_event(fake, pr.number, group))
    [run] = checks_on(fake, group).values()
    assert (run.name, run.status, run.conclusion) == ("cla", "completed", "success")
    assert run.output["title"] == "Everyone has signed the CLA"
    assert f"#{pr.number} at `{pr.pull.head_sha[:7]}`" in run.output["summary"]
    assert run.external_id == "contributor-flow:cla"
    # checks only: no comment, no label, nothing else written
    assert writes(fake)[len(before):] == [f"POST {CHECK_RUNS}"]
    assert set(pr.labels) == labels and len(pr.comments) == comments

    # GitHub redelivers the same delivery: acknowledged, not processed again
    await bot.deliver("merge_group", group_event(fake, pr.number, group), delivery_id=delivery)
    # the queue asks again (a new delivery): the same run is updated in place
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    assert created_on(fake, group) == ["cla"]
    assert len(checks_on(fake, group)) == 1 and checks_on(fake, group)["cla"].conclusion == "success"
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_missing_or_failing_cla_verdict_fails_the_group(bot):
    fake = bot.fake
    # bob never signed: signing is what is left, on the group as on the pull request
    unsigned = fake.add_pull(REPO, user="bob", head_ref="bob", commits=[{"message": "x", "author": "bob"}])
    await bot.deliver("pull_request", pr_event(fake, unsigned))
    await bot.deliver("merge_group", group_event(fake, unsigned.number, fake_sha("g", 1)))
    run = checks_on(fake, fake_sha("g", 1))["cla"]
    assert (run.conclusion, run.output["title"]) == ("action_required", "1 person needs to sign the CLA")
    assert "`bob`" in run.output["summary"] and "@bob" not in run.output["summary"]

    # alice's pull request moved on to a head the bot never checked (its delivery was lost)
    moved = await signed_pull(bot)
    fake.push_commit(moved, fake_sha("pushed", moved.number))
    await bot.deliver("merge_group", group_event(fake, moved.number, fake_sha("g", 2)))
    run = checks_on(fake, fake_sha("g", 2))["cla"]
    assert (run.conclusion, run.output["title"]) == ("failure", "No verdict for the queued head")

    # a branch naming no pull request the bot can use: a failure, never a wait
    await bot.deliver("merge_group", group_event(fake, 999, fake_sha("g", 3)))
    run = checks_on(fake, fake_sha("g", 3))["cla"]
    assert (run.conclusion, run.output["title"]) == ("failure", "Pull request #999 not found")
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_cla_verdict_changing_while_queued_is_followed_until_the_group_is_destroyed(bot):
    fake = bot.fake
    pr = await signed_pull(bot)
    group = fake_sha("group", pr.number)
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    assert checks_on(fake, group)["cla"].conclusion == "success"
    assert await follow(bot, "1") == 0            # nothing changed, nothing sent

    async def raise_version(version: str, i: int) -> None:
        fake.put_file(REPO, CONFIG, f"cla:\n  version: '{version}'\n")
        push = retarget(load_example("push"), REPO, fake)
        push.update(ref="refs/heads/main", after=f"{i:040x}",
                    commits=[{"id": f"{i:040x}", "added": [], "removed": [], "modified": [CONFIG]}])
        push["repository"]["default_branch"] = "main"
        await bot.deliver("push", push)

    await raise_version("2", 1)                   # everyone must sign again
    assert await follow(bot, "2") > 0
    run = checks_on(fake, group)["cla"]
    assert (run.conclusion, run.output["title"]) == ("action_required", "1 person needs to sign the CLA")
    assert "`alice` (signed version 1)" in run.output["summary"]
    assert created_on(fake, group) == ["cla"]     # the same run, updated in place

    await bot.deliver("merge_group", group_event(fake, pr.number, group, "destroyed"))
    assert await bot.status(await bot.deliver("merge_group", group_event(fake, pr.number, group, "destroyed"))) == "done"
    calls = len(fake.calls)
    await raise_version("3", 2)
    sent = len(fake.calls)
    await follow(bot, "3")
    assert not [c for c in fake.calls[sent:] if c.template in (CHECK_RUNS, CHECK_RUN)]
    # the queue's checks_requested arriving late (redelivered after the end): nothing reported
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    assert not [c for c in fake.calls[calls:] if c.template in (CHECK_RUNS, CHECK_RUN)
                and (c.json or {}).get("head_sha", group) == group]
    assert checks_on(fake, group)["cla"].output["title"] == "1 person needs to sign the CLA"
    assert not fake.violations


async def configure(bot, text: str, i: int) -> None:
    """The repository's configuration file changed on main (the bot reads it again on the push)."""
    fake = bot.fake
    fake.put_file(REPO, CONFIG, text)
    push = retarget(load_example("push"), REPO, fake)
    push.update(ref="refs/heads/main", after=f"{i:040x}",
                commits=[{"id": f"{i:040x}", "added": [], "removed": [], "modified": [CONFIG]}])
    push["repository"]["default_branch"] = "main"
    await bot.deliver("push", push)


@BOTH_BACKENDS
async def test_an_organisation_member_stays_covered_on_the_group_when_the_version_is_raised(bot):
    """A corporate CLA (``allowlist.orgs``) covers its members on the group's commit as on the pull
    request: the CLA version raised while alice's pull request is queued asks nothing of her, and
    the follow job, which reads no GitHub, says so from the answers the queue's request kept."""
    fake = bot.fake
    fake.add_org_member("acme", "alice")
    await configure(bot, "cla:\n  allowlist:\n    orgs: [acme]\n", 1)
    pr = await signed_pull(bot)
    group = fake_sha("group", pr.number)
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    run = checks_on(fake, group)["cla"]
    assert (run.conclusion, run.output["title"]) == ("success", "Everyone has signed the CLA")

    await configure(bot, "cla:\n  version: '2'\n  allowlist:\n    orgs: [acme]\n", 2)
    asked = len(fake.calls)
    assert await follow(bot, "1") > 0
    run = checks_on(fake, group)["cla"]
    assert (run.conclusion, run.output["title"]) == ("success", "Everyone has signed the CLA")
    assert "`alice` (organisation member)" in run.output["summary"]
    assert not [c for c in fake.calls[asked:] if "/members/" in c.path]     # the job asked no GitHub
    assert created_on(fake, group) == ["cla"]
    assert not fake.violations


def job_event(fake, run, name: str, job_id: int) -> dict:
    payload = retarget(load_example("workflow_job", "completed"), REPO, fake)
    payload["workflow_job"].update(id=job_id, run_id=run.id, name=name, status="completed", conclusion="success",
                                   started_at="2026-11-26T10:00:00Z", completed_at="2026-11-26T10:01:00Z",
                                   head_sha=run.head_sha, workflow_name="Patch pipeline",
                                   html_url=f"https://github.com/{REPO}/actions/runs/{run.id}/job/{job_id}")
    run.jobs = [j for j in run.jobs if j["id"] != job_id] + [dict(payload["workflow_job"])]
    return payload


@BOTH_BACKENDS
async def test_patch_checks_are_carried_and_the_pipeline_followed_to_its_end(bot, key):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="alice", head_ref="patches", commits=[{"message": "p", "author": "alice"}],
                       files=[PATCH, PATCH + ".sig"])
    head = pr.pull.head_sha
    text = "Subject: [PATCH] fix\n\n--- a/x\n+++ b/x\n"
    fake.put_file(REPO, PATCH, text, ref=head)
    fake.put_file(REPO, PATCH + ".sig", sig_file(key, text.encode()).decode(), ref=head)
    await bot.deliver("pull_request", pr_event(fake, pr))
    await bot.comment(REPO, pr.number, PHRASE, "alice")
    on_pr = checks_on(fake, head)
    assert (on_pr["patch-signature"].conclusion, on_pr["patch-pipeline"].status) == ("success", "queued")

    group = fake_sha("patch-group", pr.number)
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    on_group = checks_on(fake, group)
    assert sorted(on_group) == ["cla", "patch-pipeline", "patch-signature"]
    assert (on_group["patch-signature"].conclusion, on_group["patch-signature"].output["title"]) == (
        "success", "1 patch signed")
    assert "key:kernel-release" in on_group["patch-signature"].output["summary"]
    assert (on_group["patch-pipeline"].status, on_group["patch-pipeline"].conclusion) == ("queued", None)

    [dispatch] = [d for d in fake.state.dispatches if d.inputs.get("head_sha") == head]
    run = fake.state.workflow_runs[dispatch.run_id]
    run.display_title = f"Patch pipeline {head}"
    for job_id, name in enumerate(("patch-apply", "kselftest-go", "boot-to-initrd"), start=1):
        await bot.deliver("workflow_job", job_event(fake, run, name, job_id))
    run.status, run.conclusion = "completed", "success"
    payload = retarget(load_example("workflow_run", "completed"), REPO, fake)
    payload["workflow_run"] = fake.serializer.workflow_run(run)
    await bot.deliver("workflow_run", payload)
    assert checks_on(fake, head)["patch-pipeline"].conclusion == "success"
    assert checks_on(fake, group)["patch-pipeline"].status == "queued"   # not yet followed

    await follow(bot, "1")
    done = checks_on(fake, group)["patch-pipeline"]
    assert (done.status, done.conclusion, done.output["title"]) == ("completed", "success", "All stages passed")
    assert sorted(created_on(fake, group)) == ["cla", "patch-pipeline", "patch-signature"]
    assert not fake.violations


@BOTH_BACKENDS
async def test_the_configuration_check_is_decided_on_the_group_commit(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="alice", head_ref="config", commits=[{"message": "c", "author": "alice"}],
                       files=[CONFIG])
    fake.put_file(REPO, CONFIG, "cla:\n  comment: false\n", ref=pr.pull.head_sha)
    await bot.deliver("pull_request", pr_event(fake, pr))
    assert checks_on(fake, pr.pull.head_sha)["contributor-flow/config"].conclusion == "success"
    # what was merged ahead of it breaks the file the group would land
    group = fake_sha("config-group", pr.number)
    fake.put_file(REPO, CONFIG, "cla:\n  comment: false\n  versoin: 2\n", ref=group)
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    run = checks_on(fake, group)["contributor-flow/config"]
    assert (run.conclusion, run.output["title"]) == ("failure", f"1 problem(s) in {CONFIG}")
    assert "versoin" in run.output["summary"]
    assert checks_on(fake, group)["cla"].conclusion == "action_required"    # alice never signed
    assert not fake.violations


def rerun_event(fake, kind: str, number: int, group_sha: str, run=None) -> dict:
    """GitHub's example of ``<kind>.rerequested`` for the bot's suite or run on a group commit:
    GitHub lists no pull request there (none has the group's commit as its head)."""
    payload = retarget(load_example(kind, "rerequested"), REPO, fake)
    stacked_on = fake.repo(REPO).branches.get("main") or fake_sha(REPO, "main")
    branch = f"gh-readonly-queue/main/pr-{number}-{stacked_on}"
    if kind == "check_run":
        served = fake.serializer.check_run(run)
        payload["check_run"].update({k: served[k] for k in (
            "id", "name", "head_sha", "status", "conclusion", "external_id", "url", "html_url", "pull_requests")})
        suite = payload["check_run"]["check_suite"]
    else:
        suite = payload["check_suite"]
    suite.update(head_sha=group_sha, head_branch=branch, pull_requests=[])
    suite["app"]["id"] = fake.app_id
    return payload


@BOTH_BACKENDS
async def test_rerun_on_a_group_check_decides_the_group_again_in_place(bot):
    fake = bot.fake
    pr = fake.add_pull(REPO, user="bob", head_ref="bob", commits=[{"message": "x", "author": "bob"}])
    await bot.deliver("pull_request", pr_event(fake, pr))
    group = fake_sha("rerun-group", pr.number)
    await bot.deliver("merge_group", group_event(fake, pr.number, group))
    run = checks_on(fake, group)["cla"]
    assert run.conclusion == "action_required"

    await bot.comment(REPO, pr.number, PHRASE, "bob")          # bob signs: his pull request passes
    assert checks_on(fake, pr.pull.head_sha)["cla"].conclusion == "success"
    assert checks_on(fake, group)["cla"].conclusion == "action_required"   # the group waits for its job
    before, labels, comments = writes(fake), set(pr.labels), len(pr.comments)
    on_head = sorted(r.id for r in fake.state.check_runs.values() if r.head_sha == pr.pull.head_sha)

    # "Re-run" on the group's cla check: decided again, the same run updated in place
    await bot.deliver("check_run", rerun_event(fake, "check_run", pr.number, group, run))
    again = checks_on(fake, group)["cla"]
    assert (again.id, again.conclusion, again.output["title"]) == (run.id, "success", "Everyone has signed the CLA")
    assert writes(fake)[len(before):] == [f"PATCH {CHECK_RUN}"]
    # nothing for the pull request: no check of its own re-run, no comment, no label
    assert sorted(r.id for r in fake.state.check_runs.values() if r.head_sha == pr.pull.head_sha) == on_head
    assert set(pr.labels) == labels and len(pr.comments) == comments

    # "Re-run all checks" of the suite: the same, still in place
    await bot.deliver("check_suite", rerun_event(fake, "check_suite", pr.number, group))
    assert writes(fake)[len(before):] == [f"PATCH {CHECK_RUN}"] * 2
    assert created_on(fake, group) == ["cla"]

    # a destroyed group is never reported on again, whatever is re-run
    await bot.deliver("merge_group", group_event(fake, pr.number, group, "destroyed"))
    done = len(writes(fake))
    await bot.deliver("check_run", rerun_event(fake, "check_run", pr.number, group, again))
    await bot.deliver("check_suite", rerun_event(fake, "check_suite", pr.number, group))
    assert writes(fake)[done:] == []
    assert not fake.violations


@BOTH_BACKENDS
async def test_rerun_of_a_pull_requests_own_check_stays_its_features(bot):
    """The merge queue feature answers every re-run of the bot's checks; on a pull request's
    own check it does nothing (the cla feature re-checks the pull request, as before)."""
    fake = bot.fake
    pr = await signed_pull(bot)
    run = checks_on(fake, pr.pull.head_sha)["cla"]
    payload = retarget(load_example("check_run", "rerequested"), REPO, fake)
    served = fake.serializer.check_run(run)
    payload["check_run"].update({k: served[k] for k in (
        "id", "name", "head_sha", "status", "conclusion", "external_id", "url", "html_url", "pull_requests")})
    payload["check_run"]["check_suite"].update(head_sha=run.head_sha, head_branch=pr.pull.head_ref)
    before = writes(fake)
    await bot.deliver("check_run", payload)
    assert f"PATCH {CHECK_RUN}" in writes(fake)[len(before):]      # the cla feature's re-check
    assert fake.calls_to("POST", CHECK_RUNS) and all(
        c.json["head_sha"] == pr.pull.head_sha for c in fake.calls_to("POST", CHECK_RUNS))
    assert not fake.violations


@BOTH_BACKENDS
async def test_a_group_behind_a_failing_group_waits_for_it(bot):
    """Two pull requests queued: #2's group is stacked on #1's and holds it too. bob's #1 no
    longer passes once the CLA version is raised; alice signs again, so #2's own verdict passes,
    but its group does not pass while #1's fails."""
    fake = bot.fake
    first = await signed_pull(bot, "bob")
    second = await signed_pull(bot, "alice")
    ahead, behind = fake_sha("ahead", first.number), fake_sha("behind", second.number)
    await bot.deliver("merge_group", group_event(fake, first.number, ahead))
    stacked = group_event(fake, second.number, behind)
    stacked["merge_group"].update(head_ref=f"refs/heads/gh-readonly-queue/main/pr-{second.number}-{ahead}",
                                  base_sha=ahead)
    await bot.deliver("merge_group", github_shape(stacked, "checks_requested"))
    assert checks_on(fake, behind)["cla"].conclusion == "success"

    fake.put_file(REPO, CONFIG, "cla:\n  version: '2'\n")
    push = retarget(load_example("push"), REPO, fake)
    push.update(ref="refs/heads/main", after=f"{7:040x}",
                commits=[{"id": f"{7:040x}", "added": [], "removed": [], "modified": [CONFIG]}])
    push["repository"]["default_branch"] = "main"
    await bot.deliver("push", push)
    await bot.comment(REPO, second.number, PHRASE, "alice")
    await follow(bot, "1")
    assert checks_on(fake, ahead)["cla"].conclusion == "action_required"
    run = checks_on(fake, behind)["cla"]
    assert (run.status, run.conclusion, run.output["title"]) == (
        "in_progress", None, f"Waiting for #{first.number} ahead in this group: 1 person needs to sign the CLA")

    # #1's group merges (GitHub fast-forwards main to it): #2's group is its own again
    await bot.deliver("merge_group", group_event(fake, first.number, ahead, "destroyed"))
    await follow(bot, "2")
    assert checks_on(fake, behind)["cla"].conclusion == "success"
    # a completed run cannot go back to in progress: the wait was a second run, completed in place
    assert created_on(fake, behind) == ["cla", "cla"]
    assert not fake.violations

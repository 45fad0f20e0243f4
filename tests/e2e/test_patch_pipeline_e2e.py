"""Signed patch pipeline end to end: the real bot over real HTTP against the fake GitHub,
which validates every REST call (contents, check runs, dispatches, workflow runs and jobs)
against GitHub's OpenAPI description."""
from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from bot.features.patch_pipeline import FEATURE, status_line
from bot.scheduler import run_job
from bot.settings import BUNDLED_RULES
from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example
from tests.signing.conftest import GITHUB_OAUTH, VECTORS
from tests.signing.cosign_fake import KeyPair, sig_file

from .harness import BotHarness, retarget

REPO = "octo/kernel"
KEYLESS = "patches/runtime/0001-preempt.patch"
KEYED = "patches/kernel/0002-vfs-bind.patch"
KEYED_TEXT = "Subject: [PATCH] vfs: bind inode_operations\n\n--- a/fs\n+++ b/fs\n"
WORKFLOW = "patch-pipeline.yml"


@pytest.fixture(autouse=True)
def sigstore_cache(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair()


def write_rules(tmp_path, key: KeyPair, **pipeline_keys) -> str:
    """core, commands and pipeline rules only (other features' files do not matter here): the
    Sigstore test vectors' signer and ``key`` trusted, and ``pipeline_keys`` set."""
    if not (VECTORS / "bundle_v3.txt.sigstore").is_file():
        pytest.fail(f"Sigstore test vectors are missing from {VECTORS.resolve()}")
    out = tmp_path / "rules"
    out.mkdir()
    for name in ("core.yml", "commands.yml"):
        shutil.copy(Path(BUNDLED_RULES) / name, out / name)
    pipeline = yaml.safe_load((Path(BUNDLED_RULES) / "pipeline.yml").read_text())
    pipeline["trust"].update(instance="staging",
                             identities=[{"identity": "william@yossarian.net", "issuer": GITHUB_OAUTH}],
                             keys=[{"name": "kernel-release", "pem": key.public_pem}])
    pipeline.update(pipeline_keys)
    (out / "pipeline.yml").write_text(yaml.safe_dump(pipeline))
    return str(out)


@pytest.fixture
def rules_dir(tmp_path, key) -> str:
    return write_rules(tmp_path, key)


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_workflow(REPO, WORKFLOW, name="Patch pipeline")
    fake_github.add_user("contrib")
    fake_github.add_user("mary")
    fake_github.set_permission(REPO, "mary", "write")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def signed_pull(fake, key, *, keyless_text: str | None = None, sig: bool = True, head_ref: str = "go-runtime"):
    pr = fake.add_pull(REPO, user="contrib", head_ref=head_ref,
                       files=[KEYLESS, KEYLESS + ".sigstore.json", KEYED, KEYED + ".sig", "README.md"])
    push(fake, pr, key, keyless_text=keyless_text, sig=sig)
    return pr


def push(fake, pr, key, *, keyless_text: str | None = None, sig: bool = True, head_sha: str | None = None):
    if head_sha:
        fake.push_commit(pr, head_sha)
    head = pr.pull.head_sha
    fake.put_file(REPO, KEYLESS, keyless_text or (VECTORS / "bundle_v3.txt").read_text(), ref=head)
    fake.put_file(REPO, KEYLESS + ".sigstore.json", (VECTORS / "bundle_v3.txt.sigstore").read_text(), ref=head)
    text = KEYED_TEXT + head  # each push changes the patch
    fake.put_file(REPO, KEYED, text, ref=head)
    if sig:
        fake.put_file(REPO, KEYED + ".sig", sig_file(key, text.encode()).decode(), ref=head)


def pr_event(fake, pr, action: str = "opened") -> dict:
    payload = retarget(load_example("pull_request", action), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(pr)
    payload["number"] = pr.number
    payload["sender"] = fake.serializer.user("contrib")
    return payload


def checks(fake, head: str, name: str):
    return [c for c in fake.state.check_runs.values() if c.head_sha == head and c.name == name]


def one_check(fake, head: str, name: str):
    found = checks(fake, head, name)
    assert len(found) == 1, f"{name} on {head[:7]}: {found}"
    return found[0]


def job_event(fake, run, name: str, status: str, conclusion: str | None = None, *, job_id: int,
              started: datetime | None = None, completed: datetime | None = None) -> dict:
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else None  # noqa: E731
    action = status if status != "completed" else "completed"
    payload = retarget(load_example("workflow_job", action), REPO, fake)
    job = payload["workflow_job"]
    job.update(id=job_id, run_id=run.id, name=name, status=status, conclusion=conclusion,
               started_at=iso(started), completed_at=iso(completed), head_sha=run.head_sha,
               html_url=f"https://github.com/{REPO}/actions/runs/{run.id}/job/{job_id}",
               workflow_name="Patch pipeline")
    run.jobs = [j for j in run.jobs if j["id"] != job_id] + [dict(job)]
    return payload


def run_event(fake, run, action: str) -> dict:
    example = load_example("workflow_run", "completed" if action == "completed" else "requested")
    payload = retarget(example, REPO, fake)
    payload["action"] = action
    payload["workflow_run"] = fake.serializer.workflow_run(run)
    return payload


async def dispatched_run(bot, head: str):
    """The fake created a run for our dispatch; the workflow's run-name names the head."""
    [dispatch] = [d for d in bot.fake.state.dispatches if d.inputs.get("head_sha") == head]
    run = bot.fake.state.workflow_runs[dispatch.run_id]
    run.display_title = f"Patch pipeline {head}"
    return dispatch, run


@BOTH_BACKENDS
async def test_signed_patches_dispatch_and_every_stage_is_reported(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))

    sig = one_check(fake, head, "patch-signature")
    assert (sig.status, sig.conclusion, sig.output["title"]) == ("completed", "success", "2 patches signed")
    assert "william@yossarian.net" in sig.output["summary"] and "kernel-release" in sig.output["summary"]
    dispatch, run = await dispatched_run(bot, head)
    assert (dispatch.kind, dispatch.workflow, dispatch.ref) == ("workflow", WORKFLOW, "main")
    assert dispatch.inputs["pr_number"] == str(pr.number)
    assert dispatch.inputs["signer"] == "key:kernel-release, william@yossarian.net"
    pipeline = one_check(fake, head, "patch-pipeline")
    assert pipeline.status == "queued"

    run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    assert one_check(fake, head, "patch-pipeline").status == "in_progress"

    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    stages = [("patch-apply", 31), ("kselftest-go (x86_64)", 150), ("boot-to-initrd", 95)]
    at = t0
    for job_id, (name, seconds) in enumerate(stages, start=1):
        await bot.deliver("workflow_job", job_event(fake, run, name, "in_progress", job_id=job_id, started=at))
        assert f"{name.split(' ')[0]} running" == one_check(fake, head, "patch-pipeline").output["title"]
        await bot.deliver("workflow_job", job_event(fake, run, name, "completed", "success", job_id=job_id,
                                                    started=at, completed=at + timedelta(seconds=seconds)))
        at += timedelta(seconds=seconds + 2)
    run.status, run.conclusion = "completed", "success"
    await bot.deliver("workflow_run", run_event(fake, run, "completed"))

    done = one_check(fake, head, "patch-pipeline")
    assert (done.status, done.conclusion, done.output["title"]) == ("completed", "success", "All stages passed")
    summary = done.output["summary"]
    for text in ("| ✅ passed |", "31s | 1m30s |", "2m30s | 5m |", "1m35s | 3m |"):
        assert text in summary
    assert done.details_url == f"https://github.com/{REPO}/actions/runs/{run.id}"
    assert "All stages passed" in await status_line(bot.runtime.db, REPO, pr.number)
    # Every call went through GitHub's documented endpoints (the fixture fails on violations).
    assert fake.calls_to("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches")
    assert not fake.violations


async def test_failing_stage_fails_the_run_and_skips_the_rest(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, run = await dispatched_run(bot, head)
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "completed", "failure", job_id=1,
                                                started=t0, completed=t0 + timedelta(seconds=12)))
    failed = one_check(fake, head, "patch-pipeline")
    assert (failed.conclusion, failed.output["title"]) == ("failure", "patch-apply failed")
    assert failed.output["summary"].count("⏭ skipped") == 2


@pytest.mark.parametrize("case", ["tampered", "unsigned"])
async def test_nothing_is_dispatched_for_bad_signatures(bot, key, case):
    fake = bot.fake
    pr = signed_pull(fake, key, keyless_text="tampered\n" if case == "tampered" else None,
                     sig=case != "unsigned")
    await bot.deliver("pull_request", pr_event(fake, pr))
    sig = one_check(fake, pr.pull.head_sha, "patch-signature")
    assert sig.conclusion == "failure"
    reason = "digest mismatch" if case == "tampered" else "unsigned"
    assert reason in sig.output["summary"]
    assert fake.state.dispatches == []
    assert checks(fake, pr.pull.head_sha, "patch-pipeline") == []


async def test_timeout_sweep_concludes_a_stuck_stage(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, run = await dispatched_run(bot, head)
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "in_progress", job_id=1, started=t0))
    [sweep] = FEATURE.jobs
    assert await run_job(bot.runtime, sweep, key="early", clock=lambda: t0 + timedelta(seconds=80)) == 0
    assert await run_job(bot.runtime, sweep, key="late", clock=lambda: t0 + timedelta(seconds=95)) > 0
    stuck = one_check(fake, head, "patch-pipeline")
    assert (stuck.conclusion, stuck.output["title"]) == ("timed_out", "patch-apply timed out")


CANCEL = "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel"


@BOTH_BACKENDS
async def test_a_stage_past_its_timeout_stops_the_workflow_run(bot, key):
    """The stage timeouts are gates: the run is cancelled on GitHub, not only reported, and
    its cancellation coming back as events leaves the verdict "timed out"."""
    fake = bot.fake
    pr = signed_pull(fake, key)
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, run = await dispatched_run(bot, head)
    run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "in_progress", job_id=1, started=t0))
    [sweep] = FEATURE.jobs
    assert await run_job(bot.runtime, sweep, key="late", clock=lambda: t0 + timedelta(seconds=95)) > 0
    assert (run.status, run.conclusion) == ("completed", "cancelled")
    assert len(fake.calls_to("POST", CANCEL, ok_only=True)) == 1
    await bot.deliver("workflow_job", job_event(fake, run, "patch-apply", "completed", "cancelled", job_id=1,
                                                started=t0, completed=t0 + timedelta(seconds=96)))
    await bot.deliver("workflow_run", run_event(fake, run, "completed"))
    stuck = one_check(fake, head, "patch-pipeline")
    assert (stuck.conclusion, stuck.output["title"]) == ("timed_out", "patch-apply timed out")
    assert len(fake.calls_to("POST", CANCEL)) == 1
    assert not fake.violations


async def test_a_superseded_run_stops_on_github(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    old = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, old_run = await dispatched_run(bot, old)
    old_run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, old_run, "requested"))
    push(fake, pr, key, head_sha="e" * 40)
    await bot.deliver("pull_request", pr_event(fake, pr, "synchronize"))
    assert (old_run.status, old_run.conclusion) == ("completed", "cancelled")
    _, new_run = await dispatched_run(bot, "e" * 40)
    assert new_run.status != "completed"
    assert [c.path.rsplit("/", 2)[-2] for c in fake.calls_to("POST", CANCEL)] == [str(old_run.id)]


def pipeline_as_shown(fake, head: str) -> dict:
    return dataclasses.asdict(one_check(fake, head, "patch-pipeline"))


def cancelled_runs(fake) -> list[str]:
    return [c.path.rsplit("/", 2)[-2] for c in fake.calls_to("POST", CANCEL)]


@BOTH_BACKENDS
async def test_a_run_reported_after_a_push_superseded_it_is_cancelled_once(bot, key):
    """A push right after the dispatch, before GitHub reported the run: the bot has no run id to
    cancel then. The run's first event, when it comes, cancels it, once; the superseded check
    stays as it was and the new head's pipeline is not touched."""
    fake = bot.fake
    pr = signed_pull(fake, key)
    old = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, old_run = await dispatched_run(bot, old)
    push(fake, pr, key, head_sha="f" * 40)
    await bot.deliver("pull_request", pr_event(fake, pr, "synchronize"))
    assert cancelled_runs(fake) == []  # no run id known yet
    superseded = pipeline_as_shown(fake, old)
    assert (superseded["conclusion"], superseded["output"]["title"]) == ("cancelled", "Superseded by fffffff")
    _, new_run = await dispatched_run(bot, "f" * 40)
    new_check = pipeline_as_shown(fake, "f" * 40)
    check_writes = len(fake.calls_to("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"))

    late = run_event(fake, old_run, "requested")
    await bot.deliver("workflow_run", late)
    assert cancelled_runs(fake) == [str(old_run.id)]
    assert (old_run.status, old_run.conclusion) == ("completed", "cancelled")
    assert pipeline_as_shown(fake, old) == superseded
    assert pipeline_as_shown(fake, "f" * 40) == new_check and new_run.status == "queued"
    assert len(fake.calls_to("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")) == check_writes

    # The same event again (a redelivery), and the run's own news: nothing more is cancelled.
    await bot.deliver("workflow_run", late)
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, old_run, "patch-apply", "completed", "cancelled", job_id=1,
                                                started=t0, completed=t0 + timedelta(seconds=1)))
    await bot.deliver("workflow_run", run_event(fake, old_run, "completed"))
    assert cancelled_runs(fake) == [str(old_run.id)]
    assert pipeline_as_shown(fake, old) == superseded

    # The new head's run is followed as ever.
    new_run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, new_run, "requested"))
    assert one_check(fake, "f" * 40, "patch-pipeline").status == "in_progress"
    assert cancelled_runs(fake) == [str(old_run.id)] and new_run.status == "in_progress"
    assert not fake.violations


async def test_a_late_run_that_has_ended_is_not_cancelled(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    old = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, old_run = await dispatched_run(bot, old)
    push(fake, pr, key, head_sha="f" * 40)
    await bot.deliver("pull_request", pr_event(fake, pr, "synchronize"))
    superseded = pipeline_as_shown(fake, old)
    old_run.status, old_run.conclusion = "completed", "success"
    await bot.deliver("workflow_run", run_event(fake, old_run, "completed"))
    assert fake.calls_to("POST", CANCEL) == []
    assert pipeline_as_shown(fake, old) == superseded


async def test_new_push_supersedes_the_old_run(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key)
    old = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    _, old_run = await dispatched_run(bot, old)
    await bot.deliver("workflow_run", run_event(fake, old_run, "requested"))

    push(fake, pr, key, head_sha="d" * 40)
    await bot.deliver("pull_request", pr_event(fake, pr, "synchronize"))
    stale = one_check(fake, old, "patch-pipeline")
    assert (stale.conclusion, stale.output["title"]) == ("cancelled", "Superseded by ddddddd")
    assert one_check(fake, "d" * 40, "patch-signature").conclusion == "success"
    assert one_check(fake, "d" * 40, "patch-pipeline").status == "queued"
    assert [d.inputs["head_sha"] for d in fake.state.dispatches] == [old, "d" * 40]
    # The old run finishing later does not touch anything.
    t0 = datetime.now(timezone.utc).replace(microsecond=0)
    await bot.deliver("workflow_job", job_event(fake, old_run, "patch-apply", "completed", "success", job_id=1,
                                                started=t0, completed=t0 + timedelta(seconds=5)))
    assert one_check(fake, old, "patch-pipeline").conclusion == "cancelled"


async def test_maintainer_verify_patch_command_redispatches(bot, key):
    fake = bot.fake
    pr = signed_pull(fake, key, sig=False)
    head = pr.pull.head_sha
    await bot.deliver("pull_request", pr_event(fake, pr))
    assert one_check(fake, head, "patch-signature").conclusion == "failure"
    # The signature arrives on the branch without a new commit (e.g. a force-push of the same tree).
    fake.put_file(REPO, KEYED + ".sig", sig_file(key, (KEYED_TEXT + head).encode()).decode(), ref=head)
    await bot.comment(REPO, pr.number, "/verify-patch", "mary")
    assert one_check(fake, head, "patch-signature").conclusion == "success"
    assert [d.inputs["head_sha"] for d in fake.state.dispatches] == [head]


async def test_patch_over_1mb_is_read_through_the_blob_api(bot, key):
    fake = bot.fake
    big = "Subject: [PATCH] go: vendor the runtime\n" + "+// generated\n" * 90_000
    pr = fake.add_pull(REPO, user="contrib", head_ref="vendor", files=[KEYED, KEYED + ".sig"])
    head = pr.pull.head_sha
    fake.put_file(REPO, KEYED, big, ref=head)
    fake.put_file(REPO, KEYED + ".sig", sig_file(key, big.encode()).decode(), ref=head)
    await bot.deliver("pull_request", pr_event(fake, pr))
    assert one_check(fake, head, "patch-signature").conclusion == "success"
    assert fake.calls_to("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")

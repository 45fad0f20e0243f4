"""Patches pushed straight to a gated branch, end to end: the real bot over real HTTP against the
fake GitHub (which validates every call against GitHub's OpenAPI description). The project
brief's flow: ``git subtree push --prefix=go/ git@github.com:myorg/linux-next.git go --squash``
lands patches on the ``go`` branch, and CI verifies them: here only once they are signed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import BOTH_BACKENDS
from tests.fixtures.webhooks import load_example
from tests.signing.conftest import VECTORS
from tests.signing.cosign_fake import sig_file

from .harness import BotHarness, retarget
from .test_patch_pipeline_e2e import (CANCEL, KEYED, KEYED_TEXT, KEYLESS, REPO, WORKFLOW, checks,  # noqa: F401
                                      dispatched_run, job_event, key, one_check, run_event, sigstore_cache,
                                      write_rules)

SIGNED_FILES = [KEYLESS, KEYLESS + ".sigstore.json", KEYED, KEYED + ".sig"]
COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


@pytest.fixture
def rules_dir(tmp_path, key) -> str:
    """Pushes to ``go`` and ``linux-next/*`` gated."""
    return write_rules(tmp_path, key, push_branches=["go", "linux-next/*"])


@pytest.fixture
async def bot(fake_github, database_url, rules_dir):
    fake_github.add_repo(REPO)
    fake_github.add_workflow(REPO, WORKFLOW, name="Patch pipeline")
    fake_github.add_user("maint")
    fake_github.set_permission(REPO, "maint", "write")
    async with BotHarness(fake_github, database_url=database_url, rules_dir=rules_dir) as harness:
        yield harness


def commit(fake, key, sha: str, *, signed: bool = True, branch: str | None = "go") -> str:
    """The pushed commit ``sha`` carries both patches (the keyed one signed unless not
    ``signed``); ``branch`` now points at it."""
    fake.put_file(REPO, KEYLESS, (VECTORS / "bundle_v3.txt").read_text(), ref=sha)
    fake.put_file(REPO, KEYLESS + ".sigstore.json", (VECTORS / "bundle_v3.txt.sigstore").read_text(), ref=sha)
    text = KEYED_TEXT + sha  # each push changes the patch
    fake.put_file(REPO, KEYED, text, ref=sha)
    if signed:
        fake.put_file(REPO, KEYED + ".sig", sig_file(key, text.encode()).decode(), ref=sha)
    if branch:
        fake.repo(REPO).branches[branch] = sha
    return sha


def push_event(fake, branch: str, after: str, *, before: str = "b" * 40, files=SIGNED_FILES) -> dict:
    """GitHub's push payload: one commit changing ``files``; ``files=None`` lists no commit."""
    payload = retarget(load_example("push"), REPO, fake)
    template = payload["head_commit"]
    commits = [] if files is None else [{**template, "id": after, "added": list(files), "modified": [],
                                         "removed": [], "message": "go: sync patches (subtree squash)"}]
    payload.update(ref=f"refs/heads/{branch}", before=before, after=after, created=False, deleted=False,
                   forced=False, base_ref=None, commits=commits, head_commit=commits[-1] if commits else None,
                   compare=f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}")
    payload["sender"] = fake.serializer.user("maint")
    return payload


def no_comments(fake) -> bool:
    return fake.calls_to("POST", COMMENTS) == []


@BOTH_BACKENDS
async def test_a_signed_push_is_verified_dispatched_with_pr_number_0_and_followed(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40)
    await bot.deliver("push", push_event(fake, "go", after))

    sig = one_check(fake, after, "patch-signature")
    assert (sig.conclusion, sig.output["title"]) == ("success", "2 patches signed")
    dispatch, run = await dispatched_run(bot, after)
    assert (dispatch.workflow, dispatch.ref) == (WORKFLOW, "main")
    assert dispatch.inputs["pr_number"] == "0"
    assert set(dispatch.inputs) == {"pr_number", "head_sha", "patches", "signer"}
    assert one_check(fake, after, "patch-pipeline").status == "queued"

    run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, run, "requested"))
    assert one_check(fake, after, "patch-pipeline").status == "in_progress"
    at = datetime.now(timezone.utc).replace(microsecond=0)
    for job_id, (name, seconds) in enumerate([("patch-apply", 20), ("kselftest-go", 140), ("boot-to-initrd", 80)], 1):
        await bot.deliver("workflow_job", job_event(fake, run, name, "in_progress", job_id=job_id, started=at))
        assert one_check(fake, after, "patch-pipeline").output["title"] == f"{name} running"
        await bot.deliver("workflow_job", job_event(fake, run, name, "completed", "success", job_id=job_id,
                                                    started=at, completed=at + timedelta(seconds=seconds)))
        at += timedelta(seconds=seconds + 1)
    run.status, run.conclusion = "completed", "success"
    await bot.deliver("workflow_run", run_event(fake, run, "completed"))
    done = one_check(fake, after, "patch-pipeline")
    assert (done.conclusion, done.output["title"]) == ("success", "All stages passed")
    assert no_comments(fake) and not fake.violations


async def test_an_unsigned_push_fails_and_nothing_is_dispatched(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40, signed=False)
    await bot.deliver("push", push_event(fake, "go", after))
    sig = one_check(fake, after, "patch-signature")
    assert sig.conclusion == "failure" and "unsigned" in sig.output["summary"]
    assert fake.state.dispatches == [] and checks(fake, after, "patch-pipeline") == []
    assert no_comments(fake) and not fake.violations


async def test_a_push_to_a_branch_not_gated_is_left_alone(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40, signed=False, branch="main")
    await bot.deliver("push", push_event(fake, "main", after))
    await bot.deliver("push", push_event(fake, "linux-next/go/deeper", after))
    assert fake.state.check_runs == {} and fake.state.dispatches == []
    assert not [c for c in fake.calls if "git/trees" in c.path or "/contents/patches" in c.path]


@BOTH_BACKENDS
async def test_a_newer_push_to_the_branch_supersedes_its_run_only(bot, key):
    fake = bot.fake
    first = commit(fake, key, "a" * 40)
    await bot.deliver("push", push_event(fake, "go", first))
    _, first_run = await dispatched_run(bot, first)
    first_run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, first_run, "requested"))
    other = commit(fake, key, "c" * 40, branch="linux-next/go")
    await bot.deliver("push", push_event(fake, "linux-next/go", other))
    _, other_run = await dispatched_run(bot, other)
    other_run.status = "in_progress"
    await bot.deliver("workflow_run", run_event(fake, other_run, "requested"))

    second = commit(fake, key, "d" * 40)
    await bot.deliver("push", push_event(fake, "go", second, before=first))
    stale = one_check(fake, first, "patch-pipeline")
    assert (stale.conclusion, stale.output["title"]) == ("cancelled", "Superseded by ddddddd")
    assert (first_run.status, first_run.conclusion) == ("completed", "cancelled")
    assert [c.path.rsplit("/", 2)[-2] for c in fake.calls_to("POST", CANCEL)] == [str(first_run.id)]
    assert one_check(fake, second, "patch-signature").conclusion == "success"
    assert one_check(fake, second, "patch-pipeline").status == "queued"
    assert one_check(fake, other, "patch-pipeline").status == "in_progress" and other_run.status == "in_progress"
    assert [d.inputs["head_sha"] for d in fake.state.dispatches] == [first, other, second]
    # A redelivery of the newer push dispatches nothing more.
    await bot.deliver("push", push_event(fake, "go", second, before=first))
    assert len(fake.state.dispatches) == 3
    assert no_comments(fake) and not fake.violations


def tree_reads(fake) -> list[tuple[str, bool]]:
    """The trees the bot listed: (tree_sha, recursive)."""
    return [(c.path.rsplit("/", 1)[-1], "recursive" in c.query)
            for c in fake.calls_to("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")]


def trees_at(fake, ref: str):
    from tests.fakegithub.routes.repos import git_trees

    return git_trees({p: t.encode() for p, t in fake.repo(REPO).files[ref].items()})


def tree_sha(fake, ref: str, folder: str) -> str:
    return trees_at(fake, ref)[folder][0]


async def test_patches_a_push_does_not_list_are_read_from_the_tree(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40)
    await bot.deliver("push", push_event(fake, "go", after, files=None))
    # patches/ only (the patch globs' directory): found from the root, then listed whole.
    assert tree_reads(fake) == [(after, False), (tree_sha(fake, after, "patches"), True)]
    assert one_check(fake, after, "patch-signature").output["title"] == "2 patches signed"
    dispatch, _ = await dispatched_run(bot, after)
    assert dispatch.inputs["pr_number"] == "0" and KEYED in dispatch.inputs["patches"]
    assert not fake.violations


def kernel_sized(fake, sha: str) -> None:
    """The tree of ``sha`` is past what GitHub lists of it in one answer (the fake's limit,
    lowered to 8 entries, standing for 100,000 or 7 MB: linux-next's is far past it), its
    patches/ directory (6 entries) is not."""
    from tests.fakegithub.routes.repos import tree_listing

    fake.tree_limit = 8
    for i in range(40):
        fake.put_file(REPO, f"drivers/gpu/drm/file{i}.c", f"int f{i};\n", ref=sha)
    assert len(tree_listing(trees_at(fake, sha), "", recursive=True)) > fake.tree_limit
    assert len(tree_listing(trees_at(fake, sha), "patches", recursive=True)) <= fake.tree_limit


async def test_a_new_branch_on_a_tree_past_githubs_limit_is_verified_by_its_patch_directory(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40, branch="linux-next/go")
    kernel_sized(fake, after)
    await bot.deliver("push", push_event(fake, "linux-next/go", after, before="0" * 40))  # a new branch
    assert tree_reads(fake) == [(after, False), (tree_sha(fake, after, "patches"), True)]
    sig = one_check(fake, after, "patch-signature")
    assert (sig.conclusion, sig.output["title"]) == ("success", "2 patches signed")
    dispatch, _ = await dispatched_run(bot, after)
    assert (dispatch.inputs["pr_number"], dispatch.inputs["head_sha"]) == ("0", after)
    assert no_comments(fake) and not fake.violations


async def test_a_patch_directory_github_lists_only_in_part_is_walked_one_level_at_a_time(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40)
    kernel_sized(fake, after)
    fake.tree_limit = 3  # patches/ (6 entries) is cut; patches/kernel and patches/runtime (2 each) are not
    await bot.deliver("push", push_event(fake, "go", after, files=None))
    sha = lambda folder: tree_sha(fake, after, folder)  # noqa: E731
    assert tree_reads(fake) == [(after, False), (sha("patches"), True), (sha("patches"), False),
                                (sha("patches/kernel"), True), (sha("patches/runtime"), True)]
    assert one_check(fake, after, "patch-signature").conclusion == "success"
    assert len(fake.state.dispatches) == 1 and not fake.violations


async def test_a_glob_without_a_leading_directory_on_a_truncated_tree_fails_closed(bot, key):
    fake = bot.fake
    fake.put_file(REPO, ".github/contributor-flow.yml", "pipeline:\n  patches: ['*.patch']\n")
    fake.tree_limit = 3
    after = commit(fake, key, "a" * 40)
    await bot.deliver("push", push_event(fake, "go", after, files=None))
    assert tree_reads(fake) == [(after, True)]  # the whole tree: *.patch matches at any depth
    sig = one_check(fake, after, "patch-signature")
    assert (sig.conclusion, sig.output["title"]) == ("failure", "Patches could not be listed")
    assert "only in part" in sig.output["summary"] and "names no leading directory" in sig.output["summary"]
    assert fake.state.dispatches == [] and not fake.violations


async def test_rerun_on_a_push_check_decides_the_branch_head_again(bot, key):
    fake = bot.fake
    after = commit(fake, key, "a" * 40, signed=False, branch="linux-next/go")
    await bot.deliver("push", push_event(fake, "linux-next/go", after))
    refused = one_check(fake, after, "patch-signature")
    assert refused.conclusion == "failure"
    # The signature is added in place (the same commit pushed again with it), then "Re-run".
    fake.put_file(REPO, KEYED + ".sig", sig_file(key, (KEYED_TEXT + after).encode()).decode(), ref=after)
    rerun = retarget(load_example("check_run", "rerequested"), REPO, fake)
    rerun["check_run"] = fake.serializer.check_run(refused)
    rerun["sender"] = fake.serializer.user("maint")
    assert rerun["check_run"]["pull_requests"] == []
    await bot.deliver("check_run", rerun)

    assert one_check(fake, after, "patch-signature").conclusion == "success"
    [dispatch] = fake.state.dispatches
    assert (dispatch.inputs["head_sha"], dispatch.inputs["pr_number"]) == (after, "0")
    assert fake.calls_to("GET", "/repos/{owner}/{repo}/branches/{branch}", ok_only=True)
    assert not fake.calls_to("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
    # Once the branch has moved on, "Re-run" on the old head decides nothing.
    fake.repo(REPO).branches["linux-next/go"] = "e" * 40
    await bot.deliver("check_run", rerun)
    assert len(fake.state.dispatches) == 1
    assert no_comments(fake) and not fake.violations


@BOTH_BACKENDS
async def test_a_tree_read_again_reads_only_the_patches_that_changed(bot, key):
    fake = bot.fake
    first = commit(fake, key, "a" * 40, branch="linux-next/q")
    await bot.deliver("push", push_event(fake, "linux-next/q", first, files=None))  # no commits: the tree is read
    assert one_check(fake, first, "patch-signature").conclusion == "success"
    seen = len(fake.calls)
    second = commit(fake, key, "d" * 40, branch="linux-next/q")  # the keyed patch changes, the keyless one not
    await bot.deliver("push", push_event(fake, "linux-next/q", second, before=first, files=None))
    sig = one_check(fake, second, "patch-signature")
    assert sig.conclusion == "success" and "1 of them verified before" in sig.output["summary"]
    assert "verified (keyless, remembered)" in sig.output["summary"]
    read = [c.path for c in fake.calls[seen:] if "/contents/" in c.path]
    assert read and all(KEYED in p for p in read)  # the keyed patch and its signature files only
    assert not fake.violations

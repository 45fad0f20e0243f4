"""Patches pushed straight to a gated branch (rules ``push_branches``), as a kernel tree's
``git subtree push --prefix=go/ ... go`` does: the same signature gate on the pushed commit,
the pipeline dispatched with ``pr_number`` 0 and followed as a pull request's, superseded by
the branch's next push only; no comment anywhere (there is no pull request)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.features import all_features
from bot.features.patch_pipeline import handlers, held_checks, pushes, status_line, store
from bot.rules.loader import load_bundled, merge_repo_override
from bot.rules.registry import sections_of
from bot.settings import BUNDLED_RULES

from .conftest import (HEAD, HEAD2, MAIN, NOW, REPO, SIGNED_DATA, SIGNED_PATCH, SignedFlow, job_context,
                       job_payload, of, pr_payload, push_payload, rules, workflow_run_payload)
from tests.fixtures.webhooks import load_example
from tests.signing.cosign_fake import sig_file

T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731
SIGNED = [SIGNED_PATCH, SIGNED_PATCH + ".sig"]
OTHER = "patches/runtime/0002-g0-stack.patch"
C1, C2, C3 = "c1" * 20, "c2" * 20, "c3" * 20
RUN = 5550501


@pytest.fixture
async def flow(db, key) -> SignedFlow:
    """``go`` was last decided at MAIN, with nothing owed: its pushes (``before`` MAIN by
    default) continue from the head the bot knows, and are read from their payloads."""
    f = SignedFlow(db, key)
    f.rules = rules(key, push_branches=["go", "linux-next/*"])
    f.key = key
    for sha in (C1, C2, C3):
        sign(f, sha)
    await known(f, "go", MAIN)
    return f


async def known(flow: SignedFlow, branch: str, head: str, pending=(), *, unlisted: bool = False) -> None:
    await store.branch_decided(flow.db, repo=REPO, branch=branch, head_sha=head, pending=list(pending),
                               unlisted=unlisted, at=NOW.timestamp(),
                               rules=pushes.patch_rules(flow.rules.section("pipeline")))


async def branch_state(flow: SignedFlow, branch: str = "go") -> dict:
    row = await store.branch_state(flow.db, REPO, branch)
    return {**row, "pending": json.loads(row["pending"])}


def sign(flow: SignedFlow, sha: str, path: str = SIGNED_PATCH, *, signed: bool = True) -> None:
    data = SIGNED_DATA + path.encode() + sha.encode()
    flow.repo.put(sha, path, data)
    if signed:
        flow.repo.put(sha, path + ".sig", sig_file(flow.key, data))


def check_of(actions, name: str, head: str):
    [found] = [a for a in of(actions, "UpsertCheckRun") if a.name == name and a.head_sha == head]
    return found


def acted(actions) -> list:
    """What a decision does beyond taking note of the branch's new head (store.branch_decided)."""
    return [a for a in actions if getattr(a, "op", None) not in ("branch_decided", "branch_deleted")]


def dispatched_patches(actions) -> list[str]:
    [dispatch] = of(actions, "DispatchWorkflow")
    return json.loads(dispatch.inputs["patches"])


async def test_a_signed_push_to_a_gated_branch_is_verified_and_dispatched_with_pr_number_0(flow):
    actions = await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    sig = check_of(actions, "patch-signature", HEAD)
    assert (sig.conclusion, sig.title) == ("success", "1 patch signed")
    [dispatch] = of(actions, "DispatchWorkflow")
    assert dispatch.inputs == {"pr_number": "0", "head_sha": HEAD, "patches": json.dumps([SIGNED_PATCH]),
                               "signer": "key:release-key"}
    assert check_of(actions, "patch-pipeline", HEAD).status == "queued"
    assert not of(actions, "Comment") and not of(actions, "UpsertComment")
    assert {n.number for n in of(actions, "Note")} == {0}
    assert "(push to go)" in of(actions, "Note")[-1].text
    row, _ = await flow.state(HEAD)
    assert (row["status"], row["number"], row["branch"]) == ("dispatched", 0, "go")


async def test_a_push_run_is_followed_through_its_stages_like_a_pull_requests(flow):
    await flow.send("push", push_payload("linux-next/go", after=HEAD, files=SIGNED))
    actions = await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    assert check_of(actions, "patch-pipeline", HEAD).status == "in_progress"
    for i, stage in enumerate(("patch-apply", "kselftest-go", "boot-to-initrd")):
        job = job_payload(stage, "completed", "success", run_id=RUN, job_id=i + 1, started=T(10 + i * 10),
                          completed=T(15 + i * 10))
        await flow.send("workflow_job", job, at=T(16 + i * 10))
    row, run = await flow.state(HEAD)
    assert (row["status"], run.conclusion, row["number"]) == ("completed", "success", 0)


async def test_the_repository_dispatch_payload_says_pr_number_0(flow, key):
    flow.rules = rules(key, push_branches=["go"], trigger={"kind": "repository_dispatch"})
    actions = await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    [dispatch] = of(actions, "RepositoryDispatch")
    assert dispatch.client_payload["pr_number"] == 0 and dispatch.client_payload["head_sha"] == HEAD


async def test_an_unsigned_patch_pushed_is_refused_and_nothing_dispatched(flow):
    sign(flow, C1, OTHER, signed=False)
    actions = await flow.send("push", push_payload("go", after=C1, files=[OTHER, *SIGNED]))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.conclusion == "failure" and f"unsigned: neither {OTHER}.sigstore.json" in sig.summary
    assert not of(actions, "DispatchWorkflow") and not of(actions, "Comment")
    row, _ = await flow.state(C1)
    assert (row["status"], row["branch"], row["number"]) == ("rejected", "go", 0)


@pytest.mark.parametrize("payload", [
    push_payload("main", after=HEAD, files=SIGNED),                          # not a gated branch
    push_payload("go2", after=HEAD, files=SIGNED),                           # a glob is the whole name
    push_payload("linux-next/a/b", after=HEAD, files=SIGNED),                # * stays within a segment
    push_payload(ref="refs/tags/go", after=HEAD, files=SIGNED),              # a tag
    push_payload("go", after="0" * 40, deleted=True),                        # the branch deleted
    push_payload("go", after="0" * 40, files=SIGNED),                        # all zeros, whatever it says
    push_payload("gh-readonly-queue/go/pr-7-" + HEAD, after=HEAD, files=SIGNED),  # the merge queue's
    push_payload("go", after=HEAD, files=["README.md", "patches/notes.txt"]),  # no patch
])
async def test_pushes_that_are_not_gated_decide_nothing_and_ask_github_nothing(flow, key, payload):
    flow.rules = rules(key, push_branches=["go", "linux-next/*", "gh-readonly-queue/**"])
    assert acted(await flow.send("push", payload)) == []
    assert flow.reader.calls == []
    assert await flow.state(HEAD) is None


async def test_by_default_no_branch_is_gated(flow, key):
    flow.rules = rules(key)
    assert flow.rules.section("pipeline")["push_branches"] == []
    assert await flow.send("push", push_payload("main", after=HEAD, files=SIGNED)) == []
    assert flow.reader.calls == []


@pytest.mark.parametrize("pattern, branch, gated", [
    ("go", "go", True), ("go", "feature/go", False), ("linux-next/*", "linux-next/go", True),
    ("linux-next/*", "linux-next/go/x", False), ("linux-next/**", "linux-next/go/x", True),
    ("**", "anything/at/all", True), ("release-*", "release-6.9", True), ("go.x", "goXx", False),
])
def test_branch_globs(pattern, branch, gated):
    assert pushes.branch_matches(pattern, branch) is gated


@pytest.mark.parametrize("value, message", [
    (["refs/heads/go"], "not refs/heads/go"),
    (["go x"], "no spaces"),
    (["feature/[ab]"], "only * is a wildcard"),
    (["go/"], "neither starts nor ends with /"),
    ("go", "expected a list"),
])
def test_push_branches_are_checked_strictly(value, message):
    import yaml
    sections = sections_of(all_features())
    bundled, _ = load_bundled(BUNDLED_RULES, sections)
    _, problems = merge_repo_override(bundled, yaml.safe_dump({"pipeline": {"push_branches": value}}),
                                      "test", sections)
    assert len(problems) == 1 and message in str(problems[0]) and "pipeline.push_branches" in str(problems[0])


async def test_a_newer_push_supersedes_the_branchs_run_only(flow):
    """The run of the branch's earlier push ends (its workflow run cancelled); a pull request's
    and another branch's go on. The patches of the ended run are carried over to the new head."""
    await flow.send("pull_request", pr_payload("opened", head=HEAD))
    await flow.send("push", push_payload("linux-next/go", after=HEAD2, files=SIGNED))
    sign(flow, C1, OTHER)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER, OTHER + ".sig"]), at=T(1))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=C1), at=T(2))

    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=SIGNED), at=T(3))
    old = check_of(actions, "patch-pipeline", C1)
    assert (old.conclusion, old.title) == ("cancelled", "Superseded by c2c2c2c")
    assert [a.run_id for a in of(actions, "CancelWorkflowRun")] == [RUN]
    assert {a.head_sha for a in of(actions, "UpsertCheckRun")} == {C1, C2}
    assert dispatched_patches(actions) == [SIGNED_PATCH]  # OTHER is not at C2: nothing to carry
    for head, status in ((HEAD, "dispatched"), (HEAD2, "dispatched"), (C1, "superseded"), (C2, "dispatched")):
        assert (await flow.state(head))[0]["status"] == status, head
    assert not of(actions, "Comment")


async def test_the_patches_of_a_superseded_push_are_verified_again_at_the_new_head(flow):
    """The branch's head holds the patches of the push whose pipeline it ends: its own pipeline
    covers them, even when the push itself brings none."""
    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(1))
    assert check_of(actions, "patch-pipeline", C1).conclusion == "cancelled"
    assert check_of(actions, "patch-signature", C2).conclusion == "success"
    assert dispatched_patches(actions) == [SIGNED_PATCH]
    # C2's pipeline superseded in turn: carried once more, with what C3 brings.
    sign(flow, C3, OTHER)
    actions = await flow.send("push", push_payload("go", before=C2, after=C3, files=[OTHER, OTHER + ".sig"]), at=T(2))
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]


async def test_a_refused_patch_keeps_the_branch_head_refused_until_it_is_fixed(flow):
    sign(flow, C1, OTHER, signed=False)
    assert of(await flow.send("push", push_payload("go", after=C1, files=[OTHER])), "UpsertCheckRun")[0].conclusion \
        == "failure"
    sign(flow, C2, OTHER, signed=False)
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(1))
    assert check_of(actions, "patch-signature", C2).conclusion == "failure"
    sign(flow, C3, OTHER)
    actions = await flow.send("push", push_payload("go", before=C2, after=C3, files=[OTHER + ".sig"]), at=T(2))
    assert check_of(actions, "patch-signature", C3).conclusion == "success"
    assert dispatched_patches(actions) == [OTHER]


async def test_after_a_passing_pipeline_a_push_without_patches_decides_nothing(flow):
    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=C1), at=T(1))
    for i, stage in enumerate(("patch-apply", "kselftest-go", "boot-to-initrd")):
        await flow.send("workflow_job", job_payload(stage, "completed", "success", run_id=RUN, job_id=i + 1,
                                                    started=T(2), completed=T(3)), at=T(4 + i))
    assert (await flow.state(C1))[1].conclusion == "success"
    assert acted(await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(9))) == []
    assert flow.reader.calls == []
    assert ((await branch_state(flow))["head_sha"], (await branch_state(flow))["pending"]) == (C2, [])


async def test_a_decided_commit_is_not_dispatched_again(flow):
    first = await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    assert of(first, "DispatchWorkflow")
    assert await flow.send("push", push_payload("go", after=HEAD, files=SIGNED)) == []  # a redelivery
    # A second branch (its first push, read from the tree): HEAD's pipeline checks what it owes.
    assert acted(await flow.send("push", push_payload("linux-next/go", after=HEAD, files=SIGNED))) == []
    row, _ = await flow.state(HEAD)
    assert (row["branch"], row["status"]) == ("go", "dispatched")
    assert (await branch_state(flow, "linux-next/go"))["pending"] == [SIGNED_PATCH]


@pytest.mark.parametrize("shape", ["no commits listed", "new branch", "2048 commits", "3000 files"])
async def test_patches_the_payload_does_not_list_are_read_from_the_tree(flow, shape):
    sign(flow, C1, OTHER)
    flow.repo.put(C1, "README.md", b"readme")
    payload = {"no commits listed": push_payload("go", after=C1, commits=0),
               "new branch": push_payload("go", before="0" * 40, after=C1, files=["README.md"]),
               "2048 commits": push_payload("go", after=C1, files=["README.md"], commits=2048),
               "3000 files": push_payload("go", after=C1, files=[f"src/{i}.c" for i in range(3000)])}[shape]
    actions = await flow.send("push", payload)
    # Only the directory the patch globs name: found one level at a time, then listed whole.
    assert flow.repo.tree_requests(flow.reader) == [("level", C1), ("recursive", flow.repo.tree_sha(C1, "patches"))]
    assert check_of(actions, "patch-signature", C1).title == "2 patches signed"
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]


def kernel_tree(flow: SignedFlow, sha: str, files: int = 40) -> None:
    """``sha``'s tree is far past what GitHub lists in one answer (here ``tree_limit``, 8
    entries) but for its patches/ directory (6 entries), as a kernel tree's is."""
    flow.repo.tree_limit = 8
    for i in range(files):
        flow.repo.put(sha, f"drivers/gpu/drm/file{i}.c", f"int f{i};")
    flow.repo.truncated.add(sha)


async def test_a_tree_past_githubs_limit_is_listed_by_its_patch_directory(flow):
    sign(flow, C1, OTHER)
    kernel_tree(flow, C1)
    flow.repo.put(C1, "drivers/gpu/drm/stray.patch", b"not under patches/: no patch")
    actions = await flow.send("push", push_payload("go", before="0" * 40, after=C1, files=["README.md"]))
    assert flow.repo.tree_requests(flow.reader) == [("level", C1), ("recursive", flow.repo.tree_sha(C1, "patches"))]
    assert check_of(actions, "patch-signature", C1).conclusion == "success"
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]


async def test_a_signature_without_its_patch_in_the_directory_is_no_patch(flow):
    kernel_tree(flow, C1)
    flow.repo.put(C1, "patches/kernel/0009-gone.patch.sig", b"a signature left behind")
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert dispatched_patches(actions) == [SIGNED_PATCH]


async def test_a_glob_without_a_leading_directory_on_a_tree_past_the_limit_fails_closed(flow, key):
    flow.rules = rules(key, push_branches=["go"], patches=["patches/**/*.patch", "*.mbox"])
    kernel_tree(flow, C1)
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert flow.repo.tree_requests(flow.reader) == [("recursive", C1)]  # the whole tree, once
    sig = check_of(actions, "patch-signature", C1)
    assert (sig.conclusion, sig.title) == ("failure", "Patches could not be listed")
    assert "only in part" in sig.summary and "glob '\\*.mbox' names no leading directory" in sig.summary
    assert not of(actions, "DispatchWorkflow")
    row, _ = await flow.state(C1)
    assert (row["status"], json.loads(row["patches"]), row["branch"]) == ("rejected", [], "go")


@pytest.mark.parametrize("layout", [{"README.md": b"no patches here", "src/main.c": b"int main;"},
                                    {"patches": b"a file, not a directory"}])
async def test_a_missing_patch_directory_means_no_patches(flow, layout):
    bare = "c4" * 20
    for path, data in layout.items():
        flow.repo.put(bare, path, data)
    assert acted(await flow.send("push", push_payload("go", before="0" * 40, after=bare, files=["README.md"]))) == []
    assert flow.repo.tree_requests(flow.reader) == [("level", bare)]


@pytest.mark.parametrize("globs, listed", [
    (["patches/**/*.patch", "patches/kernel/*.patch", "patches/**/*.mbox"], ["patches"]),
    (["go/**", "patches/**/*.patch", "go/x/**"], ["go", "patches"]),  # one walk from the root for both
])
async def test_globs_sharing_a_directory_list_it_once(flow, key, globs, listed):
    flow.rules = rules(key, push_branches=["go"], patches=globs)
    flow.repo.put(C1, "go/x/1.txt", b"not signed: any file is a patch under go/**")
    flow.repo.put(C1, "go/x/1.txt.sig", sig_file(flow.key, b"not signed: any file is a patch under go/**"))
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert flow.repo.tree_requests(flow.reader) == [("level", C1)] + [
        ("recursive", flow.repo.tree_sha(C1, d)) for d in listed]
    assert check_of(actions, "patch-signature", C1).conclusion == "success"


async def test_a_glob_without_wildcards_names_its_file(flow, key):
    flow.rules = rules(key, push_branches=["go"], patches=[SIGNED_PATCH])
    kernel_tree(flow, C1)
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert [kind for kind, _ in flow.repo.tree_requests(flow.reader)] == ["level"] * 3  # /, patches, kernel
    assert dispatched_patches(actions) == [SIGNED_PATCH]


async def test_a_patch_directory_github_lists_only_in_part_is_walked_one_level_at_a_time(flow):
    sign(flow, C1, OTHER)
    kernel_tree(flow, C1)
    flow.repo.tree_limit = 3  # patches/ (6 entries) is cut; each of its directories (2) is not
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    sha = lambda d: flow.repo.tree_sha(C1, d)  # noqa: E731
    assert flow.repo.tree_requests(flow.reader) == [
        ("level", C1), ("recursive", sha("patches")), ("level", sha("patches")),
        ("recursive", sha("patches/kernel")), ("recursive", sha("patches/runtime"))]
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]


async def test_a_patch_directory_too_big_to_walk_within_the_request_budget_fails_closed(flow):
    from bot.features.patch_pipeline.lookups import MAX_TREE_REQUESTS

    kernel_tree(flow, C1)
    for i in range(MAX_TREE_REQUESTS):
        flow.repo.put(C1, f"patches/series-{i:02}/0001.patch", b"x")
    actions = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert len(flow.repo.tree_requests(flow.reader)) == MAX_TREE_REQUESTS
    sig = check_of(actions, "patch-signature", C1)
    assert (sig.conclusion, sig.title) == ("failure", "Patches could not be listed")
    assert (f"GitHub lists patches/ at {C1[:7]} only in part" in sig.summary
            and f"over {MAX_TREE_REQUESTS} requests" in sig.summary)
    assert not of(actions, "DispatchWorkflow")


@pytest.mark.parametrize("pattern, directory", [
    ("patches/**/*.patch", "patches"), ("/patches/**", "patches"), ("go/**", "go"),
    ("patches/kernel/*.patch", "patches/kernel"), ("patches/[ab]/x.patch", "patches"),
    ("patches/v\\*/x.patch", "patches"),        # an escape: read as no literal name
    ("patches/0001.patch", "patches/0001.patch"),  # a file or a directory: tree_listing takes either
    ("*.patch", ""), ("**/*.patch", ""), ("go", ""), ("go/", ""),  # at any depth (gitignore)
    ("patches/[z-a]/x", None),                     # malformed: matches nothing
])
def test_the_directory_a_patch_glob_lists(pattern, directory):
    assert pushes.glob_directory(pattern) == directory


def test_patch_directories_one_inside_another_are_listed_once():
    assert pushes.patch_directories(["patches/kernel/**", "patches/**", "golang/**", "go/**", "go/x/*"]) \
        == ["go", "golang", "patches"]
    assert pushes.patch_directories(["patches/**", "*.patch"]) == [""]
    assert pushes.patch_directories(["[z-a]/x"]) == []


def rerequested(name: str, head: str, prs=()) -> dict:
    p = load_example("check_run", "rerequested")
    p["check_run"].update(name=name, head_sha=head, external_id=f"contributor-flow:{name}", pull_requests=list(prs))
    return p


async def test_rerun_on_a_push_runs_check_decides_the_branch_head_again(flow):
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER, *SIGNED]))
    sign(flow, C1, OTHER)  # the signature is fixed in place (a re-push of the same commit)
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    assert check_of(actions, "patch-signature", C1).conclusion == "success"
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]
    assert of(actions, "DispatchWorkflow")[0].inputs["pr_number"] == "0"
    called = [u for u, _ in flow.reader.calls]
    assert "/repos/{owner}/{repo}/branches/{branch}" in called
    assert not [u for u in called if "pulls" in u or "git/trees" in u]  # the recorded patches, no PR
    row, _ = await flow.state(C1)
    assert (row["status"], row["branch"], row["number"]) == ("dispatched", "go", 0)


async def test_rerun_after_a_truncated_tree_lists_the_tree_again(flow, key):
    flow.rules = rules(key, push_branches=["go"], patches=["*.patch"])
    flow.repo.truncated.add(C1)
    await flow.send("push", push_payload("go", after=C1, commits=0))
    flow.repo.truncated.clear()
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    assert check_of(actions, "patch-signature", C1).conclusion == "success" and of(actions, "DispatchWorkflow")


@pytest.mark.parametrize("branch_head", [C2, None])  # the branch moved on, or is gone
async def test_rerun_on_an_outdated_push_head_does_nothing(flow, branch_head):
    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    if branch_head:
        flow.repo.branches["go"] = branch_head
    else:
        del flow.repo.branches["go"]
    assert await flow.send("check_run", rerequested("patch-pipeline", C1), at=T(5)) == []


async def test_rerun_on_a_branch_no_longer_gated_does_nothing(flow, key):
    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    flow.rules = rules(key)
    assert await flow.send("check_run", rerequested("patch-pipeline", C1), at=T(5)) == []


async def test_the_pr_card_never_shows_a_push_run(flow):
    await flow.send("pull_request", pr_payload("opened", head=HEAD))
    await flow.send("push", push_payload("go", after=C1, files=SIGNED), at=T(10))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=C1), at=T(11))
    line = await status_line(flow.db, REPO, 7, HEAD)
    assert line.startswith("Patch pipeline") and "Dispatched, waiting" in line
    assert await status_line(flow.db, REPO, 7, C1) is None


async def test_a_pull_request_of_the_pushed_head_takes_its_run_over(flow):
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    actions = await flow.send("pull_request", pr_payload("opened", head=HEAD))
    assert not of(actions, "DispatchWorkflow")
    assert "(decided for a push to go)" in of(actions, "Note")[0].text
    row, _ = await flow.state(HEAD)
    assert (row["number"], row["branch"]) == (7, "go")
    assert (await status_line(flow.db, REPO, 7, HEAD)).startswith("Patch pipeline")
    # The branch moving on leaves it running: it is the pull request's current head.
    actions = await flow.send("push", push_payload("go", before=HEAD, after=HEAD2, files=SIGNED), at=T(1))
    assert not [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD]
    assert (await flow.state(HEAD))[0]["status"] == "dispatched"
    # Once the pull request moves on too (HEAD is neither's head any more), its push ends it.
    actions = await flow.send("pull_request", pr_payload("synchronize", head=C1), at=T(2))
    assert check_of(actions, "patch-pipeline", HEAD).conclusion == "cancelled"
    assert (await flow.state(HEAD))[0]["number"] == 7


async def test_a_branch_moving_on_ends_the_run_of_a_pull_requests_former_head(flow):
    """HEAD, go's head and PR #7's; the PR moves on first (go still holds HEAD: it runs on),
    then go: now nothing holds it, and go's push ends it."""
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    await flow.send("pull_request", pr_payload("opened", head=HEAD), at=T(1))
    actions = await flow.send("pull_request", pr_payload("synchronize", head=C1), at=T(2))
    assert not [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD and a.name == "patch-pipeline"]
    actions = await flow.send("push", push_payload("go", before=HEAD, after=C2, files=SIGNED), at=T(3))
    assert check_of(actions, "patch-pipeline", HEAD).conclusion == "cancelled"


async def test_deleting_a_gated_branch_forgets_what_it_owed(flow):
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    assert await store.branches_at(flow.db, REPO, C1) == ["go"]
    await flow.send("push", push_payload("go", before=C1, after="0" * 40, deleted=True), at=T(1))
    assert await store.branch_state(flow.db, REPO, "go") is None
    assert await store.branches_at(flow.db, REPO, C1) == []


async def test_the_merge_queue_holds_a_pushed_heads_verdict(flow):
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    held = await held_checks(flow.db, REPO, HEAD, flow.rules.section("pipeline"))
    assert held["patch-signature"].conclusion == "success" and held["patch-pipeline"].status == "queued"


async def test_the_sweep_times_out_a_push_run_and_cancels_it(flow):
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN), at=T(5))
    await flow.send("workflow_job", job_payload("patch-apply", "in_progress", run_id=RUN, started=T(6)), at=T(7))
    actions = await handlers.sweep(job_context(flow.db, flow.rules, flow.repo.reader(), T(200)))
    assert check_of(actions, "patch-pipeline", HEAD).conclusion == "timed_out"
    assert [a.run_id for a in of(actions, "CancelWorkflowRun")] == [RUN]
    assert {n.number for n in of(actions, "Note")} == {0}


async def test_a_push_run_ended_before_github_reported_it_is_cancelled_when_it_is(flow):
    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    await flow.send("push", push_payload("go", before=C1, after=C2, files=SIGNED), at=T(1))
    actions = await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=C1), at=T(2))
    assert [a.run_id for a in of(actions, "CancelWorkflowRun")] == [RUN]
    assert {n.number for n in of(actions, "Note")} == {0}


# --- what a refusal leaves on the branch -------------------------------------------------

async def test_after_a_refusal_whose_patches_could_not_be_listed_the_next_push_lists_the_tree(flow, key):
    """The refused head's patches are unknown: a fast-forward push listing only its own files
    would pass with them still on the branch. It lists the tree at its head instead."""
    flow.rules = rules(key, push_branches=["go"], patches=["*.patch"])
    sign(flow, C1, OTHER, signed=False)
    flow.repo.truncated.add(C1)
    first = await flow.send("push", push_payload("go", after=C1, commits=0))
    assert check_of(first, "patch-signature", C1).title == "Patches could not be listed"
    sign(flow, C2, OTHER, signed=False)  # still on the branch at C2
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(1))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "failure" and OTHER in sig.summary
    assert ("recursive", C2) in flow.repo.tree_requests(flow.reader)
    assert not of(actions, "DispatchWorkflow")
    row, _ = await flow.state(C2)
    assert row["status"] == "rejected" and OTHER in json.loads(row["patches"])
    assert not (await branch_state(flow))["unlisted"] and OTHER in (await branch_state(flow))["pending"]


async def test_a_push_refused_for_too_many_patches_carries_them_to_the_next_head(flow):
    from bot.features.patch_pipeline.verification import MAX_PATCHES

    many = [f"patches/queue/{i:04}.patch" for i in range(MAX_PATCHES + 1)]
    for sha in (C1, C2):
        for path in many:
            sign(flow, sha, path)
    first = await flow.send("push", push_payload("go", after=C1, files=many))
    assert check_of(first, "patch-signature", C1).conclusion == "failure"  # one left unverified
    row, _ = await flow.state(C1)
    assert sorted(json.loads(row["patches"])) == many  # the patches, not the verdict's label
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(1))
    sig = check_of(actions, "patch-signature", C2)
    # Each patch's bytes differ at C2 (sign): verified again, MAX_PATCHES of them, the rest still owed.
    assert sig.conclusion == "failure" and "1 more patch" in sig.summary
    assert not of(actions, "DispatchWorkflow")
    assert sorted(json.loads((await flow.state(C2))[0]["patches"])) == many


# --- a head decided for a pull request, then pushed to a gated branch ----------------------

async def test_a_pull_requests_head_pushed_onto_a_branch_with_refused_patches_is_decided_with_them(flow):
    """HEAD was decided for PR #7 (its own patch, signed). Pushed to ``go``, where C1's unsigned
    patch still is: the branch's patches are checked on it, and its pipeline withdrawn."""
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    await flow.send("pull_request", pr_payload("opened", head=HEAD), at=T(1))
    assert (await flow.state(HEAD))[0]["status"] == "dispatched"
    flow.repo.put(HEAD, OTHER, b"unsigned, from C1")
    actions = await flow.send("push", push_payload("go", before=C1, after=HEAD, files=["README.md"]), at=T(2))
    assert check_of(actions, "patch-signature", HEAD).conclusion == "failure"
    assert check_of(actions, "patch-pipeline", HEAD).conclusion == "cancelled"
    row, _ = await flow.state(HEAD)
    assert (row["status"], row["branch"], row["number"]) == ("rejected", "go", 7)
    assert sorted(json.loads(row["patches"])) == sorted([SIGNED_PATCH, OTHER])


async def test_a_pull_requests_head_pushed_with_nothing_new_keeps_its_decision(flow):
    await flow.send("pull_request", pr_payload("opened", head=HEAD))
    assert acted(await flow.send("push", push_payload("go", after=HEAD, files=SIGNED), at=T(1))) == []
    row, _ = await flow.state(HEAD)
    assert (row["status"], row["branch"], row["number"]) == ("dispatched", None, 7)
    state = await branch_state(flow)
    assert (state["head_sha"], state["pending"]) == (HEAD, [SIGNED_PATCH])  # owed until HEAD's pipeline passes


async def passes(flow: SignedFlow, head: str, run_id: int, at: int) -> None:
    """The pipeline dispatched for ``head`` runs as ``run_id`` and passes, from second ``at`` on."""
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=run_id, head=head, created=T(at)),
                    at=T(at + 1))
    for i, stage in enumerate(("patch-apply", "kselftest-go", "boot-to-initrd")):
        await flow.send("workflow_job", job_payload(stage, "completed", "success", run_id=run_id, job_id=run_id + i,
                                                    started=T(at + 2), completed=T(at + 3)), at=T(at + 4 + i))
    assert (await flow.state(head))[1].conclusion == "success"


# --- pushes that do not continue from the head the bot knows -------------------------------

async def test_a_push_delivered_first_of_two_is_read_from_the_tree_and_the_late_one_decides_nothing(flow):
    """go moved MAIN -> C1 (an unsigned patch) -> C2 (a signed one). C2's push, delivered first,
    does not continue from MAIN: C2 is read from its tree, which still holds C1's patch, and is
    refused. C1's push, delivered late, is no head any more: it decides nothing, asks for no tree."""
    evil = "patches/kernel/0003-unsigned.patch"
    sign(flow, C2, OTHER)
    flow.repo.put(C2, evil, b"C1 brought it, unsigned; C2 still holds it")
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=[OTHER, OTHER + ".sig"]))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "failure" and evil in sig.summary
    assert not of(actions, "DispatchWorkflow")
    late = await flow.send("push", push_payload("go", after=C1, files=[evil]), at=T(1), moves_branch=False)
    assert late == [] and flow.repo.tree_requests(flow.reader) == []
    assert await flow.state(C1) is None
    assert (await branch_state(flow))["head_sha"] == C2


async def test_a_late_push_never_supersedes_the_newer_heads_run(flow):
    sign(flow, C2, OTHER)
    first = await flow.send("push", push_payload("go", before=C1, after=C2, files=[OTHER, OTHER + ".sig"]))
    assert dispatched_patches(first) == [SIGNED_PATCH, OTHER]  # the tree's: C1's patch too
    assert await flow.send("push", push_payload("go", after=C1, files=SIGNED), at=T(1), moves_branch=False) == []
    assert (await flow.state(C2))[0]["status"] == "dispatched"


async def test_a_first_push_to_a_branch_is_read_from_its_tree(flow):
    """Nothing known of linux-next/x: whatever its history brought is read at the pushed commit."""
    sign(flow, C1, OTHER, signed=False)
    actions = await flow.send("push", push_payload("linux-next/x", after=C1, files=["README.md"]))
    assert check_of(actions, "patch-signature", C1).conclusion == "failure"
    assert ("level", C1) in flow.repo.tree_requests(flow.reader)


async def test_a_force_push_back_to_a_refused_head_is_decided_again(flow):
    """C1 (an unsigned patch) refused; C2 signs it and passes; a force-push brings C1 back. That
    is no redelivery: C1 is decided again, refused, and the branch owes its patch again."""
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    sign(flow, C2, OTHER)
    await flow.send("push", push_payload("go", before=C1, after=C2, files=[OTHER + ".sig"]), at=T(1))
    await passes(flow, C2, RUN, 2)
    back = {**push_payload("go", before=C2, after=C1, commits=0), "forced": True}
    actions = await flow.send("push", back, at=T(20))
    assert check_of(actions, "patch-signature", C1).conclusion == "failure"
    flow.repo.put(C3, OTHER, b"still unsigned")
    actions = await flow.send("push", push_payload("go", before=C1, after=C3, files=SIGNED), at=T(21))
    assert check_of(actions, "patch-signature", C3).conclusion == "failure"
    assert not of(actions, "DispatchWorkflow")


async def test_a_head_decided_for_another_branch_leaves_this_branchs_refusal(flow):
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    # C1 pushed to a second gated branch: decided (refused) for it too...
    await flow.send("push", push_payload("linux-next/x", after=C1, files=[OTHER]), at=T(1))
    # ...and go still owes OTHER: its next head, which still holds it unsigned, is refused.
    flow.repo.put(C2, OTHER, b"still unsigned")
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=SIGNED), at=T(2))
    assert check_of(actions, "patch-signature", C2).conclusion == "failure"
    assert (await branch_state(flow))["pending"] == sorted([SIGNED_PATCH, OTHER])


async def test_rerun_on_a_branch_head_that_is_also_a_pull_requests_decides_it_with_what_the_branch_owes(flow):
    """HEAD, go's head, refused for go's unsigned OTHER; PR #7 (of HEAD) changes only its signed
    patch. "Re-run" from the PR must not pass the commit on the PR's patch alone: the commit's
    checks are one, and OTHER is on it."""
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    flow.repo.put(HEAD, OTHER, b"unsigned, from C1")
    await flow.send("push", push_payload("go", before=C1, after=HEAD, files=SIGNED), at=T(1))
    assert (await flow.state(HEAD))[0]["status"] == "rejected"
    flow.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    rerun = await flow.send("check_run", rerequested("patch-signature", HEAD, prs=[{"number": 7}]), at=T(2))
    assert check_of(rerun, "patch-signature", HEAD).conclusion == "failure"
    assert not of(rerun, "DispatchWorkflow")
    assert (await branch_state(flow))["pending"] == sorted([SIGNED_PATCH, OTHER])


async def test_a_pull_requests_decision_of_a_branch_head_carries_what_the_branch_owes(flow):
    """The same through the pull request's own path (its head is go's head; a closed PR's
    Re-run still reaches the branch): the branch's patches go into the decision."""
    sign(flow, C1, OTHER)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER, OTHER + ".sig"]))
    flow.repo.put(C1, OTHER + ".sig", b"signature replaced by garbage")  # the key changed, say
    flow.repo.pulls[7] = {"number": 7, "state": "closed", "head": {"sha": C1}}
    rerun = await flow.send("check_run", rerequested("patch-pipeline", C1, prs=[{"number": 7}]), at=T(2))
    assert check_of(rerun, "patch-signature", C1).conclusion == "failure"
    assert check_of(rerun, "patch-pipeline", C1).conclusion == "cancelled"


async def test_a_pull_requests_next_push_leaves_the_branch_heads_pipeline_running(flow):
    await flow.send("pull_request", pr_payload("opened", head=HEAD))
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED), at=T(1))
    assert (await branch_state(flow))["head_sha"] == HEAD
    actions = await flow.send("pull_request", pr_payload("synchronize", head=HEAD2), at=T(2))
    assert not [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD]
    assert (await flow.state(HEAD))[0]["status"] == "dispatched"


async def test_a_head_decided_again_ends_its_running_pipeline_whose_run_then_counts_for_nothing(flow):
    """HEAD runs for PR #7 with its own patch; pushed to go, which owes OTHER, it is decided
    again with both. The first run is cancelled, and its success is not the new pipeline's."""
    sign(flow, C1, OTHER)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER, OTHER + ".sig"]))
    await flow.send("pull_request", pr_payload("opened", head=HEAD), at=T(1))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=HEAD, created=T(2)), at=T(3))
    flow.repo.put(HEAD, OTHER, SIGNED_DATA + OTHER.encode() + C1.encode())
    flow.repo.put(HEAD, OTHER + ".sig", flow.repo.files[C1][OTHER + ".sig"])
    actions = await flow.send("push", push_payload("go", before=C1, after=HEAD, files=["README.md"]), at=T(4))
    assert [a.run_id for a in of(actions, "CancelWorkflowRun")] == [RUN]
    assert dispatched_patches(actions) == [SIGNED_PATCH, OTHER]
    # The cancelled run's events (named by HEAD, created within the skew) are not the new pipeline's.
    done = workflow_run_payload("completed", run_id=RUN, head=HEAD, created=T(2), status="completed",
                                conclusion="success")
    await flow.send("workflow_run", done, at=T(5))
    row, run = await flow.state(HEAD)
    assert (row["status"], run.run_id) == ("dispatched", None)
    assert await store.owed_cancel(flow.db, REPO, RUN) is None  # its completion settled the cancel
    # A job event of it arriving after that is not the new pipeline's either.
    flow.repo.runs[RUN] = done["workflow_run"]
    await flow.send("workflow_job", job_payload("patch-apply", "completed", "success", run_id=RUN, job_id=1,
                                                started=T(2), completed=T(3)), at=T(6))
    row, run = await flow.state(HEAD)
    assert (row["status"], run.run_id) == ("dispatched", None)


async def test_the_runs_the_bot_ended_are_forgotten_after_a_month(flow):
    from bot.features.patch_pipeline.store import ENDED_RUN_KEEP

    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    await flow.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=C1, created=T(1)), at=T(2))
    await flow.send("push", push_payload("go", before=C1, after=C2, files=SIGNED), at=T(3))  # C1 superseded
    assert await store.ended_run(flow.db, REPO, RUN)
    sweep = lambda at: handlers.sweep(job_context(flow.db, flow.rules, flow.repo.reader(), at))  # noqa: E731
    assert not [a for a in await sweep(T(60)) if getattr(a, "op", "") == "forget_ended_runs"]
    actions = await sweep(T(ENDED_RUN_KEEP + 10))
    from .conftest import apply_records
    await apply_records(flow.db, [a for a in actions if getattr(a, "op", "") == "forget_ended_runs"])
    assert not await store.ended_run(flow.db, REPO, RUN)


# --- payloads not shaped as GitHub's -----------------------------------------------------------

@pytest.mark.parametrize("commits", [
    {"0": {"added": ["x"]}},                                   # not a list
    ["a commit id"],                                           # an entry that is no object
    [{"added": "patches/kernel/0001.patch", "modified": [], "removed": []}],  # a string, not a list
    [{"added": [], "modified": [7], "removed": []}],           # a name that is no string
    [{"added": [], "removed": []}],                            # a list missing
])
def test_a_malformed_commits_list_is_read_from_the_tree_not_as_no_files(commits):
    payload = {**push_payload("go", before=C1, after=C2, files=["README.md"]), "commits": commits}
    assert pushes.pushed_files(payload) is None


def test_a_well_formed_commits_list_gives_its_files():
    payload = push_payload("go", before=C1, after=C2, files=["README.md", OTHER], commits=2)
    payload["commits"][1]["added"] = [SIGNED_PATCH]
    assert pushes.pushed_files(payload) == tuple(sorted(["README.md", OTHER, SIGNED_PATCH]))


async def test_a_malformed_push_is_gated_by_its_tree(flow):
    sign(flow, C1, OTHER, signed=False)
    payload = {**push_payload("go", after=C1, files=["README.md"]), "commits": [{"added": "README.md"}]}
    actions = await flow.send("push", payload)
    assert check_of(actions, "patch-signature", C1).conclusion == "failure"


# --- a push that continues from the known head, but is no head any more ----------------------

async def test_a_push_that_is_no_head_any_more_decides_nothing_and_the_head_reads_the_tree(flow):
    """go moved MAIN -> C1 -> C2 before either push was delivered: C1's push (continuing from
    MAIN) decides and records nothing; C2's does not continue from what the bot knows, reads
    the tree and finds C1's unsigned patch."""
    sign(flow, C1, OTHER, signed=False)
    flow.repo.branches["go"] = C2
    handed = await flow.send("push", push_payload("go", after=C1, files=[OTHER]), moves_branch=False)
    assert handed == []
    assert (await branch_state(flow))["head_sha"] == MAIN  # nothing recorded: C2's push reads the tree
    flow.repo.put(C2, OTHER, b"still unsigned")
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=["README.md"]), at=T(1))
    assert check_of(actions, "patch-signature", C2).conclusion == "failure"


async def test_a_push_github_does_not_show_yet_is_asked_again_later(flow):
    from bot.core.retry import RetryLater

    flow.repo.branches["go"] = MAIN  # a read that has not caught up with the push
    with pytest.raises(RetryLater):
        await flow.decide("push", push_payload("go", after=C1, files=SIGNED), NOW, moves_branch=False)
    # Minutes later GitHub still shows MAIN: the branch was moved back since; nothing to decide.
    late = await flow.decide("push", push_payload("go", after=C1, files=SIGNED), NOW + timedelta(minutes=10),
                             moves_branch=False, received=NOW)
    assert late == []  # no head: nothing decided, nothing recorded


async def test_after_the_patch_globs_change_a_push_reads_the_tree(flow, key):
    """x.diff was no patch when it was pushed; the globs now take it. Nothing owed it: the next
    push reads the tree instead of trusting what it brings."""
    diff = "patches/kernel/0009-x.diff"
    flow.repo.put(C1, diff, b"unsigned, no patch then")
    await flow.send("push", push_payload("go", after=C1, files=[diff]))
    flow.rules = rules(key, push_branches=["go"], patches=["patches/**/*.patch", "patches/**/*.diff"])
    flow.repo.put(C2, diff, b"unsigned, a patch now")
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=SIGNED), at=T(1))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "failure" and diff in sig.summary


@pytest.mark.parametrize("forced", [True, None])  # a force-push, or a payload that does not say
async def test_a_push_not_known_to_be_a_fast_forward_reads_the_tree(flow, forced):
    sign(flow, C1, OTHER, signed=False)
    payload = push_payload("go", after=C1, files=SIGNED)
    if forced is None:
        del payload["forced"]
    else:
        payload["forced"] = forced
    actions = await flow.send("push", payload)
    assert check_of(actions, "patch-signature", C1).conclusion == "failure"  # OTHER, from the tree


async def test_rerun_after_the_patch_globs_change_reads_the_tree(flow, key):
    """x.diff was no patch when C1 was decided; the globs now take it. "Re-run" on C1 does not
    go by what that decision checked: the tree is read, and x.diff, unsigned, refuses C1."""
    diff = "patches/kernel/0009-x.diff"
    flow.repo.put(C1, diff, b"unsigned, no patch then")
    await flow.send("push", push_payload("go", after=C1, files=[*SIGNED, diff]))
    flow.rules = rules(key, push_branches=["go"], patches=["patches/**/*.patch", "patches/**/*.diff"])
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.conclusion == "failure" and diff in sig.summary


async def test_a_pull_requests_decision_of_a_branch_head_decided_under_other_globs_reads_the_tree(flow, key):
    """go's head C1 was decided (owing nothing) before the globs took x.diff; PR #7 of C1
    changes only its signed patch. Its decision of C1 cannot go by what go owed: the tree is
    read, and x.diff refuses C1."""
    diff = "patches/kernel/0009-x.diff"
    flow.repo.put(C1, diff, b"unsigned, no patch then")
    flow.rules = rules(key, push_branches=["go"], patches=["patches/**/*.patch", "patches/**/*.diff"])
    await store.branch_decided(flow.db, repo=REPO, branch="go", head_sha=C1, pending=[], unlisted=False,
                               at=NOW.timestamp(), rules="the globs before")
    flow.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": C1}}
    flow.repo.pr_files[7] = SIGNED
    actions = await flow.send("pull_request", pr_payload("opened", head=C1), at=T(1))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.conclusion == "failure" and diff in sig.summary


async def test_a_push_deleting_a_signature_leaves_its_patch_owed(flow):
    """OTHER was signed at C1 (and passed); C2 deletes only its signature. The patch is unsigned
    now: it is decided again, not dropped with the deleted file."""
    sign(flow, C1, OTHER)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER, OTHER + ".sig"]))
    await passes(flow, C1, RUN, 1)
    flow.repo.put(C2, OTHER, SIGNED_DATA + OTHER.encode() + C1.encode())  # no signature at C2
    payload = push_payload("go", before=C1, after=C2, files=[])
    payload["commits"] = [{**payload["head_commit"], "id": "d" * 40, "added": [], "modified": [],
                           "removed": [OTHER + ".sig"]}] if payload["head_commit"] else \
        [{"id": "d" * 40, "added": [], "modified": [], "removed": [OTHER + ".sig"]}]
    actions = await flow.send("push", payload, at=T(20))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "failure" and OTHER in sig.summary


async def test_rerun_from_a_pull_request_reaches_it_when_the_branch_has_moved_on(flow):
    """go's known head HEAD is also PR #7's; go has moved on (its push not delivered yet):
    "Re-run" is the pull request's, and is not swallowed by the branch."""
    await flow.send("push", push_payload("go", after=HEAD, files=SIGNED))
    flow.repo.branches["go"] = C2
    flow.repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    actions = await flow.send("check_run", rerequested("patch-signature", HEAD, prs=[{"number": 7}]), at=T(5))
    assert check_of(actions, "patch-signature", HEAD).conclusion == "success"
    assert of(actions, "DispatchWorkflow")[0].inputs["pr_number"] == "7"



async def test_a_pull_requests_decision_never_moves_a_branch_back(flow):
    """/verify-patch on PR #7 of C1, go's head, is decided (on the PR's queue) while go is pushed
    on to C2: written after that push, it leaves go at C2, owing what C2's decision said."""
    from .conftest import apply_records, context, pr_payload as pr

    await flow.send("push", push_payload("go", after=C1, files=SIGNED))
    _, ctx = context("issue_comment", pr("opened"), db=flow.db, repo=flow.repo, rules=flow.rules, now=T(1))
    verified = await handlers.gate(ctx, 7, C1, SIGNED)
    assert [a.args["branch"] for a in verified if getattr(a, "op", "") == "branch_decided"] == ["go"]
    sign(flow, C2, OTHER, signed=False)
    await flow.send("push", push_payload("go", before=C1, after=C2, files=[OTHER]), at=T(2))
    # (Its other writes go stale on C1's row, which the push changed: what matters is the branch's.)
    await apply_records(flow.db, [a for a in verified if getattr(a, "op", "") == "branch_decided"])
    state = await branch_state(flow)
    assert (state["head_sha"], OTHER in state["pending"]) == (C2, True)


async def test_one_delivery_decides_a_commit_once(flow):
    """Two /verify-patch lines in one comment: the second decides nothing (made on the same reads,
    it would end the first's pipeline as if it were an older one)."""
    from .conftest import context, pr_payload as pr

    _, ctx = context("issue_comment", pr("opened"), db=flow.db, repo=flow.repo, rules=flow.rules)
    assert of(await handlers.gate(ctx, 7, HEAD, SIGNED), "DispatchWorkflow")
    assert await handlers.gate(ctx, 7, HEAD, SIGNED) == []


async def test_a_commit_refused_for_a_branch_after_its_pipeline_passed_loses_its_green_pipeline_check(flow):
    sign(flow, C1, OTHER, signed=False)
    await flow.send("push", push_payload("go", after=C1, files=[OTHER]))
    await flow.send("pull_request", pr_payload("opened", head=HEAD), at=T(1))
    await passes(flow, HEAD, RUN, 2)
    flow.repo.put(HEAD, OTHER, b"unsigned, from C1")
    actions = await flow.send("push", push_payload("go", before=C1, after=HEAD, files=SIGNED), at=T(20))
    assert check_of(actions, "patch-signature", HEAD).conclusion == "failure"
    pipeline = check_of(actions, "patch-pipeline", HEAD)
    assert (pipeline.conclusion, pipeline.title) == ("failure", "Not trusted: the patches are not verified")


async def test_a_decision_that_failed_does_not_stop_the_next_call_in_the_delivery(flow, monkeypatch):
    """pull_request.opened whose body holds /verify-patch: if the PR handler's decision fails
    (a 403 reading a file, say), the command's own decision of the head is still made."""
    from .conftest import context, pr_payload as pr

    from bot.features.patch_pipeline import head_verification

    real = head_verification.verify_patches

    async def fails_once(*args, **kwargs):
        monkeypatch.setattr(head_verification, "verify_patches", real)
        raise RuntimeError("GitHub said no")

    monkeypatch.setattr(head_verification, "verify_patches", fails_once)
    _, ctx = context("pull_request", pr("opened"), db=flow.db, repo=flow.repo, rules=flow.rules)
    with pytest.raises(RuntimeError):
        await handlers.gate(ctx, 7, HEAD, SIGNED)
    assert of(await handlers.gate(ctx, 7, HEAD, SIGNED), "DispatchWorkflow")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_wait_for_a_push_github_does_not_show_yet_is_not_cut_short_by_few_attempts(
        database_url, key, tmp_path):
    """core.max_attempts: 2. GitHub shows the branch where it was for the whole grace: the worker
    decides the push again each time the feature asks (every STALE_READ_RETRY seconds), and those
    waits are no attempts of the delivery's, so it ends having decided the push (no head: nothing),
    not dead after two tries with every other feature's actions of the delivery lost with it."""
    import shutil
    import time
    from pathlib import Path

    import yaml

    from bot.runtime import open_runtime
    from bot.settings import Settings
    from bot.store import deliveries
    from bot.worker import handle

    rules_dir = tmp_path / "rules"
    shutil.copytree(BUNDLED_RULES, rules_dir)
    core = yaml.safe_load((Path(BUNDLED_RULES) / "core.yml").read_text())
    (rules_dir / "core.yml").write_text(yaml.safe_dump({**core, "max_attempts": 2}))
    settings = Settings(webhook_secret="s", database_url=database_url, retry_base=0.05, rules_dir=str(rules_dir))
    async with open_runtime(settings, with_github=False) as rt:
        assert int(rt.bundled["core"]["max_attempts"]) == 2
        flow = SignedFlow(rt.db, key)
        flow.rules = rules(key, push_branches=["go"])
        await known(flow, "go", MAIN)
        flow.repo.branches["go"] = MAIN  # a read that has not caught up with the push, all along
        await deliveries.insert(rt.db, delivery_id="d", event="push", action="", repo="",
                                subject=f"{REPO}@go", installation_id=None, body="{}")
        decided: list = []
        statuses: list[str] = []
        for attempt in range(6):
            at = NOW + timedelta(seconds=attempt * handlers.STALE_READ_RETRY)

            async def process(runtime, d):
                decided.extend(await flow.decide("push", push_payload("go", after=C1, files=SIGNED), at,
                                                 moves_branch=False, received=NOW))
            row = await deliveries.get(rt.db, "d")
            taken = (await deliveries.claim(rt.db, worker="w", busy_subjects=set(), limit=1,
                                            now=time.time() + 10 ** 6))[0]
            assert taken.seq == row.seq
            statuses.append((await handle(rt, taken, process)).status)
            if statuses[-1] != "failed":
                break
    assert statuses == ["failed", "failed", "failed", "done"]
    assert decided == []  # past the grace the push is no head: nothing decided


async def test_a_gated_trigger_ref_head_does_not_take_the_runs_dispatched_for_pull_requests(db, key):
    """trigger.ref (``main``) is itself gated: every workflow_dispatch run has ``main``'s commit
    as its head_sha, so the branch head's pipeline would match the run of any pull request's
    dispatch by head_sha alone. A run whose run-name names a head SHA is that head's only."""
    f = SignedFlow(db, key)
    f.key = key
    f.rules = rules(key, push_branches=["main"])
    await known(f, "main", "0" * 39 + "1")
    sign(f, MAIN)
    assert of(await f.send("pull_request", pr_payload("opened")), "DispatchWorkflow")
    assert of(await f.send("push", push_payload("main", after=MAIN, before="0" * 39 + "1", files=SIGNED),
                           at=T(2)), "DispatchWorkflow")
    # The pull request's run: dispatched on main (head_sha MAIN), run-name naming HEAD.
    await f.send("workflow_run", workflow_run_payload("requested", run_id=RUN, head=HEAD), at=T(5))
    _, pr_run = await f.state(HEAD)
    _, branch_run = await f.state(MAIN)
    assert (pr_run.run_id, branch_run.run_id) == (RUN, None)
    # The branch head's own run (run-name naming MAIN) is the branch's.
    await f.send("workflow_run", workflow_run_payload("requested", run_id=RUN + 1, head=MAIN), at=T(6))
    _, branch_run = await f.state(MAIN)
    assert branch_run.run_id == RUN + 1

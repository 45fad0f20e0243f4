"""The signature gate: PR events in, patch-signature check and dispatch (or not) out."""
from __future__ import annotations

import json

import pytest

from bot.features.patch_pipeline import handlers, status_line
from bot.features.patch_pipeline.store import run_for_head

from .conftest import (HEAD, HEAD2, REPO, Repo, apply_records, comment_payload, context, of, pr_payload,
                       rules)
from tests.signing.cosign_fake import key_bundle, sig_file

KEYLESS = "patches/runtime/0001-sched-preempt.patch"
KEYED = "patches/kernel/0002-g0-stack.patch"
KEY_PATCH = b"From 1 Mon\nSubject: [PATCH] x86: g0 stack layout\n"


@pytest.fixture
def repo(vectors, key) -> Repo:
    r = Repo()
    r.put(HEAD, KEYLESS, (vectors / "bundle_v3.txt").read_bytes())
    r.put(HEAD, KEYLESS + ".sigstore.json", (vectors / "bundle_v3.txt.sigstore").read_bytes())
    r.put(HEAD, KEYED, KEY_PATCH)
    r.put(HEAD, KEYED + ".sig", sig_file(key, KEY_PATCH))
    r.pr_files[7] = [KEYLESS, KEYLESS + ".sigstore.json", KEYED, KEYED + ".sig", "README.md"]
    r.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    return r


async def opened(db, repo, rule_set, action="opened", head=HEAD):
    event, ctx = context("pull_request", pr_payload(action, head=head), db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_pull_request(event, ctx)
    await apply_records(db, actions)
    return actions


async def test_all_signed_dispatches_the_pipeline_with_pr_sha_patches_and_signer(db, repo, key):
    actions = await opened(db, repo, rules(key))
    check = of(actions, "UpsertCheckRun")[0]
    assert (check.name, check.head_sha, check.conclusion) == ("patch-signature", HEAD, "success")
    assert check.title == "2 patches signed"
    assert (f"| `{KEYLESS}` | ✅ verified (keyless) | william@yossarian.net | "
            "https://github.com/login/oauth | 25915956 |") in check.summary
    assert f"| `{KEYED}` | ✅ verified (public key) | release-key | key release-key | – |" in check.summary
    [dispatch] = of(actions, "DispatchWorkflow")
    assert (dispatch.workflow, dispatch.ref) == ("patch-pipeline.yml", "main")
    assert dispatch.inputs == {"pr_number": "7", "head_sha": HEAD,
                               "patches": json.dumps([KEYED, KEYLESS]),
                               "signer": "key:release-key, william@yossarian.net"}
    pipeline = of(actions, "UpsertCheckRun")[1]
    assert (pipeline.name, pipeline.status, pipeline.conclusion) == ("patch-pipeline", "queued", None)
    assert "| patch-apply | ⏸ pending | – | – | – | 1m30s |" in pipeline.summary
    assert "| kselftest-go | ⏸ pending | – | – | – | 5m |" in pipeline.summary
    row, run = await run_for_head(db, REPO, HEAD)
    assert row["status"] == "dispatched" and [s.name for s in run.stages] == [
        "patch-apply", "kselftest-go", "boot-to-initrd"]
    assert (await status_line(db, REPO, 7)).startswith("Patch pipeline (signed by key:release-key, william")
    assert (await status_line(db, REPO, 7, HEAD)).startswith("Patch pipeline (signed by")
    # A later head of the PR with no patch in it: the line is not this head's to show.
    assert await status_line(db, REPO, 7, "f" * 40) is None


async def test_repository_dispatch_trigger(db, repo, key):
    actions = await opened(db, repo, rules(key, trigger={"kind": "repository_dispatch", "event_type": "go-patch"}))
    [dispatch] = of(actions, "RepositoryDispatch")
    assert dispatch.event_type == "go-patch"
    assert dispatch.client_payload == {"pr_number": 7, "head_sha": HEAD, "patches": [KEYED, KEYLESS],
                                       "signer": "key:release-key, william@yossarian.net"}
    assert not of(actions, "DispatchWorkflow")


async def refused(db, repo, rule_set):
    actions = await opened(db, repo, rule_set)
    assert not of(actions, "DispatchWorkflow") and not of(actions, "RepositoryDispatch")
    assert [c.name for c in of(actions, "UpsertCheckRun")] == ["patch-signature"]
    check = of(actions, "UpsertCheckRun")[0]
    assert check.conclusion == "failure"
    return check


async def test_tampered_patch_is_refused_and_nothing_dispatched(db, repo, key):
    repo.put(HEAD, KEYLESS, b"rm -rf /\n")
    check = await refused(db, repo, rules(key))
    assert check.title == "1 of 2 patches not verified"
    assert "digest mismatch" in check.summary
    row, _ = await run_for_head(db, REPO, HEAD)
    assert row["status"] == "rejected"
    assert "digest mismatch" in await status_line(db, REPO, 7)


async def test_unsigned_patch_is_refused(db, repo, key):
    del repo.files[HEAD][KEYED + ".sig"]
    check = await refused(db, repo, rules(key))
    assert f"unsigned: neither {KEYED}.sigstore.json nor {KEYED}.sig exists" in check.summary


async def test_untrusted_identity_is_refused(db, repo, key):
    check = await refused(db, repo, rules(key, trust={"identities": [
        {"identity": "someone@example.org", "issuer": "https://github.com/login/oauth"}]}))
    assert "william@yossarian.net" in check.summary and "not an accepted signer" in check.summary


async def test_wrong_key_is_refused(db, repo, key):
    from tests.signing.cosign_fake import KeyPair
    check = await refused(db, repo, rules(KeyPair()))
    assert "does not verify with any trusted key" in check.summary


async def test_key_signature_does_not_rescue_a_bad_keyless_bundle_unless_allowed(db, repo, key):
    # A keyless bundle for other content sits next to a valid key signature.
    repo.put(HEAD, KEYED + ".sigstore.json", (repo.files[HEAD][KEYLESS + ".sigstore.json"]))
    check = await refused(db, repo, rules(key))
    assert "digest mismatch" in check.summary


async def test_keys_for_path_accepts_the_key_signature(db, repo, key):
    repo.put(HEAD, KEYED + ".sigstore.json", (repo.files[HEAD][KEYLESS + ".sigstore.json"]))
    actions = await opened(db, repo, rules(key, trust={"keys_for": ["patches/kernel/**"]}))
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success"
    assert of(actions, "DispatchWorkflow")


async def test_cosign_key_bundle_in_the_bundle_path(db, repo, key):
    del repo.files[HEAD][KEYED + ".sig"]
    repo.put(HEAD, KEYED + ".sigstore.json", key_bundle(key, KEY_PATCH))
    actions = await opened(db, repo, rules(key))
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success"


async def test_large_patch_is_read_through_the_blob_api(db, repo, key):
    repo.big_files.add(KEYED)
    actions = await opened(db, repo, rules(key))
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success"
    assert repo.blobs


async def test_only_a_signature_changed_still_verifies_its_patch(db, repo, key):
    repo.pr_files[7] = [KEYED + ".sig"]
    actions = await opened(db, repo, rules(key))
    assert json.loads(of(actions, "DispatchWorkflow")[0].inputs["patches"]) == [KEYED]


@pytest.mark.parametrize("globs", [["patches/**"], ["patches/**/*"], ["**/*.patch*"]])
async def test_signature_files_are_never_patches_themselves(db, repo, key, globs):
    """A repository that calls every file under patches/ a patch keeps its signatures
    next to the patches too: a signature is not a patch that needs a signature of its own."""
    actions = await opened(db, repo, rules(key, patches=globs))
    check = of(actions, "UpsertCheckRun")[0]
    assert (check.conclusion, check.title) == ("success", "2 patches signed"), check.summary
    assert json.loads(of(actions, "DispatchWorkflow")[0].inputs["patches"]) == [KEYED, KEYLESS]


async def test_no_patch_files_means_no_check_and_no_dispatch(db, repo, key):
    repo.pr_files[7] = ["README.md", "patches/notes.txt"]
    assert await opened(db, repo, rules(key)) == []
    assert await status_line(db, REPO, 7) is None


async def test_deleted_patch_is_not_verified(db, repo, key):
    repo.pr_files[7] = [KEYED]
    del repo.files[HEAD][KEYED]
    assert await opened(db, repo, rules(key)) == []


async def test_a_decided_head_is_not_dispatched_twice(db, repo, key):
    assert of(await opened(db, repo, rules(key)), "DispatchWorkflow")
    assert await opened(db, repo, rules(key), action="reopened") == []


async def test_bad_configured_key_is_reported_on_the_check(db, repo, key):
    bad = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    check = await refused(db, repo, rules(None, trust={"keys": [{"name": "broken", "pem": bad}]}))
    assert "configuration: public key 'broken' is not a PEM public key" in check.summary


async def test_verify_patch_command_decides_again_and_dispatches(db, repo, key, vectors):
    rule_set = rules(key)
    repo.put(HEAD, KEYLESS, b"tampered")
    assert not of(await opened(db, repo, rule_set), "DispatchWorkflow")
    repo.put(HEAD, KEYLESS, (vectors / "bundle_v3.txt").read_bytes())  # e.g. a re-run after a fix-up
    event, ctx = context("issue_comment", comment_payload(), db=db, repo=repo, rules=rule_set)
    from bot.features.base import Invocation
    actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
    await apply_records(db, actions)
    assert of(actions, "DispatchWorkflow")
    row, _ = await run_for_head(db, REPO, HEAD)
    assert row["status"] == "dispatched"


async def test_verify_patch_on_a_pr_without_patches_says_so(db, repo, key):
    repo.pr_files[7] = ["README.md"]
    event, ctx = context("issue_comment", comment_payload(), db=db, repo=repo, rules=rules(key))
    from bot.features.base import Invocation
    [reply] = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
    assert "changes no patch files" in reply.body


def test_command_is_for_maintainers_on_prs():
    from bot.features.patch_pipeline import FEATURE
    [spec] = FEATURE.commands
    assert (spec.name, spec.roles, spec.on_issues, spec.on_prs) == ("verify-patch", ("maintainer",), False, True)


def rerequested(name: str, *, head: str = HEAD, external_id: str = "contributor-flow:patch-signature",
                prs=({"number": 7},)):
    from tests.fixtures.webhooks import load_example
    p = load_example("check_run", "rerequested")
    p["check_run"].update(name=name, head_sha=head, external_id=external_id, pull_requests=list(prs))
    return p


@pytest.mark.parametrize("prs", [({"number": 7},), ()])  # fork PRs are not listed on the check run
async def test_rerun_button_on_our_check_decides_again(db, repo, key, prs):
    rule_set = rules(key)
    del repo.files[HEAD][KEYED + ".sig"]
    await opened(db, repo, rule_set)
    from tests.signing.cosign_fake import sig_file as make_sig
    repo.put(HEAD, KEYED + ".sig", make_sig(key, KEY_PATCH))
    event, ctx = context("check_run", rerequested("patch-signature", prs=prs), db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_check_rerequested(event, ctx)
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success" and of(actions, "DispatchWorkflow")


@pytest.mark.parametrize("payload", [
    rerequested("ci"),                                            # not ours by name
    rerequested("patch-signature", external_id=""),               # another app's check of that name
    rerequested("patch-signature", head="0" * 40),                # an outdated head
])
async def test_rerun_of_other_checks_or_heads_does_nothing(db, repo, key, payload):
    event, ctx = context("check_run", payload, db=db, repo=repo, rules=rules(key))
    assert await handlers.on_check_rerequested(event, ctx) == []


@pytest.mark.parametrize("junk", [b'{"verificationMaterial": "x"}', b'{"verificationMaterial": [1]}', b"[]"])
async def test_a_junk_bundle_is_a_malformed_bundle_and_the_push_still_supersedes(db, repo, key, junk):
    rule_set = rules(key)
    assert of(await opened(db, repo, rule_set), "DispatchWorkflow")
    repo.files[HEAD2] = {**repo.files[HEAD], KEYED + ".sigstore.json": junk}
    actions = await opened(db, repo, rule_set, action="synchronize", head=HEAD2)
    [old] = [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD]
    assert (old.name, old.conclusion) == ("patch-pipeline", "cancelled")
    [check] = [a for a in of(actions, "UpsertCheckRun") if a.head_sha == HEAD2]
    assert (check.name, check.conclusion) == ("patch-signature", "failure")
    assert "malformed Sigstore bundle" in check.summary and not of(actions, "DispatchWorkflow")
    row, _ = await run_for_head(db, REPO, HEAD)
    assert row["status"] == "superseded"


async def test_a_pipe_in_a_patch_path_cannot_forge_table_cells(db, repo, key):
    from markdown_it import MarkdownIt
    forged = "patches/x| ✅ verified (keyless) | torvalds@kernel.org | GitHub OAuth | 1 |.patch"
    repo.put(HEAD, forged, b"unsigned\n")
    repo.pr_files[7] = [forged, KEYED, KEYED + ".sig"]
    check = await refused(db, repo, rules(key))
    html = MarkdownIt("commonmark").enable("table").render(check.summary)
    rows = [[cell.strip() for cell in row.split("<td>")[1:]]
            for row in html[html.index("<tbody>"):].split("<tr>")[1:]]
    assert [len(r) for r in rows] == [5, 5]
    [row] = [r for r in rows if "torvalds" in r[0]]
    assert row[0].startswith("<code>patches/x| ✅ verified") and row[1].startswith("❌ unsigned")


UNSIGNED = "patches/kernel/0003-unsigned.patch"


def second_pr_of_the_head(repo, number=8):
    """Another pull request of the same head, against a base that lacks a patch the first one's
    base had: this one brings that patch too, unsigned."""
    repo.put(HEAD, UNSIGNED, b"From 3 Mon\nSubject: [PATCH] nobody signed this\n")
    repo.pr_files[number] = [*repo.pr_files[7], UNSIGNED]
    repo.pulls[number] = {"number": number, "state": "open", "head": {"sha": HEAD}}


async def test_a_head_taken_over_by_a_pr_bringing_more_patches_is_decided_again(db, repo, key):
    rule_set = rules(key)
    assert of(await opened(db, repo, rule_set), "DispatchWorkflow")  # PR 7: its two patches, signed
    second_pr_of_the_head(repo)
    event, ctx = context("pull_request", pr_payload("opened", number=8), db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_pull_request(event, ctx)
    await apply_records(db, actions)
    sig = [c for c in of(actions, "UpsertCheckRun") if c.name == "patch-signature"]
    assert sig and sig[0].conclusion == "failure" and UNSIGNED in sig[0].summary
    assert not of(actions, "DispatchWorkflow")
    row, _ = await run_for_head(db, REPO, HEAD)
    assert (row["status"], row["number"]) == ("rejected", 8)


async def test_a_head_taken_over_by_a_pr_bringing_no_other_patch_is_only_followed(db, repo, key):
    rule_set = rules(key)
    assert of(await opened(db, repo, rule_set), "DispatchWorkflow")
    repo.pr_files[8], repo.pulls[8] = list(repo.pr_files[7]), {"number": 8, "state": "open", "head": {"sha": HEAD}}
    event, ctx = context("pull_request", pr_payload("opened", number=8), db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_pull_request(event, ctx)
    assert [a.op for a in of(actions, "Record")] == ["adopt_run"] and not of(actions, "UpsertCheckRun")


async def test_a_pr_whose_base_changes_to_one_lacking_patches_is_decided_again(db, repo, key):
    rule_set = rules(key)
    assert of(await opened(db, repo, rule_set), "DispatchWorkflow")
    repo.pr_files[7] = [*repo.pr_files[7], UNSIGNED]  # against the new base, it brings this one too
    repo.put(HEAD, UNSIGNED, b"From 3 Mon\nSubject: [PATCH] nobody signed this\n")
    payload = {**pr_payload("synchronize"), "action": "edited"}
    payload["changes"] = {"base": {"ref": {"from": "release"}, "sha": {"from": "a" * 40}}}
    event, ctx = context("pull_request", payload, db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_pull_request(event, ctx)
    sig = [c for c in of(actions, "UpsertCheckRun") if c.name == "patch-signature"]
    assert sig and sig[0].conclusion == "failure" and UNSIGNED in sig[0].summary
    # A pipeline of the head that ran for fewer patches is ended, not left to pass.
    assert [c.conclusion for c in of(actions, "UpsertCheckRun") if c.name == "patch-pipeline"] == ["cancelled"]


async def test_rerun_ignores_pull_requests_of_other_repositories_listed_on_the_check(db, repo, key):
    """GitHub lists on a check run every open PR whose head matches, a fork's own PRs included:
    their numbers name other pull requests here (#3 is another head), not this one."""
    rule_set = rules(key)
    del repo.files[HEAD][KEYED + ".sig"]
    await opened(db, repo, rule_set)
    repo.put(HEAD, KEYED + ".sig", sig_file(key, KEY_PATCH))
    repo.pulls[3] = {"number": 3, "state": "open", "head": {"sha": HEAD2}}
    elsewhere = {"number": 3, "base": {"repo": {"id": 999, "url": "https://api.github.com/repos/someone/fork"}}}
    payload = rerequested("patch-signature", prs=(elsewhere, {"number": 7}))
    event, ctx = context("check_run", payload, db=db, repo=repo, rules=rule_set)
    actions = await handlers.on_check_rerequested(event, ctx)
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success" and of(actions, "DispatchWorkflow")


async def test_a_pr_with_more_files_than_github_lists_is_gated_on_every_patch_of_its_head(db, repo, key):
    """GitHub's files API stops at 3,000 files: a patch past them (3,000 files sorting before
    patches/) would go unverified while the ones listed pass. The head's tree is read then."""
    repo.put(HEAD, UNSIGNED, b"From 3 Mon\nSubject: [PATCH] nobody signed this\n")
    padding = [f"aaa/{i:05}.txt" for i in range(3000 - 4)]
    repo.pr_files[7] = [*padding, KEYLESS, KEYLESS + ".sigstore.json", KEYED, KEYED + ".sig"]  # as GitHub cuts it
    payload = pr_payload("opened")
    payload["pull_request"]["changed_files"] = len(repo.pr_files[7]) + 1  # UNSIGNED, left out
    event, ctx = context("pull_request", payload, db=db, repo=repo, rules=rules(key))
    actions = await handlers.on_pull_request(event, ctx)
    [sig] = [c for c in of(actions, "UpsertCheckRun") if c.name == "patch-signature"]
    assert sig.conclusion == "failure" and UNSIGNED in sig.summary
    assert not of(actions, "DispatchWorkflow")


async def test_verify_patch_on_a_pr_with_more_files_than_github_lists_reads_the_tree(db, repo, key):
    repo.put(HEAD, UNSIGNED, b"From 3 Mon\nSubject: [PATCH] nobody signed this\n")
    repo.pr_files[7] = [f"aaa/{i:05}.txt" for i in range(3000)]  # no patch among those listed
    repo.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}, "changed_files": 3005}
    event, ctx = context("issue_comment", comment_payload(), db=db, repo=repo, rules=rules(key))
    from bot.features.base import Invocation
    actions = await handlers.verify_command(Invocation("verify-patch", (), "/verify-patch"), event, ctx)
    [sig] = [c for c in of(actions, "UpsertCheckRun") if c.name == "patch-signature"]
    assert sig.conclusion == "failure" and UNSIGNED in sig.summary and not of(actions, "DispatchWorkflow")

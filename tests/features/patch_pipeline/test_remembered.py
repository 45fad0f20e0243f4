"""Patches verified before are remembered by content (remembered.py): a tree read again, or a
pull request refreshing a patch queue, reads and verifies only the patches whose bytes (or whose
signatures' bytes) are new, or whose trust policy changed; more patches than one decision
verifies are verified over several decisions, each going on where the last left off."""
from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import unquote

import pytest

from bot.features.patch_pipeline import handlers, head_verification, lookups as L, pushes, remembered, store
from bot.github import PermanentGitHubError
from bot.features.patch_pipeline.verification import MAX_PATCHES, TABLE_ROOM, Verdict, render
from bot.signing import Verified, trusted_root_digest
from tests.signing.cosign_fake import KeyPair, sig_file

from .conftest import (MAIN, NOW, REPO, SIGNED_PATCH, apply_records, context, job_context, of, pr_payload,
                       push_payload, rules)
from .test_push_gate import C1, C2, check_of, dispatched_patches, flow, known, rerequested  # noqa: F401

T = lambda s: NOW + timedelta(seconds=s)  # noqa: E731
QUEUE = "patches/queue"
_signed: dict[tuple[int, bytes], bytes] = {}


def signature(key: KeyPair, data: bytes) -> bytes:
    """One signature per key and bytes: ECDSA signs with a random nonce, and a patch signed again
    is a new signature file, verified again."""
    return _signed.setdefault((id(key), data), sig_file(key, data))


def queue(flow, sha: str, n: int, *, changed: dict[int, bytes] | None = None, key: KeyPair | None = None) -> list[str]:
    """``n`` signed patches at commit ``sha``: the same bytes at every commit but for ``changed``."""
    paths = []
    for i in range(n):
        path = f"{QUEUE}/{i:04}.patch"
        data = (changed or {}).get(i, f"patch {i}\n".encode())
        flow.repo.put(sha, path, data)
        flow.repo.put(sha, path + ".sig", signature(key or flow.key, data))
        paths.append(path)
    return paths


def reads(flow) -> list[str]:
    """The files the last decision read through the contents API."""
    return sorted(unquote(v["path"]) for u, v in flow.reader.calls if u == L.CONTENTS)


def read_with_signatures(*patches: str) -> list[str]:
    return sorted(p + suffix for p in patches for suffix in ("", ".sig", ".sigstore.json"))


def remembers(actions) -> list[dict]:
    return [v for a in actions if getattr(a, "op", "") == "remember_verified" for v in a.args["verified"]]


def tree_push(after: str, before: str = MAIN) -> dict:
    """A force-push: its payload is not trusted to list what it brings, the tree is read."""
    payload = push_payload("go", before=before, after=after, files=["README.md"])
    payload["forced"] = True
    return payload


async def test_a_push_of_more_patches_than_one_decision_verifies_goes_on_where_it_left_off(flow):
    paths = queue(flow, C1, MAX_PATCHES + 5)
    first = await flow.send("push", push_payload("go", after=C1, files=paths))
    sig = check_of(first, "patch-signature", C1)
    assert (sig.conclusion, sig.title) == ("failure", f"5 of {MAX_PATCHES + 5} patches not verified")
    assert "5 more patches" in sig.summary and "Re-run this check" in sig.summary
    assert sig.summary.index("5 more patches") < sig.summary.index("✅")  # what is refused comes first
    assert len(remembers(first)) == MAX_PATCHES and not of(first, "DispatchWorkflow")
    row, _ = await flow.state(C1)
    assert sorted(json.loads(row["patches"])) == paths  # all of them owed, not only those verified
    assert reads(flow) == read_with_signatures(*paths[:MAX_PATCHES])

    again = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    sig = check_of(again, "patch-signature", C1)
    assert (sig.conclusion, sig.title) == ("success", f"{MAX_PATCHES + 5} patches signed")
    assert f"{MAX_PATCHES} of them verified before" in sig.summary and "remembered)" in sig.summary
    assert dispatched_patches(again) == paths
    assert reads(flow) == read_with_signatures(*paths[MAX_PATCHES:])  # only the five left over


async def test_a_tree_read_again_verifies_only_the_patches_that_changed(flow):
    paths = queue(flow, C1, 12)
    first = await flow.send("push", tree_push(C1))
    assert check_of(first, "patch-signature", C1).conclusion == "success"
    assert len(remembers(first)) == 13  # the queue and SIGNED_PATCH (its bytes differ at each commit)

    queue(flow, C2, 12, changed={3: b"patch 3, reworked\n"})
    actions = await flow.send("push", tree_push(C2, before=C1), at=T(10))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "success" and "11 of them verified before" in sig.summary
    assert reads(flow) == read_with_signatures(paths[3], SIGNED_PATCH)
    assert dispatched_patches(actions) == sorted([*paths, SIGNED_PATCH])
    assert len(remembers(actions)) == 2  # the two verified now; those remembered were used within the day


async def test_a_new_signature_of_the_same_patch_is_verified_again(flow):
    paths = queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    other = KeyPair()  # not trusted: the same patch bytes, signed by someone else
    flow.repo.files[C2] = dict(flow.repo.files[C1])
    flow.repo.put(C2, paths[5] + ".sig", sig_file(other, b"patch 5\n"))
    actions = await flow.send("push", tree_push(C2, before=C1), at=T(10))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "failure" and sig.title == "1 of 13 patches not verified"
    assert paths[5] in reads(flow) and paths[4] not in reads(flow)
    assert not of(actions, "DispatchWorkflow")


async def test_a_key_no_longer_trusted_takes_every_remembered_verification_with_it(flow):
    queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    flow.rules = rules(KeyPair(), push_branches=["go", "linux-next/*"])  # the release key replaced
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(10))
    sig = check_of(actions, "patch-signature", C1)
    assert (sig.conclusion, sig.title) == ("failure", "13 of 13 patches not verified")
    assert "verified before" not in sig.summary and not of(actions, "DispatchWorkflow")


async def test_a_pull_request_refreshing_a_patch_queue_reads_only_what_changed(flow):
    paths = queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))  # the queue, verified on the branch
    queue(flow, C2, 12, changed={0: b"patch 0, rebased\n"})
    flow.repo.pr_files[7] = [*paths, *(p + ".sig" for p in paths)]
    actions = await flow.send("pull_request", pr_payload(head=C2), at=T(10))
    sig = check_of(actions, "patch-signature", C2)
    assert sig.conclusion == "success" and "11 of them verified before" in sig.summary
    assert reads(flow) == read_with_signatures(paths[0])


async def test_a_few_patches_are_read_without_listing_the_tree(flow):
    paths = queue(flow, C1, remembered.LIST_ABOVE)
    actions = await flow.send("push", push_payload("go", after=C1, files=paths))
    assert check_of(actions, "patch-signature", C1).conclusion == "success"
    assert not [u for u, _ in flow.reader.calls if "git/trees" in u] and not remembers(actions)


async def test_without_a_listing_more_patches_than_one_decision_verifies_are_refused_unread(flow, key):
    flow.rules = rules(key, push_branches=["go"], patches=["*.patch"])  # the whole tree is listed
    await known(flow, "go", MAIN)  # under these rules: the push's payload is trusted
    paths = queue(flow, C1, MAX_PATCHES + 1)
    flow.repo.truncated.add(C1)  # and GitHub lists it only in part
    actions = await flow.send("push", push_payload("go", after=C1, files=paths))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.conclusion == "failure" and f"{MAX_PATCHES + 1} patches" in sig.summary and "split it" in sig.summary
    assert reads(flow) == [] and not remembers(actions)
    row, _ = await flow.state(C1)
    assert sorted(json.loads(row["patches"])) == paths


async def test_remembered_verifications_are_renewed_when_used_and_forgotten_when_not(flow):
    queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    later = await flow.send("check_run", rerequested("patch-signature", C1), at=T(2 * 86400))
    assert len(remembers(later)) == 13  # found remembered over a day ago: kept longer
    rows = await flow.db.fetchall("SELECT at FROM patch_pipeline_verified WHERE repo = ?", (REPO,))
    assert {r["at"] for r in rows} == {T(2 * 86400).timestamp()}

    sweep = lambda at: handlers.sweep(job_context(flow.db, flow.rules, flow.repo.reader(), at))  # noqa: E731
    forgets = lambda actions: [a for a in actions if getattr(a, "op", "") == "forget_verified"]  # noqa: E731
    assert not forgets(await sweep(T(2 * 86400 + remembered.KEEP - 60)))
    await apply_records(flow.db, forgets(await sweep(T(2 * 86400 + remembered.KEEP + 60))))
    assert await flow.db.fetchall("SELECT * FROM patch_pipeline_verified") == []


async def test_remembered_verifications_are_kept_per_repository(flow):
    queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    keys = [r["key"] for r in await flow.db.fetchall("SELECT key FROM patch_pipeline_verified")]
    assert len(await store.verified(flow.db, REPO, keys, since=0)) == 13
    assert await store.verified(flow.db, "someone/else", keys, since=0) == {}


# --- keys ----------------------------------------------------------------------------------------

def listing(entries: dict[str, dict], directories=("patches",)) -> L.Listing:
    return L.Listing("c" * 40, tuple(directories), entries)


def blob(data: bytes, mode: str = "100644") -> dict:
    return {"type": "blob", "mode": mode, "sha": remembered.git_blob_sha(data)}


P = "patches/0001.patch"
FILES = (P + ".sigstore.json", P + ".sig")


def section(**trust) -> dict:
    return {"trust": {"identities": [], "keys": [{"name": "k", "pem": "PEM"}], "instance": "production",
                      "keys_for": [], **trust}}


def test_the_blob_sha_is_gits():
    assert remembered.git_blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git hash-object


def test_a_key_changes_with_any_byte_of_the_patch_or_its_signatures_and_with_what_may_sign_it():
    s = section()
    trust = remembered.trust_fingerprint(s)
    base = {P: blob(b"patch"), P + ".sig": blob(b"sig")}
    key = remembered.listed_key(s, trust, P, FILES, listing(base))
    assert key is not None
    others = [
        remembered.listed_key(s, trust, P, FILES, listing({**base, P: blob(b"patch!")})),
        remembered.listed_key(s, trust, P, FILES, listing({**base, P + ".sig": blob(b"sig!")})),
        remembered.listed_key(s, trust, P, FILES, listing({**base, P + ".sigstore.json": blob(b"bundle")})),
        remembered.listed_key(s, trust, P, FILES, listing({P: blob(b"patch")})),  # the signature gone
        remembered.listed_key(section(keys_for=["patches/**"]), trust, P, FILES, listing(base)),
    ]
    assert None not in others and len({key, *others}) == 6


def test_the_trust_fingerprint_changes_with_the_trust_policy():
    prints = {remembered.trust_fingerprint(s) for s in (
        section(), section(identities=[{"identity": "a@b", "issuer": "https://x"}]),
        section(keys=[]), section(instance="staging"))}
    assert len(prints) == 4


def test_what_the_listing_cannot_say_is_never_remembered():
    s = section()
    trust = remembered.trust_fingerprint(s)
    sig = {P + ".sig": blob(b"sig")}
    assert remembered.listed_key(s, trust, P, FILES, listing({P: blob(b"p", "120000"), **sig})) is None  # symlink
    assert remembered.listed_key(s, trust, P, FILES, listing({P: {"type": "commit", "mode": "160000",
                                                                  "sha": "a" * 40}, **sig})) is None
    assert remembered.listed_key(s, trust, P, FILES, listing({P: blob(b"p"), P + ".sig": blob(b"s", "120000")})) is None
    assert remembered.listed_key(s, trust, P, FILES, listing(sig)) is None  # no patch there
    # A signature template outside the listed directories: whether it exists is unknown.
    assert remembered.listed_key(s, trust, P, ("sigs/" + P + ".sig", P + ".sig"),
                                 listing({P: blob(b"p"), **sig})) is None


def test_a_verification_is_remembered_only_when_the_bytes_read_are_the_bytes_listed():
    s = section()
    trust = remembered.trust_fingerprint(s)
    listed = listing({P: blob(b"patch"), P + ".sig": blob(b"sig")})
    key = remembered.listed_key(s, trust, P, FILES, listed)
    assert remembered.read_key(s, trust, P, FILES, (b"patch", None, b"sig"), listed) == key
    assert remembered.read_key(s, trust, P, FILES, (b"patch?", None, b"sig"), listed) is None
    assert remembered.read_key(s, trust, P, FILES, (b"patch", b"bundle", b"sig"), listed) is None
    assert remembered.read_key(s, trust, P, FILES, (b"patch", None, b"sig"), None) is None


# --- the check's table ---------------------------------------------------------------------------

def test_a_long_table_keeps_every_refused_patch_and_counts_what_it_leaves_out():
    ok = [Verdict(f"patches/queue/{i:05}.patch", Verified("key", "release-key"), remembered=True) for i in range(2000)]
    bad = Verdict("patches/queue/99999.patch", reason="unsigned")
    conclusion, title, summary = render([*ok, bad])
    assert (conclusion, title) == ("failure", "1 of 2001 patches not verified")
    assert "99999.patch" in summary and "2000 of them verified before" in summary
    assert len(summary) < 65535 and TABLE_ROOM < 65535
    shown = summary.count("✅")
    assert 0 < shown < 2000 and f"| {2000 - shown} more not shown |" in summary


async def test_a_push_deleting_more_patches_than_one_decision_verifies_is_not_refused(flow):
    deleted = [f"{QUEUE}/{i:04}.patch" for i in range(MAX_PATCHES + 20)]  # none of them at C1 any more
    actions = await flow.send("push", push_payload("go", after=C1, files=deleted))
    assert not [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-signature"]
    assert reads(flow) == [] and not of(actions, "DispatchWorkflow")


async def test_another_trust_root_takes_every_remembered_verification_with_it(flow, monkeypatch):
    queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    monkeypatch.setattr(remembered, "_roots", {"staging": "0" * 64})  # a Rekor or Fulcio key revoked, say
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(10))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.conclusion == "success" and "verified before" not in sig.summary
    assert len(reads(flow)) == 3 * 13 and len(remembers(actions)) == 13


async def test_when_the_verifying_code_cannot_be_read_nothing_is_remembered(flow, monkeypatch):
    monkeypatch.setattr(remembered, "_verifier", lambda: None)
    paths = queue(flow, C1, 12)
    actions = await flow.send("push", push_payload("go", after=C1, files=paths))
    assert check_of(actions, "patch-signature", C1).conclusion == "success" and not remembers(actions)
    many = queue(flow, C2, MAX_PATCHES + 1)
    actions = await flow.send("push", push_payload("go", before=C1, after=C2, files=many), at=T(10))
    assert "split it" in check_of(actions, "patch-signature", C2).summary and reads(flow) == []


async def test_a_verification_unused_past_its_keeping_is_not_taken_before_the_sweep_drops_it(flow):
    queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    actions = await flow.send("check_run", rerequested("patch-signature", C1), at=T(remembered.KEEP + 60))
    assert "verified before" not in check_of(actions, "patch-signature", C1).summary and len(reads(flow)) == 3 * 13


async def test_a_listing_of_another_commit_is_not_taken_for_the_heads(flow):
    paths = queue(flow, C1, 12)
    await flow.send("push", tree_push(C1))
    old = await pushes.list_patch_directories(flow.repo.reader(), REPO, flow.rules.section("pipeline"), C1)
    queue(flow, C2, 12, key=KeyPair())  # the same patches, signed by nobody trusted
    _, ctx = context("pull_request", pr_payload(head=C2), db=flow.db, repo=flow.repo, rules=flow.rules, now=T(10))
    verdicts, partial, _ = await head_verification.verify_head(ctx, flow.rules.section("pipeline"), C2, paths, old,
                                                               pushed=False)
    assert not partial and verdicts and not any(v.ok for v in verdicts)


async def test_a_pull_request_whose_tree_cannot_be_read_is_verified_file_by_file(flow, monkeypatch):
    async def refused(*args, **kwargs):
        raise PermanentGitHubError("Forbidden", status=403)

    monkeypatch.setattr(pushes, "list_patch_directories", refused)
    paths = queue(flow, C2, 12)
    flow.repo.pr_files[7] = paths
    actions = await flow.send("pull_request", pr_payload(head=C2))
    assert check_of(actions, "patch-signature", C2).conclusion == "success" and not remembers(actions)
    assert reads(flow) == read_with_signatures(*paths)


@pytest.mark.parametrize("sig_dir_listed", [True, False])
async def test_signatures_kept_apart_are_listed_as_far_as_github_lists_them(flow, key, monkeypatch, sig_dir_listed):
    flow.rules = rules(key, push_branches=["go"], signatures={"bundle": "sigs/{path}.sigstore.json",
                                                              "signature": "sigs/{path}.sig"})
    await known(flow, "go", MAIN)
    flow.repo.files.pop(C1)  # without the fixture's patch, signed next to it
    paths = [f"{QUEUE}/{i:04}.patch" for i in range(12)]
    for i, path in enumerate(paths):
        data = f"patch {i}\n".encode()
        flow.repo.put(C1, path, data)
        flow.repo.put(C1, "sigs/" + path + ".sig", signature(key, data))
    real = L._TreeLister.entries_under

    async def entries_under(lister, directory):  # GitHub lists sigs/ only in part, past walking it
        if not sig_dir_listed and directory.startswith("sigs"):
            raise L.TreeTruncated(lister.sha, directory, over_budget=True)
        return await real(lister, directory)

    monkeypatch.setattr(L._TreeLister, "entries_under", entries_under)
    actions = await flow.send("push", tree_push(C1))
    assert check_of(actions, "patch-signature", C1).conclusion == "success"  # never refused for the signatures
    assert len(remembers(actions)) == (12 if sig_dir_listed else 0)


def test_the_trust_root_digest_is_the_roots_in_use():
    production, staging = trusted_root_digest("production"), trusted_root_digest("staging")
    assert production and staging and production != staging and len(production) == 64
    assert trusted_root_digest("elsewhere") is None


def test_the_fingerprint_follows_the_trust_root_and_the_verifier(monkeypatch):
    s = section()
    first = remembered.trust_fingerprint(s)
    monkeypatch.setattr(remembered, "_roots", {"production": "1" * 64})
    second = remembered.trust_fingerprint(s)
    monkeypatch.setattr(remembered, "_verifier", lambda: "another release")
    third = remembered.trust_fingerprint(s)
    assert None not in (first, second, third) and len({first, second, third}) == 3
    monkeypatch.setattr(remembered, "_verifier", lambda: None)
    assert remembered.trust_fingerprint(s) is None


async def test_more_patches_than_one_decision_reads_that_cannot_be_remembered_are_refused_at_once(flow, key,
                                                                                                   monkeypatch):
    """Their signatures in a directory GitHub does not list whole: no re-run would get further."""
    flow.rules = rules(key, push_branches=["go"], signatures={"bundle": "sigs/{path}.sigstore.json",
                                                              "signature": "sigs/{path}.sig"})
    await known(flow, "go", MAIN)
    paths = [f"{QUEUE}/{i:04}.patch" for i in range(MAX_PATCHES + 5)]
    for i, path in enumerate(paths):
        flow.repo.put(C1, path, f"patch {i}\n".encode())
        flow.repo.put(C1, "sigs/" + path + ".sig", signature(key, f"patch {i}\n".encode()))
    real = L._TreeLister.entries_under

    async def entries_under(lister, directory):
        if directory.startswith("sigs"):
            raise L.TreeTruncated(lister.sha, directory, over_budget=True)
        return await real(lister, directory)

    monkeypatch.setattr(L._TreeLister, "entries_under", entries_under)
    actions = await flow.send("push", push_payload("go", after=C1, files=paths))
    sig = check_of(actions, "patch-signature", C1)
    assert sig.title == f"{MAX_PATCHES + 5} of {MAX_PATCHES + 5} patches not verified"
    assert "split it" in sig.summary and "Re-run" not in sig.summary and reads(flow) == []


def test_the_verifier_digest_follows_the_verifying_code_and_libraries(monkeypatch):
    import inspect
    from importlib import metadata

    assert remembered.verifier_digest() == remembered.VERIFIER is not None
    real_source, real_version = inspect.getsource, metadata.version
    monkeypatch.setattr(inspect, "getsource", lambda m: real_source(m) + ("#" if m.__name__.endswith("keyed") else ""))
    changed_code = remembered.verifier_digest()
    monkeypatch.setattr(inspect, "getsource", real_source)
    monkeypatch.setattr(metadata, "version", lambda p: "9.9" if p == "rfc3161-client" else real_version(p))
    changed_library = remembered.verifier_digest()  # one sigstore requires, not named here
    assert len({remembered.VERIFIER, changed_code, changed_library}) == 3

    def unreadable(module):
        raise OSError("no source")

    monkeypatch.setattr(inspect, "getsource", unreadable)
    assert remembered.verifier_digest() is None


def test_a_patch_is_taken_as_deleted_only_when_the_listing_shows_no_file_and_no_directory_there():
    gone = head_verification._gone
    listed = listing({P: blob(b"p"), "patches/0002.patch/inner.patch": blob(b"i")})
    assert not gone(listed, P)                              # there
    assert gone(listed, "patches/0003.patch")               # not there
    assert not gone(listed, "patches/0002.patch")           # a directory there: read, refused as no file
    assert not gone(listed, "elsewhere/0001.patch")         # outside the listing: read


async def test_a_head_with_more_refused_patches_than_one_decision_reads_goes_on_until_every_one_is_decided(flow):
    """Refusals are remembered by content too: a re-run reads the patches not decided yet, not the
    same refused ones again, so every patch of any queue gets its verdict after a few re-runs."""
    stranger = KeyPair()  # not trusted
    refused = MAX_PATCHES + 2
    paths = queue(flow, C1, MAX_PATCHES + 5)
    for i, path in enumerate(paths[:refused]):
        flow.repo.put(C1, path + ".sig", signature(stranger, f"patch {i}\n".encode()))
    first = await flow.send("push", push_payload("go", after=C1, files=paths))
    sig = check_of(first, "patch-signature", C1)
    assert sig.title == f"{MAX_PATCHES + 5} of {MAX_PATCHES + 5} patches not verified"
    assert "5 more patches" in sig.summary and reads(flow) == read_with_signatures(*paths[:MAX_PATCHES])

    again = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    sig = check_of(again, "patch-signature", C1)
    assert reads(flow) == read_with_signatures(*paths[MAX_PATCHES:])  # only those not decided yet
    assert (sig.conclusion, sig.title) == ("failure", f"{refused} of {MAX_PATCHES + 5} patches not verified")
    assert "more patches" not in sig.summary and "refused before" in sig.summary
    assert sig.summary.count("❌") == refused and sig.summary.count("✅") == 3
    assert not of(again, "DispatchWorkflow")

    third = await flow.send("check_run", rerequested("patch-signature", C1), at=T(10))
    assert reads(flow) == [] and check_of(third, "patch-signature", C1).title == sig.title


async def test_a_refusal_remembered_is_shown_with_the_paths_of_the_patch_at_hand(flow):
    """Two unsigned patches with the same bytes share a key: each is named with its own files."""
    same = [f"{QUEUE}/{i:04}.patch" for i in range(12)]
    for path in same:
        flow.repo.put(C1, path, b"the same bytes\n")
    await flow.send("push", tree_push(C1))
    again = await flow.send("check_run", rerequested("patch-signature", C1), at=T(5))
    summary = check_of(again, "patch-signature", C1).summary
    for path in same:
        assert f"neither {path}.sigstore.json nor {path}.sig exists" in summary.replace("\\", "")


async def test_remembered_refusals_are_forgotten_sooner_and_never_read_as_verifications(flow):
    queue(flow, C1, 12, key=KeyPair())  # signed by nobody trusted
    first = await flow.send("push", tree_push(C1))
    assert check_of(first, "patch-signature", C1).title == "12 of 13 patches not verified"
    keys = [r["key"] for r in await flow.db.fetchall("SELECT key FROM patch_pipeline_refused WHERE repo = ?", (REPO,))]
    assert len(keys) == 12 and await store.verified(flow.db, REPO, keys, since=0) == {}

    sweep = lambda at: handlers.sweep(job_context(flow.db, flow.rules, flow.repo.reader(), at))  # noqa: E731
    forgets = lambda actions: [a for a in actions if getattr(a, "op", "") == "forget_refused"]  # noqa: E731
    assert not forgets(await sweep(T(remembered.REFUSED_KEEP - 60)))
    await apply_records(flow.db, forgets(await sweep(T(remembered.REFUSED_KEEP + 60))))
    assert await flow.db.fetchall("SELECT * FROM patch_pipeline_refused") == []
    assert len(await flow.db.fetchall("SELECT * FROM patch_pipeline_verified")) == 1  # SIGNED_PATCH, kept longer

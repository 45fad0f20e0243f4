"""A patch's file name is the contributor's text: the gate must read that very file at the
PR's head, whatever characters the name holds. The reader below answers as GitHub does: it
sees the URL the real client builds (gidgethub's template expansion, then aiohttp's URL
parsing), so a ``#`` or ``?`` in a name, or a ``%41``, changes which file and which ref it
is asked for unless the name is escaped."""
from __future__ import annotations

import yarl
from gidgethub import sansio

from bot.features.patch_pipeline import handlers
from bot.features.patch_pipeline import lookups as L

from .conftest import HEAD, MAIN, Repo, apply_records, context, of, pr_payload, rules
from tests.signing.cosign_fake import sig_file

API = "https://api.github.com"
SIGNED = "patches/kernel/0002-g0-stack.patch"
SIGNED_BODY = b"From 1 Mon\nSubject: [PATCH] x86: g0 stack layout\n"
EVIL_BODY = b"From 2 Mon\nSubject: [PATCH] add a backdoor\n"


class GitHubLikeRepo(Repo):
    """Files answered by the path and ref GitHub would read from the URL the client sends
    (no ``ref`` in the query: the default branch)."""

    def reader(self):
        reader = super().reader()
        by_template = reader.items[L.CONTENTS]

        def contents(v):
            url = yarl.URL(sansio.format_url(L.CONTENTS, v, base_url=API))
            prefix = f"/repos/{v['owner']}/{v['repo']}/contents/"
            assert url.raw_path.startswith(prefix), url
            # The path as sent (Repo decodes it, as GitHub does); the ref as GitHub reads it.
            return by_template({**v, "path": url.raw_path[len(prefix):], "ref": url.query.get("ref", MAIN)})

        reader.items[L.CONTENTS] = contents
        return reader


def signed_repo(key) -> GitHubLikeRepo:
    r = GitHubLikeRepo()
    r.put(HEAD, SIGNED, SIGNED_BODY)
    r.put(HEAD, SIGNED + ".sig", sig_file(key, SIGNED_BODY))
    r.pulls[7] = {"number": 7, "state": "open", "head": {"sha": HEAD}}
    return r


async def gate(db, repo, key):
    event, ctx = context("pull_request", pr_payload("opened"), db=db, repo=repo, rules=rules(key))
    actions = await handlers.on_pull_request(event, ctx)
    await apply_records(db, actions)
    return actions


async def test_the_signed_patch_alone_still_verifies_through_urls(db, key):
    repo = signed_repo(key)
    repo.pr_files[7] = [SIGNED, SIGNED + ".sig"]
    actions = await gate(db, repo, key)
    assert of(actions, "UpsertCheckRun")[0].conclusion == "success"


async def test_a_hash_in_a_patch_name_does_not_hide_the_patch(db, key):
    """``patches/x#.patch`` must not be read as ``patches/x`` on the default branch (absent
    there, so taken for deleted and skipped, and the PR's signed patch turns the gate green
    with an unsigned patch beside it)."""
    repo = signed_repo(key)
    evil = "patches/kernel/0003-evil#.patch"
    repo.put(HEAD, evil, EVIL_BODY)
    repo.pr_files[7] = [SIGNED, SIGNED + ".sig", evil]
    actions = await gate(db, repo, key)
    check = of(actions, "UpsertCheckRun")[0]
    assert check.conclusion == "failure", check.summary
    assert "0003-evil" in check.summary and "unsigned" in check.summary
    assert not of(actions, "DispatchWorkflow")


async def test_a_question_mark_in_a_patch_name_does_not_change_the_ref(db, key):
    repo = signed_repo(key)
    evil = "patches/kernel/0003-evil.patch?x=.patch"
    repo.put(HEAD, evil, EVIL_BODY)
    repo.pr_files[7] = [SIGNED, SIGNED + ".sig", evil]
    actions = await gate(db, repo, key)
    assert of(actions, "UpsertCheckRun")[0].conclusion == "failure"
    assert not of(actions, "DispatchWorkflow")


async def test_a_percent_escape_in_a_patch_name_is_not_another_file(db, key):
    """``evil%41.patch`` (unsigned) must not be verified as ``evilA.patch``, a copy of a
    signed patch with its signature that the same PR adds."""
    repo = signed_repo(key)
    evil, decoy = "patches/kernel/evil%41.patch", "patches/kernel/evilA.patch"
    repo.put(HEAD, evil, EVIL_BODY)
    repo.put(HEAD, decoy, SIGNED_BODY)
    repo.put(HEAD, decoy + ".sig", sig_file(key, SIGNED_BODY))
    repo.pr_files[7] = [evil, decoy, decoy + ".sig"]
    actions = await gate(db, repo, key)
    check = of(actions, "UpsertCheckRun")[0]
    assert check.conclusion == "failure", check.summary
    assert "evil%41.patch" in check.summary
    assert not of(actions, "DispatchWorkflow")

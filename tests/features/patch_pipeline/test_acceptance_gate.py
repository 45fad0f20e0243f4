"""Acceptance (issue 7): a patch path that is not a regular file at the head (a symlink or a
submodule, which the contents API answers without content) is not "deleted": it is reported as
unverified, and nothing is dispatched for the pull request."""
from __future__ import annotations

from typing import Any, Mapping

import pytest

from bot.features.patch_pipeline import handlers

from .conftest import HEAD, Repo, context, of, pr_payload, rules
from tests.signing.cosign_fake import sig_file

GOOD, LINKED = "patches/kernel/0001-good.patch", "patches/kernel/0002-linked.patch"
DATA = b"Subject: [PATCH] good\n"


class LinkingRepo(Repo):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def _contents(self, v: Mapping[str, Any]) -> Any:
        if v["path"] == LINKED:
            return {"type": self.kind, "target": "../../docs/unsigned.txt", "size": 22, "sha": "s" * 40,
                    "name": LINKED.rsplit("/", 1)[1], "path": LINKED}
        return super()._contents(v)


@pytest.mark.parametrize("kind", ["symlink", "submodule"])
async def test_a_symlinked_patch_blocks_the_dispatch(db, key, kind):
    repo = LinkingRepo(kind)
    repo.put(HEAD, GOOD, DATA)
    repo.put(HEAD, GOOD + ".sig", sig_file(key, DATA))
    repo.pr_files[7] = [GOOD, GOOD + ".sig", LINKED]
    event, ctx = context("pull_request", pr_payload("opened"), db=db, repo=repo, rules=rules(key))
    actions = await handlers.on_pull_request(event, ctx)
    assert not of(actions, "DispatchWorkflow") and not of(actions, "RepositoryDispatch")
    [check] = [a for a in of(actions, "UpsertCheckRun") if a.name == "patch-signature"]
    assert check.conclusion == "failure" and "0002-linked.patch" in check.summary
    assert "regular file" in check.summary

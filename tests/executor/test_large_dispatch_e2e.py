"""A pipeline dispatch for a pull request with thousands of patches, against the fake GitHub,
which refuses inputs over GitHub's limits (a workflow_dispatch's inputs: 65,535 characters; a
repository_dispatch's client_payload: under 64 KB). The patch list then goes as a git blob the
workflow reads by its SHA."""
from __future__ import annotations

import base64
import json

import pytest
from aiohttp import ClientSession

from bot.executor import Executor
from bot.features.patch_pipeline.gate import dispatch_action

REPO = "octo/repo"
SHA = "0123456789abcdef0123456789abcdef01234567"
PATCHES = [f"patches/kernel/{i:05d}-mm-vmalloc-bridge-for-the-runtime-stack.patch" for i in range(2000)]
WORKFLOW = {"trigger": {"kind": "workflow_dispatch", "workflow": "patch.yml", "ref": "main"}}
REPOSITORY = {"trigger": {"kind": "repository_dispatch", "event_type": "patch-pipeline"}}


def executor(rt) -> Executor:
    return Executor(rt.db, api_for=rt.github.installation, dry_run=False, features=rt.features_by_name,
                    bot_login=rt.bot_login)


async def resolved(fake_github, value: str) -> list[str]:
    """What the workflow does with a ``git-blob:`` reference: read the blob by its SHA."""
    kind, _, sha = value.partition(":")
    assert kind == "git-blob"
    async with ClientSession() as http:
        async with http.get(f"{fake_github.url}/repos/{REPO}/git/blobs/{sha}",
                            headers={"Authorization": f"token {fake_github.installation_token()}"}) as resp:
            assert resp.status == 200
            body = await resp.json()
    return json.loads(base64.b64decode(body["content"]))


@pytest.mark.parametrize("count", [3, 2000])
async def test_a_workflow_dispatch_of_any_number_of_patches_is_accepted(rt, fake_github, count):
    fake_github.add_workflow(REPO, "patch.yml")
    action = dispatch_action(REPO, WORKFLOW, 7, SHA, PATCHES[:count], "key:kernel-release")
    out = await executor(rt).run(delivery_id="d1", installation_id=1, batches=[("patch_pipeline", [action])])
    assert out.done and fake_github.violations == []
    [dispatch] = fake_github.state.dispatches
    assert len(json.dumps(dispatch.inputs)) <= 65_535
    assert (dispatch.inputs["pr_number"], dispatch.inputs["head_sha"]) == ("7", SHA)
    patches = dispatch.inputs["patches"]
    listed = json.loads(patches) if count == 3 else await resolved(fake_github, patches)
    assert listed == PATCHES[:count]


async def test_a_repository_dispatch_of_thousands_of_patches_is_accepted(rt, fake_github):
    action = dispatch_action(REPO, REPOSITORY, 7, SHA, PATCHES, "key:kernel-release")
    out = await executor(rt).run(delivery_id="d1", installation_id=1, batches=[("patch_pipeline", [action])])
    assert out.done and fake_github.violations == []
    [dispatch] = fake_github.state.dispatches
    assert len(json.dumps(dispatch.inputs).encode()) < 64 * 1024
    assert await resolved(fake_github, dispatch.inputs["patches"]) == PATCHES

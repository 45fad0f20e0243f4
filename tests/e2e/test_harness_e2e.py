"""The harness's own promises: an example payload retargeted at a repository of the fake
carries that repository as the fake serves it, ids included."""
from __future__ import annotations

import copy

from tests.fixtures.webhooks import load_example

from .harness import retarget

REPO = "octo/repo"
KEYS = ("id", "node_id", "name", "full_name")


def served(fake, repo: str) -> dict:
    return {k: fake.serializer.repo(fake.repo(repo))[k] for k in KEYS}


async def test_the_repository_and_its_head_and_base_get_the_fakes_ids(fake_github):
    fake = fake_github
    fake.add_repo("other/thing")                     # ids of the fake differ from repo to repo
    fake.add_repo(REPO)
    example = load_example("pull_request", "opened")
    payload = retarget(example, REPO, fake)
    want = served(fake, REPO)
    assert {k: payload["repository"][k] for k in KEYS} == want
    assert payload["repository"]["owner"]["login"] == "octo"
    for side in ("head", "base"):                    # the example's PR is from the same repository
        assert {k: payload["pull_request"][side]["repo"][k] for k in KEYS} == want, side
    assert payload["installation"]["id"] == 1
    assert example["repository"]["id"] != want["id"]  # the example itself is left alone


async def test_a_fork_head_keeps_its_own_ids(fake_github):
    example = copy.deepcopy(load_example("pull_request", "opened"))
    fork = example["pull_request"]["head"]["repo"]
    fork.update(id=4711, node_id="R_fork", full_name="someone/Hello-World")
    payload = retarget(example, REPO, fake_github)
    assert payload["pull_request"]["head"]["repo"]["id"] == 4711
    assert payload["pull_request"]["head"]["repo"]["full_name"] == "someone/Hello-World"
    assert payload["pull_request"]["base"]["repo"]["id"] == fake_github.repo(REPO).id


async def test_a_check_runs_pull_requests_point_at_the_fakes_repository(fake_github):
    payload = retarget(load_example("check_run", "completed"), REPO, fake_github)
    repo = fake_github.repo(REPO)
    refs = [p[side]["repo"] for p in payload["check_run"]["pull_requests"]
            + payload["check_run"]["check_suite"]["pull_requests"] for side in ("head", "base")]
    assert refs and all((r["id"], r["name"]) == (repo.id, repo.name) for r in refs)
    assert payload["repository"]["id"] == repo.id


async def test_a_repository_the_fake_lacks_is_added_to_it(fake_github):
    payload = retarget(load_example("issues", "opened"), "newly/made", fake_github)
    assert payload["repository"]["id"] == fake_github.repo("newly/made").id

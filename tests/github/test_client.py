"""The client against the team's fake GitHub: auth, paging, ETags, errors, GraphQL, metrics."""
from __future__ import annotations

import asyncio

import pytest

from bot.github import (GitHub, InstallationAPI, InstallationGone, InstallationSuspended, PermanentGitHubError,
                        TransientGitHubError)
from tests.fakegithub.server import FakeGitHub

from .conftest import REPO, ShiftableClock, counter

TOKENS = "/app/installations/{installation_id}/access_tokens"
REPO_VARS = {"owner": "octo", "repo": "widgets"}


async def test_token_minted_once_for_many_concurrent_calls(fake: FakeGitHub, github: GitHub):
    fake.add_issue(REPO, title="first")
    apis = await asyncio.gather(*(github.installation(1) for _ in range(5)))
    assert all(isinstance(api, InstallationAPI) for api in apis)
    results = await asyncio.gather(*(
        apis[i % 5].getitem("/repos/{owner}/{repo}/issues/1", REPO_VARS) for i in range(20)))
    assert {r["title"] for r in results} == {"first"}
    assert fake.tokens_minted == 1
    assert len(fake.calls_to("POST", TOKENS)) == 1
    assert fake.violations == []


async def test_token_refreshed_five_minutes_before_expiry(fake: FakeGitHub, github: GitHub,
                                                          clock: ShiftableClock):
    api = await github.installation(1)
    await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    clock.offset = 3600 - 320  # still more than five minutes left
    await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert fake.tokens_minted == 1
    clock.offset = 3600 - 280  # inside the refresh margin
    await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert fake.tokens_minted == 2


async def test_revoked_token_is_replaced_once(fake: FakeGitHub, github: GitHub):
    api = await github.installation(1)
    fake.auth.tokens.clear()  # GitHub revoked it early: the next call gets 401
    repo = await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert repo["full_name"] == REPO
    assert fake.tokens_minted == 2


async def test_getiter_follows_every_page(fake: FakeGitHub, github: GitHub):
    issue = fake.add_issue(REPO)
    for n in range(75):
        fake.add_comment(REPO, issue.number, f"comment {n}")
    api = await github.installation(1)
    bodies = [c["body"] async for c in api.getiter(
        "/repos/{owner}/{repo}/issues/{number}/comments", {**REPO_VARS, "number": issue.number})]
    assert bodies == [f"comment {n}" for n in range(75)]
    assert len(fake.calls_to("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == 3


async def test_repeat_json_reads_are_conditional(fake: FakeGitHub, github: GitHub, metrics):
    api = await github.installation(1)
    first = await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    second = await api.getitem("/repos/{owner}/{repo}", REPO_VARS)
    assert second == first
    calls = fake.calls_to("GET", "/repos/{owner}/{repo}")
    assert [c.status for c in calls] == [200, 304]
    assert calls[1].headers.get("if-none-match")
    assert counter(metrics, "/repos/{owner}/{repo}", 304) == 1
    assert counter(metrics, "/repos/{owner}/{repo}", 200) == 1


async def test_media_type_reads_bypass_the_etag_cache(fake: FakeGitHub, github: GitHub):
    pull = fake.add_pull(REPO, files=["src/app.py"])
    api = await github.installation(1)
    url, url_vars = "/repos/{owner}/{repo}/pulls/{number}", {**REPO_VARS, "number": pull.number}
    as_json = await api.getitem(url, url_vars)
    assert as_json["number"] == pull.number
    patch = await api.get_text(url, url_vars)
    assert isinstance(patch, str) and patch.startswith("From ")
    again = await api.get_text(url, url_vars)
    assert again == patch
    gets = fake.calls_to("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
    assert len(gets) == 3
    # The patch reads never carried the JSON representation's ETag.
    assert [("if-none-match" in c.headers) for c in gets] == [False, False, False]
    assert [c.status for c in gets] == [200, 200, 200]


async def test_not_found_is_permanent_and_never_shows_the_token(fake: FakeGitHub, github: GitHub):
    api = await github.installation(1)
    with pytest.raises(PermanentGitHubError) as caught:
        await api.getitem("/repos/{owner}/{repo}", {"owner": "octo", "repo": "missing"})
    err = caught.value
    assert err.status == 404
    assert err.endpoint == "/repos/{owner}/{repo}"
    assert "Not Found" in str(err)
    for token in fake.auth.tokens:
        assert token not in str(err) and token not in repr(err)


async def test_validation_failure_is_permanent_with_githubs_details(fake: FakeGitHub, github: GitHub):
    fake.add_label(REPO, "bug")
    api = await github.installation(1)
    with pytest.raises(PermanentGitHubError) as caught:
        await api.post("/repos/{owner}/{repo}/labels", REPO_VARS, data={"name": "bug"})
    assert caught.value.status == 422
    assert "Validation Failed" in str(caught.value)
    assert caught.value.errors[0]["code"] == "already_exists"


async def test_mutations_and_user_agent(fake: FakeGitHub, github: GitHub, metrics):
    issue = fake.add_issue(REPO)
    api = await github.installation(1)
    vars_ = {**REPO_VARS, "number": issue.number}
    created = await api.post("/repos/{owner}/{repo}/issues/{number}/comments", vars_,
                             data={"body": "hello"})
    await api.patch("/repos/{owner}/{repo}/issues/comments/{id}", {**REPO_VARS, "id": created["id"]},
                    data={"body": "edited"})
    await api.put("/repos/{owner}/{repo}/issues/{number}/labels", vars_, data={"labels": ["triage"]})
    await api.delete("/repos/{owner}/{repo}/issues/{number}/labels/{name}", {**vars_, "name": "triage"})
    assert [c.body for c in fake.issue(REPO, issue.number).comments] == ["edited"]
    assert fake.issue(REPO, issue.number).labels == []
    assert {c.headers["user-agent"] for c in fake.calls} == {"contributor-flow"}
    assert counter(metrics, "/repos/{owner}/{repo}/issues/{n}/labels/{name}", 200) == 1
    assert metrics.registry.get_sample_value(
        "cf_github_rate_limit_remaining", {"installation": "1"}) is not None
    assert fake.violations == []


async def test_dry_run_refuses_mutations_without_sending(fake: FakeGitHub, make_github):
    github = make_github(app_id=None, private_key=None)
    assert github.dry_run
    api = await github.installation(1)
    with pytest.raises(PermanentGitHubError):
        await api.post("/repos/{owner}/{repo}/labels", REPO_VARS, data={"name": "x"})
    with pytest.raises(PermanentGitHubError):
        await api.graphql("mutation { addStar(input: {starrableId: \"x\"}) { clientMutationId } }")
    assert fake.calls == []


async def test_app_client_uses_a_jwt(fake: FakeGitHub, github: GitHub):
    app = github.app()
    info = await app.getitem("/app")
    assert info["id"] == fake.app_id
    assert fake.tokens_minted == 0


async def test_unknown_installation_fails_permanently(fake: FakeGitHub, github: GitHub):
    with pytest.raises(InstallationGone) as caught:
        await github.installation(999)
    assert caught.value.installation_id == 999
    # Not an item that cannot be had (what code catching PermanentGitHubError goes on without).
    assert not isinstance(caught.value, PermanentGitHubError)
    # The 404 was the token's: code reading a status 404 as "that item is not there" must not
    # take an uninstall for a missing file or a deleted issue.
    assert caught.value.status is None
    assert caught.value.endpoint == "/app/installations/{n}/access_tokens"


async def test_a_suspended_installation_is_an_outage_of_that_installation(fake: FakeGitHub, github: GitHub):
    fake.add_installation("acme", installation_id=321).suspended = True
    with pytest.raises(InstallationSuspended) as caught:
        await github.installation(321)
    assert isinstance(caught.value, TransientGitHubError) and caught.value.installation_id == 321
    assert caught.value.status is None  # the token's 403, not a refusal of some item

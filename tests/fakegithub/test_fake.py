"""Tests of the fake GitHub itself: if these fail, every end-to-end test is suspect."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from typing import Any, AsyncIterator

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web

from tests.fakegithub import FakeGitHub
from tests.fakegithub.pytest_plugin import fake_github  # noqa: F401  (fixture)
from tests.fixtures.webhooks import load_example


class Client:
    """A bare HTTP client, so these tests exercise the fake and not the bot's client."""

    def __init__(self, fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
        self.fake, self.session = fake, session
        self.auth = f"token {fake.installation_token()}"

    async def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                      **kw: Any) -> tuple[int, Any, "aiohttp.typedefs.LooseHeaders"]:
        url = path if path.startswith("http") else self.fake.url + path
        async with self.session.request(method, url, headers={"Authorization": self.auth,
                                                              **(headers or {})}, **kw) as resp:
            text = await resp.text()
            body = await resp.json(content_type=None) if "json" in resp.content_type and text else text
            return resp.status, body, resp.headers

    def app_jwt(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iat": now - 30, "exp": now + 540, "iss": str(self.fake.app_id), **overrides}
        return jwt.encode(claims, self.fake.private_key_pem, algorithm="RS256")


@pytest_asyncio.fixture
async def gh(fake_github: FakeGitHub) -> AsyncIterator[Client]:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        yield Client(fake_github, session)


async def test_valid_comment_is_created_and_recorded(gh: Client) -> None:
    gh.fake.add_issue("o/r", title="Crash", user="alice")
    status, body, _ = await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "hi"})
    assert status == 201 and body["user"]["login"] == gh.fake.bot_login
    assert [c.body for c in gh.fake.issue("o/r", 1).comments] == ["hi"]
    calls = gh.fake.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    assert len(calls) == 1 and calls[0].json == {"body": "hi"}
    assert "authorization" not in calls[0].headers


async def test_invalid_body_is_rejected_and_reported(gh: Client) -> None:
    gh.fake.add_issue("o/r", user="alice")
    status, body, _ = await gh.request("POST", "/repos/o/r/issues/1/labels", json={"labels": "bug"})
    assert status == 422
    assert gh.fake.issue("o/r", 1).labels == []
    assert len(gh.fake.violations) == 1 and "labels" in gh.fake.violations[0]
    gh.fake.violations.clear()


async def test_unknown_and_unimplemented_operations_are_violations(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    assert (await gh.request("GET", "/repos/o/r/not-a-thing"))[0] == 404
    assert (await gh.request("GET", "/repos/o/r/issues/1/sub_issues"))[0] == 501
    assert (await gh.request("GET", "/repos/o/r/issues?bogus=1"))[0] == 422
    assert (await gh.request("GET", "/repos/o/r/issues/abc"))[0] == 422
    assert len(gh.fake.violations) == 4
    assert "fake does not implement GET /repos/{owner}/{repo}/issues/{issue_number}/sub_issues" in gh.fake.violations
    gh.fake.violations.clear()


async def test_pagination_links_and_listing_caps(gh: Client) -> None:
    gh.fake.add_pull("o/r", user="alice", files=[f"f{i}.py" for i in range(3005)],
                     commits=[f"commit {i}" for i in range(260)])
    names: list[str] = []
    url = "/repos/o/r/pulls/1/files?per_page=100"
    while url:
        status, page, headers = await gh.request("GET", url)
        assert status == 200
        names += [f["filename"] for f in page]
        links = {part.split(";")[1].strip(): part.split(";")[0].strip(" <>")
                 for part in headers.get("Link", "").split(",") if part}
        url = links.get('rel="next"')
    assert len(names) == 3000 and names[0] == "f0.py"
    status, page, headers = await gh.request("GET", "/repos/o/r/pulls/1/commits?per_page=100&page=3")
    assert len(page) == 50 and 'rel="prev"' in headers["Link"] and 'rel="next"' not in headers["Link"]


async def test_etag_304_does_not_count_against_rate_limit(gh: Client) -> None:
    gh.fake.add_issue("o/r", user="alice")
    _, _, first = await gh.request("GET", "/repos/o/r/issues/1")
    remaining = int(first["x-ratelimit-remaining"])
    status, _, second = await gh.request("GET", "/repos/o/r/issues/1",
                                         headers={"If-None-Match": first["ETag"]})
    assert status == 304 and int(second["x-ratelimit-remaining"]) == remaining
    gh.fake.issue("o/r", 1).title = "changed"
    status, body, _ = await gh.request("GET", "/repos/o/r/issues/1", headers={"If-None-Match": first["ETag"]})
    assert status == 200 and body["title"] == "changed"


async def test_jwt_to_installation_token_flow(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    gh.auth = "Bearer not.a.jwt"
    assert (await gh.request("POST", "/app/installations/1/access_tokens"))[0] == 401
    gh.auth = "Bearer " + gh.app_jwt(iss="999")
    assert (await gh.request("POST", "/app/installations/1/access_tokens"))[0] == 401
    gh.auth = "Bearer " + gh.app_jwt()
    status, body, _ = await gh.request("POST", "/app/installations/1/access_tokens")
    assert status == 201 and body["expires_at"].endswith("Z") and gh.fake.tokens_minted == 1
    gh.auth = f"token {body['token']}"
    assert (await gh.request("GET", "/repos/o/r"))[0] == 200
    assert (await gh.request("GET", "/app"))[0] == 401  # /app wants the JWT
    gh.auth = "token " + gh.fake.installation_token(ttl=-1)
    assert (await gh.request("GET", "/repos/o/r"))[0] == 401


async def test_permission_roles_map_like_github(gh: Client) -> None:
    for login, role in [("a", "admin"), ("m", "maintain"), ("w", "write"), ("t", "triage"), ("r", "read")]:
        gh.fake.set_permission("o/r", login, role)
    gh.fake.add_user("n")
    seen = {}
    for login in "amwtrn":
        _, body, _ = await gh.request("GET", f"/repos/o/r/collaborators/{login}/permission")
        seen[login] = (body["permission"], body["role_name"])
    assert seen == {"a": ("admin", "admin"), "m": ("write", "maintain"), "w": ("write", "write"),
                    "t": ("read", "triage"), "r": ("read", "read"), "n": ("none", "none")}


async def test_a_user_is_found_by_id_as_github_serves_it(gh: Client) -> None:
    # The CLA links `ID+login@users.noreply.github.com` co-authors through this call.
    user = gh.fake.add_user("coauthor")
    gh.fake.add_user("other")
    status, body, _ = await gh.request("GET", f"/user/{user.id}")
    assert status == 200 and (body["login"], body["id"]) == ("coauthor", user.id)
    status, _, _ = await gh.request("GET", "/user/987654321")
    assert status == 404


async def test_reactions_labels_contents_patch_and_search(gh: Client) -> None:
    fake = gh.fake
    fake.put_file("o/r", ".github/contributor-flow.yml", "sla: {days: 2}\n")
    fake.set_permission("o/r", "bob", "write")
    fake.add_pull("o/r", title="Fix", user="alice", requested_reviewers=["bob"], files=["a.py"])
    fake.add_issue("o/r", title="Bug", user="carol")
    assert (await gh.request("POST", "/repos/o/r/issues/1/reactions", json={"content": "eyes"}))[0] == 201
    assert (await gh.request("POST", "/repos/o/r/issues/1/reactions", json={"content": "eyes"}))[0] == 200
    _, labels, _ = await gh.request("POST", "/repos/o/r/issues/2/labels", json={"labels": ["kind/bug"]})
    assert [lb["name"] for lb in labels] == ["kind/bug"]
    assert (await gh.request("DELETE", "/repos/o/r/issues/2/labels/kind%2Fbug"))[0] == 200
    _, content, _ = await gh.request("GET", "/repos/o/r/contents/.github/contributor-flow.yml")
    assert base64.b64decode(content["content"]).decode() == "sla: {days: 2}\n"
    _, patch, _ = await gh.request("GET", "/repos/o/r/pulls/1",
                                   headers={"Accept": "application/vnd.github.patch"})
    assert patch.startswith("From ") and "Subject: [PATCH 1/1] Fix" in patch
    _, found, _ = await gh.request("GET", "/search/issues",
                                   params={"q": "repo:o/r is:pr is:open review-requested:bob"})
    assert [i["number"] for i in found["items"]] == [1]
    _, found, _ = await gh.request("GET", "/search/issues", params={"q": "org:o is:issue author:carol"})
    assert [i["number"] for i in found["items"]] == [2]


async def test_only_people_github_lets_be_assigned_are(gh: Client) -> None:
    """Collaborators with triage or more, members of the organisation, the author and
    commenters; anyone else is left out silently by the POST and is 404 to the check."""
    fake = gh.fake
    fake.add_issue("o/r", user="alice")
    fake.set_permission("o/r", "tri", "triage")
    fake.add_org_member("o", "member")
    for login in ("stranger", "reader", "talker"):
        fake.add_user(login)
    fake.set_permission("o/r", "reader", "read")
    fake.add_comment("o/r", 1, "me too", "talker")
    for login, can in (("alice", True), ("tri", True), ("member", True), ("talker", True),
                       ("stranger", False), ("reader", False), ("nobody-at-all", False)):
        status = (await gh.request("GET", f"/repos/o/r/issues/1/assignees/{login}"))[0]
        assert status == (204 if can else 404), login
    _, issue, _ = await gh.request("POST", "/repos/o/r/issues/1/assignees",
                                   json={"assignees": ["stranger", "tri", "reader"]})
    assert [a["login"] for a in issue["assignees"]] == ["tri"]


async def test_changes_through_the_api_are_logged_as_issue_events(gh: Client) -> None:
    gh.fake.add_issue("o/r", user="alice", labels=["old"])
    gh.fake.set_permission("o/r", "bob", "triage")  # assignable
    await gh.request("POST", "/repos/o/r/issues/1/labels", json={"labels": ["triaged"]})
    await gh.request("DELETE", "/repos/o/r/issues/1/labels/old")
    await gh.request("POST", "/repos/o/r/issues/1/assignees", json={"assignees": ["bob"]})
    await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "thanks"})
    await gh.request("PATCH", "/repos/o/r/issues/1", json={"state": "closed", "state_reason": "not_planned"})
    _, events, _ = await gh.request("GET", "/repos/o/r/issues/1/events")
    assert [e["event"] for e in events] == ["labeled", "unlabeled", "assigned", "closed"]
    assert events[0]["label"]["name"] == "triaged" and events[3]["state_reason"] == "not_planned"
    _, timeline, _ = await gh.request("GET", "/repos/o/r/issues/1/timeline")
    assert "commented" in [e["event"] for e in timeline]


async def test_commit_author_is_null_for_unlinked_email(gh: Client) -> None:
    gh.fake.add_user("alice", emails=["alice@example.org"])
    gh.fake.add_pull("o/r", user="alice", commits=[
        {"message": "linked", "author": "alice@example.org"},
        {"message": "unlinked", "author": "stranger@example.net"}])
    _, commits, _ = await gh.request("GET", "/repos/o/r/pulls/1/commits")
    assert commits[0]["author"]["login"] == "alice" and commits[1]["author"] is None


async def test_graphql_invalid_document_is_a_violation(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    status, body, _ = await gh.request("POST", "/graphql", json={"query": "{ repository(owner: \"o\") { id } }"})
    assert status == 200 and body["errors"] and "data" not in body
    assert gh.fake.violations and "GraphQL document invalid" in gh.fake.violations[0]
    gh.fake.violations.clear()


async def test_graphql_project_flow(gh: Client) -> None:
    fake = gh.fake
    issue = fake.add_issue("o/r", user="alice")
    project = fake.add_project("o", 7, "Triage", fields={"Status": ["Todo", "Done"]})
    query = """query { organization(login: "o") { projectV2(number: 7) { id
        fields(first: 20) { nodes { ... on ProjectV2SingleSelectField { id name options { id name } } } } } } }"""
    _, body, _ = await gh.request("POST", "/graphql", json={"query": query})
    field = body["data"]["organization"]["projectV2"]["fields"]["nodes"][0]
    add = """mutation($p: ID!, $c: ID!) { addProjectV2ItemById(input: {projectId: $p, contentId: $c}) { item { id } } }"""
    ids = []
    for _ in range(2):
        _, body, _ = await gh.request("POST", "/graphql", json={
            "query": add, "variables": {"p": project.id, "c": issue.node_id}})
        ids.append(body["data"]["addProjectV2ItemById"]["item"]["id"])
    assert ids[0] == ids[1] and len(project.items) == 1
    done = next(o["id"] for o in field["options"] if o["name"] == "Done")
    update = """mutation($p: ID!, $i: ID!, $f: ID!, $o: String!) { updateProjectV2ItemFieldValue(
        input: {projectId: $p, itemId: $i, fieldId: $f, value: {singleSelectOptionId: $o}}) { projectV2Item { id } } }"""
    _, body, _ = await gh.request("POST", "/graphql", json={
        "query": update, "variables": {"p": project.id, "i": ids[0], "f": field["id"], "o": done}})
    assert "errors" not in body and project.items[0].values == {field["id"]: done}
    assert len(fake.graphql_calls("addProjectV2ItemById")) == 2


async def test_graphql_connections_are_paged_as_githubs_are(gh: Client) -> None:
    fake = gh.fake
    fake.add_project("o", 7, "Crowded", fields={f"F{i}": None for i in range(130)})
    query = """query($after: String) { organization(login: "o") { projectV2(number: 7) {
        fields(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
                                            nodes { ... on ProjectV2FieldCommon { name } } } } } }"""
    names, after = [], None
    while True:
        _, body, _ = await gh.request("POST", "/graphql", json={"query": query, "variables": {"after": after}})
        page = body["data"]["organization"]["projectV2"]["fields"]
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == [f"F{i}" for i in range(130)]
    # More than 100 a page is refused, as GitHub does.
    _, body, _ = await gh.request("POST", "/graphql", json={"query": query.replace("first: 100", "first: 101")})
    [error] = body["errors"]
    assert error["type"] == "EXCESSIVE_PAGINATION" and "limit of 100 records" in error["message"]


async def test_faults_change_no_state_and_retry_after_is_enforced(gh: Client) -> None:
    fake = gh.fake
    fake.add_issue("o/r", user="alice")
    fake.faults.configure(share=1.0, kinds=("429",), retry_after=1)
    status, _, headers = await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "x"})
    assert status == 429 and headers["Retry-After"] == "1"
    assert fake.issue("o/r", 1).comments == []
    fake.faults.off()
    await gh.request("GET", "/repos/o/r/issues/1")  # too early
    assert fake.violations and fake.violations[0].startswith("request before Retry-After")
    fake.violations.clear()
    fake.faults.reset()
    fake.faults.configure(share=1.0, kinds=("secondary_403",), retry_after=0, after_effect=True)
    status, _, _ = await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "y"})
    assert status == 502 and [c.body for c in fake.issue("o/r", 1).comments] == ["y"]
    fake.faults.configure(share=1.0, kinds=("secondary_403",), retry_after=0)
    status, body, _ = await gh.request("GET", "/repos/o/r/issues/1")
    assert status == 403 and "secondary rate limit" in body["message"]


async def test_faults_are_deterministic_for_a_seed(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    outcomes = []
    for _ in range(2):
        gh.fake.faults.configure(share=0.5, kinds=("502",), seed=7)
        outcomes.append([(await gh.request("GET", "/repos/o/r"))[0] for _ in range(20)])
    assert outcomes[0] == outcomes[1] and {200, 502} == set(outcomes[0])


async def test_deliveries_are_signed_listed_and_redelivered(gh: Client) -> None:
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        arrived.set()
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/webhook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        payload = load_example("issues", "opened")
        delivery = await gh.fake.deliver(f"http://{host}:{port}/webhook", "issues", payload, "s3cret")
        headers, raw = received[0]
        expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == expected and headers["X-GitHub-Event"] == "issues"
        assert headers["User-Agent"].startswith("GitHub-Hookshot/") and delivery.status_code == 202
        await gh.fake.deliver(f"http://{host}:{port}/webhook", "ping", load_example("ping"), "s3cret")
        gh.auth = "Bearer " + gh.app_jwt()
        _, first, hdrs = await gh.request("GET", "/app/hook/deliveries?per_page=1")
        assert first[0]["event"] == "ping" and 'rel="next"' in hdrs["Link"]
        next_url = hdrs["Link"].split(";")[0].strip("<>")
        _, second, _ = await gh.request("GET", next_url)
        assert second[0]["guid"] == delivery.guid and second[0]["action"] == "opened"
        arrived.clear()
        status, _, _ = await gh.request("POST", f"/app/hook/deliveries/{delivery.id}/attempts")
        assert status == 202
        await asyncio.wait_for(arrived.wait(), 5)
        await gh.fake.wait_redeliveries()
        assert received[-1][0]["X-GitHub-Delivery"] == delivery.guid
        _, newest, _ = await gh.request("GET", "/app/hook/deliveries")
        assert newest[0]["redelivery"] is True and newest[0]["guid"] == delivery.guid
    finally:
        await runner.cleanup()


def test_webhook_examples_load_as_fresh_copies() -> None:
    a = load_example("pull_request", "opened")
    a["action"] = "mutated"
    assert load_example("pull_request", "opened")["action"] == "opened"
    with pytest.raises(KeyError):
        load_example("issues", "no-such-action")


async def test_gidgethub_client_works_against_the_fake(fake_github: FakeGitHub) -> None:  # noqa: F811
    from gidgethub import apps
    from gidgethub.aiohttp import GitHubAPI

    fake = fake_github
    fake.add_issue("o/r", user="alice")
    for i in range(35):
        fake.add_comment("o/r", 1, f"c{i}", "alice")
    async with aiohttp.ClientSession() as session:
        app_client = GitHubAPI(session, "contributor-flow-tests", base_url=fake.url)
        token = await apps.get_installation_access_token(
            app_client, installation_id="1", app_id=str(fake.app_id), private_key=fake.private_key_pem)
        gh = GitHubAPI(session, "contributor-flow-tests", oauth_token=token["token"],
                       base_url=fake.url, cache={})
        bodies = [c["body"] async for c in gh.getiter("/repos/o/r/issues/1/comments")]
        assert bodies == [f"c{i}" for i in range(35)]
        first = await gh.getitem("/repos/o/r/issues/1")
        again = await gh.getitem("/repos/o/r/issues/1")
        assert first == again
        statuses = [c.status for c in fake.calls_to("GET", "/repos/{owner}/{repo}/issues/{issue_number}")]
        assert statuses == [200, 304]
        data = await gh.graphql('query { repository(owner: "o", name: "r") { id } }',
                                endpoint=f"{fake.url}/graphql")
        assert data["repository"]["id"] == fake.repo("o/r").node_id
        await gh.post("/repos/o/r/issues/1/labels", data={"labels": ["triage"]})
        assert fake.issue("o/r", 1).labels == ["triage"]
    assert fake.tokens_minted == 1


async def test_rate_limit_exhaustion_answers_403_with_zero_remaining(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    gh.fake.rate_limit = 2
    assert (await gh.request("GET", "/repos/o/r"))[0] == 200
    assert (await gh.request("GET", "/repos/o/r"))[0] == 200
    status, body, headers = await gh.request("GET", "/repos/o/r")
    assert status == 403 and headers["x-ratelimit-remaining"] == "0"
    assert "rate limit exceeded" in body["message"]


async def test_stalled_requests_are_answered_late(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    gh.fake.faults.configure(share=0.0, stall_share=1.0, stall_seconds=0.3)
    started = time.monotonic()
    status, _, _ = await gh.request("GET", "/repos/o/r")
    assert status == 200 and time.monotonic() - started >= 0.3


async def test_a_completed_check_run_is_not_taken_back_to_in_progress(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    status, made, _ = await gh.request("POST", "/repos/o/r/check-runs", json={
        "name": "pipeline", "head_sha": "a" * 40, "status": "completed", "conclusion": "failure"})
    assert status == 201
    url = f"/repos/o/r/check-runs/{made['id']}"
    status, _, _ = await gh.request("PATCH", url, json={"status": "in_progress"})
    assert status == 422
    status, body, _ = await gh.request("PATCH", url, json={"status": "completed", "conclusion": "success"})
    assert status == 200 and body["conclusion"] == "success"


async def test_hundreds_of_validated_requests_are_all_kept(gh: Client) -> None:
    gh.fake.add_issue("o/r", user="alice")
    for i in range(300):
        status, _, _ = await gh.request("POST", "/repos/o/r/check-runs", json={
            "name": f"cla-{i}", "head_sha": "a" * 40, "status": "completed", "conclusion": "success",
            "output": {"title": "CLA", "summary": "signed"}})
        assert status == 201
    assert len(gh.fake.state.check_runs) == 300


async def test_workflow_dispatch_creates_a_run_and_is_recorded(gh: Client) -> None:
    fake = gh.fake
    fake.add_workflow("o/r", "patch.yml", name="Signed patch")
    status, body, _ = await gh.request("POST", "/repos/o/r/actions/workflows/patch.yml/dispatches", json={
        "ref": "main", "inputs": {"pr": "7"}, "return_run_details": True})
    assert status == 200 and fake.state.dispatches[0].inputs == {"pr": "7"}
    run_id = body["workflow_run_id"]
    fake.state.workflow_runs[run_id].status = "completed"
    fake.state.workflow_runs[run_id].conclusion = "success"
    _, runs, _ = await gh.request("GET", "/repos/o/r/actions/runs?event=workflow_dispatch&status=success")
    assert [r["id"] for r in runs["workflow_runs"]] == [run_id] and runs["total_count"] == 1
    status, _, _ = await gh.request("POST", "/repos/o/r/actions/workflows/patch.yml/dispatches",
                                    json={"ref": "no-such-branch"})
    assert status == 422


async def test_repo_installation_needs_the_app_jwt(gh: Client) -> None:
    gh.fake.add_repo("o/r")
    assert (await gh.request("GET", "/repos/o/r/installation"))[0] == 401
    gh.auth = "Bearer " + gh.app_jwt()
    status, body, _ = await gh.request("GET", "/repos/o/r/installation")
    assert status == 200 and body["id"] == 1 and body["app_id"] == gh.fake.app_id


async def test_content_creation_limit_answers_secondary_403_when_enabled(gh: Client) -> None:
    gh.fake.add_issue("o/r", user="alice")
    gh.fake.limits.content_per_minute = 2
    statuses = [(await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "x"}))[0]
                for _ in range(2)]
    status, body, headers = await gh.request("POST", "/repos/o/r/issues/1/comments", json={"body": "x"})
    assert statuses == [201, 201] and status == 403 and headers["Retry-After"] == "60"
    assert "secondary rate limit" in body["message"] and len(gh.fake.issue("o/r", 1).comments) == 2


async def test_concurrent_requests_are_tracked(gh: Client) -> None:
    from tests.fakegithub.limits import MAX_CONCURRENT

    gh.fake.add_repo("o/r")
    # Every answer is held back, so the requests are all in flight at once: the peak is theirs.
    gh.fake.faults.configure(share=0.0, stall_share=1.0, stall_seconds=0.3)
    statuses = await asyncio.gather(*(gh.request("GET", "/repos/o/r") for _ in range(20)))
    assert statuses and {s for s, _, _ in statuses} == {200}
    assert gh.fake.limits.max_in_flight == 20 and gh.fake.limits.in_flight == 0
    assert gh.fake.violations == []
    # One more than GitHub's limit at once is a violation (a session without a connection cap).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        crowd = Client(gh.fake, session)
        await asyncio.gather(*(crowd.request("GET", "/repos/o/r") for _ in range(MAX_CONCURRENT + 1)))
    assert gh.fake.limits.max_in_flight == MAX_CONCURRENT + 1 and gh.fake.limits.in_flight == 0
    assert [v for v in gh.fake.violations if "concurrent requests" in v] == [
        f"more than {MAX_CONCURRENT} concurrent requests (GET /repos/o/r)"]
    gh.fake.violations.clear()


async def test_answers_have_the_types_github_documents(gh: Client) -> None:
    from tests.fakegithub import spec
    from tests.fakegithub.validate import response_problems

    fake = gh.fake
    fake.set_permission("o/r", "bob", "write")
    fake.add_issue("o/r", user="alice", labels=["bug"], assignees=["bob"])
    fake.add_comment("o/r", 1, "hi", "bob")
    fake.add_reaction("o/r", 1, "+1", "bob")
    fake.add_pull("o/r", user="alice", files=["a.py"], requested_reviewers=["bob"])
    fake.add_review("o/r", 2, "bob")
    run = fake.add_check_run("o/r", "cla", "a" * 40, status="completed", conclusion="success")
    fake.add_workflow_run("o/r", "ci.yml")
    fake.add_team("o", "core", members=["bob"])
    fake.put_file("o/r", "README.md", "x")
    await gh.request("POST", "/repos/o/r/issues/1/labels", json={"labels": ["triaged"]})
    await gh.request("POST", "/repos/o/r/pulls/2/comments", json={
        "body": "nit", "commit_id": fake.issue("o/r", 2).pull.head_sha, "path": "a.py", "line": 1})
    shipped = fake.commit_on_branch("o/r", "main", "Ship it")
    status, made, _ = await gh.request("POST", "/repos/o/r/deployments", json={
        "ref": shipped.sha, "environment": "sandbox", "auto_merge": False, "required_contexts": []})
    assert status == 201 and response_problems(spec.match("POST", "/repos/o/r/deployments")[0], 201, made) == []
    paths = ["/repos/o/r/issues/1", "/repos/o/r/issues", "/repos/o/r/issues/1/comments",
             "/repos/o/r/issues/1/reactions", "/repos/o/r/issues/1/events", "/repos/o/r/pulls/2",
             "/repos/o/r/pulls", "/repos/o/r/pulls/2/files", "/repos/o/r/pulls/2/commits",
             "/repos/o/r/pulls/2/reviews", "/repos/o/r/pulls/2/requested_reviewers",
             f"/repos/o/r/check-runs/{run.id}", f"/repos/o/r/commits/{'a' * 40}/check-runs",
             "/repos/o/r/collaborators/bob/permission", "/repos/o/r", "/repos/o/r/contents/README.md",
             "/repos/o/r/labels", "/repos/o/r/actions/runs", "/repos/o/r/compare/main...feature",
             "/search/issues?q=repo:o/r", "/orgs/o/teams/core/members",
             "/repos/o/r/pulls/2/comments", "/repos/o/r/pulls/comments", "/repos/o/r/issues/comments",
             "/repos/o/r/collaborators", "/repos/o/r/git/trees/main?recursive=1", "/orgs/o/memberships/bob",
             "/repos/o/r/branches/main",
             "/orgs/o/teams/core/memberships/bob", "/repos/o/r/commits",
             f"/repos/o/r/deployments?sha={shipped.sha}&environment=sandbox", f"/repos/o/r/deployments/{made['id']}",
             f"/repos/o/r/compare/{shipped.sha}...main"]
    problems = {}
    for path in paths:
        status, body, _ = await gh.request("GET", path)
        op, _, _ = spec.match("GET", path.split("?")[0])
        assert op is not None and status == 200, path
        found = response_problems(op, status, body)
        if found:
            problems[path] = found
    assert problems == {}


async def test_compare_answers_by_ancestry_on_a_branch_history(gh: Client) -> None:
    fake = gh.fake
    fake.add_repo("o/r")
    first = fake.commit_on_branch("o/r", "main", "one")
    second = fake.commit_on_branch("o/r", "main", "two")
    side = fake.commit_on_branch("o/r", "side", "elsewhere")  # a new history: no common commit
    answers = {}
    for base, head in ((first.sha, second.sha), (second.sha, first.sha), (second.sha, second.sha),
                       (first.sha, side.sha)):
        status, body, _ = await gh.request("GET", f"/repos/o/r/compare/{base}...{head}")
        assert status == 200
        answers[(base, head)] = (body["status"], body["ahead_by"], body["behind_by"])
    assert answers == {(first.sha, second.sha): ("ahead", 1, 0), (second.sha, first.sha): ("behind", 0, 1),
                       (second.sha, second.sha): ("identical", 0, 0), (first.sha, side.sha): ("diverged", 1, 1)}


async def test_deployments_are_listed_by_sha_and_environment(gh: Client) -> None:
    fake = gh.fake
    fake.add_repo("o/r")
    head = fake.commit_on_branch("o/r", "main", "one")
    for environment in ("sandbox", "production"):
        status, _, _ = await gh.request("POST", "/repos/o/r/deployments", json={
            "ref": head.sha, "environment": environment, "auto_merge": False, "required_contexts": []})
        assert status == 201
    status, listed, _ = await gh.request("GET", f"/repos/o/r/deployments?sha={head.sha}&environment=sandbox")
    assert status == 200 and [d["environment"] for d in listed] == ["sandbox"]
    assert listed[0]["creator"]["login"] == fake.bot_login and listed[0]["sha"] == head.sha
    status, _, _ = await gh.request("POST", "/repos/o/r/deployments", json={
        "ref": head.sha, "environment": "sandbox", "required_contexts": ["ci"]})
    assert status == 409  # "ci" has not succeeded on the commit

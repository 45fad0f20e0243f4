"""The fake's routes take their parameters as GitHub does: logins and owner/repo names in any
case, the filters and orders GitHub honours, noreply addresses linked to their accounts.

Each test here pins a difference from GitHub the fake once had (answers a bot could not have
met on GitHub, so bot code paths behind them were never really exercised)."""

from __future__ import annotations

from tests.fakegithub.test_fake import Client, gh  # noqa: F401  (fixture)

NOREPLY = "users.noreply.github.com"


async def test_users_and_their_permissions_are_found_whatever_the_case(gh: Client) -> None:
    fake = gh.fake
    fake.set_permission("o/r", "Bob", "write")
    fake.add_issue("o/r", user="alice")
    status, body, _ = await gh.request("GET", "/users/bob")
    assert status == 200 and body["login"] == "Bob"
    _, body, _ = await gh.request("GET", "/repos/o/r/collaborators/BOB/permission")
    assert (body["permission"], body["user"]["login"]) == ("write", "Bob")
    assert (await gh.request("GET", "/repos/o/r/collaborators/bob"))[0] == 204
    assert (await gh.request("GET", "/repos/o/r/assignees/bob"))[0] == 204
    assert (await gh.request("GET", "/repos/o/r/issues/1/assignees/bob"))[0] == 204
    # Assigning keeps the account's own spelling, as GitHub answers it; unassigning any spelling.
    _, issue, _ = await gh.request("POST", "/repos/o/r/issues/1/assignees", json={"assignees": ["bob"]})
    assert [a["login"] for a in issue["assignees"]] == ["Bob"] and fake.issue("o/r", 1).assignees == ["Bob"]
    _, issue, _ = await gh.request("DELETE", "/repos/o/r/issues/1/assignees", json={"assignees": ["BOB"]})
    assert issue["assignees"] == []


async def test_org_and_team_membership_ignore_the_case_of_org_and_login(gh: Client) -> None:
    fake = gh.fake
    fake.add_team("Octo", "core", members=["Bob"])
    assert (await gh.request("GET", "/orgs/octo/members/bob"))[0] == 204
    status, body, _ = await gh.request("GET", "/orgs/OCTO/memberships/BOB")
    assert status == 200 and body["role"] == "member" and body["user"]["login"] == "Bob"
    status, body, _ = await gh.request("GET", "/orgs/octo/teams/core/memberships/bob")
    assert status == 200 and body["state"] == "active"
    _, members, _ = await gh.request("GET", "/orgs/octo/teams/core/members")
    assert [m["login"] for m in members] == ["Bob"]


async def test_search_and_list_filters_match_logins_in_any_case(gh: Client) -> None:
    fake = gh.fake
    fake.set_permission("o/r", "Rev", "write")
    fake.add_user("Bob", emails=["Bob@corp.example"])
    fake.add_issue("o/r", user="Bob", assignees=["Bob"])
    fake.add_pull("o/r", user="Bob", requested_reviewers=["Rev"],
                  commits=[{"message": "x", "author": "Bob@corp.example"}])
    for q in ("repo:o/r author:bob is:issue", "repo:o/r assignee:BOB",
              "repo:o/r is:pr review-requested:rev"):
        _, found, _ = await gh.request("GET", "/search/issues", params={"q": q})
        assert found["total_count"] == 1, q
    _, issues, _ = await gh.request("GET", "/repos/o/r/issues", params={"creator": "bob"})
    assert len(issues) == 2
    _, issues, _ = await gh.request("GET", "/repos/o/r/issues", params={"assignee": "bob"})
    assert [i["number"] for i in issues] == [1]
    # (the pull request's branch: its commits are not on the default branch before it merges)
    for who in ("bob", "bob@CORP.example"):
        _, commits, _ = await gh.request("GET", "/repos/o/r/commits", params={"author": who, "sha": "feature"})
        assert len(commits) == 1, who


async def test_owner_and_repo_names_in_any_case_reach_the_same_repository(gh: Client) -> None:
    fake = gh.fake
    fake.add_issue("Octo/Repo", user="alice")
    await gh.request("POST", "/repos/octo/repo/issues/1/labels", json={"labels": ["triaged"]})
    # The change is logged as an issue event whatever case the path used.
    _, events, _ = await gh.request("GET", "/repos/OCTO/REPO/issues/1/events")
    assert [e["event"] for e in events] == ["labeled"]
    gh.auth = "Bearer " + gh.app_jwt()
    status, body, _ = await gh.request("GET", "/repos/octo/repo/installation")
    assert status == 200 and body["id"] == 1
    assert (await gh.request("GET", "/users/OCTO/installation"))[0] == 200
    gh.auth = f"token {fake.installation_token()}"
    board = fake.add_project("OCTO", 3, "Triage")
    query = ('query { repository(owner: "octo", name: "REPO") { id } organization(login: "OCTO") '
             '{ login projectV2(number: 3) { id } } }')
    _, body, _ = await gh.request("POST", "/graphql", json={"query": query})
    assert body["data"] == {"repository": {"id": fake.repo("Octo/Repo").node_id},
                            "organization": {"login": "Octo", "projectV2": {"id": board.id}}}


async def test_an_installation_for_some_repositories_covers_them_in_any_case(gh: Client) -> None:
    fake = gh.fake
    fake.add_repo("Octo/Repo")
    inst = fake.add_installation(account="octo", repos=["octo/repo"])
    gh.auth = f"token {fake.installation_token(inst.id)}"
    assert (await gh.request("GET", "/repos/Octo/Repo"))[0] == 200


async def test_noreply_addresses_link_commits_as_github_does(gh: Client) -> None:
    """``ID+login@`` is linked by the id (the login part is not read: renamed accounts keep
    their commits), the old ``login@`` form by the login it names now."""
    fake = gh.fake
    carol = fake.add_user("carol", emails=["carol@example.com"])
    fake.add_user("Dave")
    fake.add_pull("o/r", user="carol", merged=True, commits=[   # merged: commit search finds it
        {"message": "id form", "author": f"{carol.id}+carol@{NOREPLY}"},
        {"message": "stale login", "author": f"{carol.id}+carol-old-name@{NOREPLY}"},
        {"message": "old form", "author": f"dave@{NOREPLY}"},
        {"message": "unknown id", "author": f"987654321+carol@{NOREPLY}"},
        {"message": "unknown login", "author": f"nobody-here@{NOREPLY}"}])
    _, commits, _ = await gh.request("GET", "/repos/o/r/pulls/1/commits")
    assert [(c["author"] or {}).get("login") for c in commits] == ["carol", "carol", "Dave", None, None]
    _, found, _ = await gh.request("GET", "/search/commits",
                                   params={"q": f"author-email:{carol.id}+carol@{NOREPLY}"})
    assert found["items"][0]["author"]["login"] == "carol"
    query = """query { repository(owner: "o", name: "r") { pullRequest(number: 1) {
        commits(first: 10) { nodes { commit { author { user { login } } } } } } } }"""
    _, body, _ = await gh.request("POST", "/graphql", json={"query": query})
    nodes = body["data"]["repository"]["pullRequest"]["commits"]["nodes"]
    assert [(n["commit"]["author"]["user"] or {}).get("login") for n in nodes] == \
        ["carol", "carol", "Dave", None, None]
    # An organisation's noreply address links nothing: GitHub links commits to people.
    org = fake.add_org("octo-org")
    assert fake.serializer.user_by_email(f"{org.id}+octo-org@{NOREPLY}") is None
    assert fake.serializer.user_by_email(f"octo-org@{NOREPLY}") is None


async def test_repository_review_comments_honour_since_sort_and_direction(gh: Client) -> None:
    fake = gh.fake
    pr = fake.add_pull("o/r", user="alice")
    for i, stamp in enumerate(["2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"]):
        status, made, _ = await gh.request("POST", "/repos/o/r/pulls/1/comments", json={
            "body": f"c{i}", "commit_id": pr.pull.head_sha, "path": "a.py", "line": 1})
        assert status == 201
        pr.pull.review_comments[-1].created_at = stamp
    _, listed, _ = await gh.request("GET", "/repos/o/r/pulls/comments",
                                    params={"sort": "created", "direction": "asc", "since": "2025-01-01T00:00:00Z"})
    assert [c["body"] for c in listed] == ["c1", "c2"]
    _, listed, _ = await gh.request("GET", "/repos/o/r/pulls/comments",
                                    params={"sort": "created", "direction": "desc"})
    assert [c["body"] for c in listed] == ["c2", "c1", "c0"]


async def test_repository_comments_sort_by_update_when_asked(gh: Client) -> None:
    fake = gh.fake
    fake.add_issue("o/r", user="alice")
    first = fake.add_comment("o/r", 1, "first", "alice")
    fake.add_comment("o/r", 1, "second", "alice")
    first.updated_at = "2999-01-01T00:00:00Z"  # edited after the second was written
    _, listed, _ = await gh.request("GET", "/repos/o/r/issues/comments",
                                    params={"sort": "updated", "direction": "asc"})
    assert [c["body"] for c in listed] == ["second", "first"]


async def test_collaborators_include_access_through_teams_and_org_ownership(gh: Client) -> None:
    fake = gh.fake
    fake.add_repo("o/r")
    fake.set_permission("o/r", "direct", "write")
    fake.set_permission("o/r", "reader", "read")
    fake.add_team("o", "core", members=["teamed"]).repos["o/r"] = "push"
    fake.add_org_member("o", "boss", role="admin")
    fake.add_org_member("o", "plain")
    _, listed, _ = await gh.request("GET", "/repos/o/r/collaborators",
                                    params={"affiliation": "all", "permission": "push"})
    assert sorted(c["login"] for c in listed) == ["boss", "direct", "teamed"]
    _, listed, _ = await gh.request("GET", "/repos/o/r/collaborators", params={"affiliation": "direct"})
    assert sorted(c["login"] for c in listed) == ["direct", "reader"]


async def test_reviews_can_be_requested_from_whoever_has_access_through_a_team(gh: Client) -> None:
    fake = gh.fake
    fake.add_pull("o/r", user="alice")
    fake.add_team("o", "core", members=["Teamed"]).repos["o/r"] = "push"
    status, body, _ = await gh.request("POST", "/repos/o/r/pulls/1/requested_reviewers",
                                       json={"reviewers": ["teamed"]})
    assert status == 201 and [r["login"] for r in body["requested_reviewers"]] == ["Teamed"]
    fake.add_user("outsider")
    status, _, _ = await gh.request("POST", "/repos/o/r/pulls/1/requested_reviewers",
                                    json={"reviewers": ["outsider"]})
    assert status == 422


async def test_a_tree_is_recursive_for_any_value_of_recursive(gh: Client) -> None:
    # GitHub: any value turns it on, "0" and "false" included; only leaving it out does not.
    gh.fake.add_repo("o/r", files={"docs/OWNERS": "x", "README.md": "y"})
    for value in ("1", "0", "false"):
        _, tree, _ = await gh.request("GET", "/repos/o/r/git/trees/main", params={"recursive": value})
        assert "docs/OWNERS" in [e["path"] for e in tree["tree"]], value
    _, tree, _ = await gh.request("GET", "/repos/o/r/git/trees/main")
    assert [e["path"] for e in tree["tree"]] == ["README.md", "docs"]


async def test_a_recursive_tree_past_the_limit_is_truncated(gh: Client) -> None:
    # GitHub: past 100,000 entries (or 7 MB) a recursive tree is cut and says `truncated`.
    gh.fake.add_repo("o/r", files={"a/1": "x", "a/2": "y", "b": "z"})
    _, tree, _ = await gh.request("GET", "/repos/o/r/git/trees/main", params={"recursive": "1"})
    assert (len(tree["tree"]), tree["truncated"]) == (4, False)
    gh.fake.tree_limit = 2
    _, tree, _ = await gh.request("GET", "/repos/o/r/git/trees/main", params={"recursive": "1"})
    assert ([e["path"] for e in tree["tree"]], tree["truncated"]) == (["a", "a/1"], True)
    _, tree, _ = await gh.request("GET", "/repos/o/r/git/trees/main")
    assert (len(tree["tree"]), tree["truncated"]) == (2, False)


async def test_a_tree_is_listed_by_its_own_sha_one_level_or_recursively(gh: Client) -> None:
    # GitHub: a tree's entries carry the SHA that lists that subtree; paths are relative to
    # the tree listed; SHAs are git's (the same as `git ls-tree -r -t` prints for these files).
    gh.fake.add_repo("o/r", files={"a/1": "x", "a/b/2": "y", "a.b": "z", "README.md": "w"})
    _, root, _ = await gh.request("GET", "/repos/o/r/git/trees/main")
    assert root["sha"] == "d907d510432683a9544ab7244ca5cf7b77c53275"
    assert [(e["path"], e["type"], e["sha"]) for e in root["tree"]] == [
        ("README.md", "blob", "6bf0c97a7f84620a0bb4cf6380ec307748e043bd"),
        ("a.b", "blob", "fa7af8bf5fdd704f73beb3adc5612682a98e1af5"),
        ("a", "tree", "a36b306426737d07cb43941edc89b9be67a2c7fe")]  # git's order: "a" as "a/"
    status, sub, _ = await gh.request("GET", "/repos/o/r/git/trees/a36b306426737d07cb43941edc89b9be67a2c7fe")
    assert (status, sub["sha"], sub["truncated"]) == (200, "a36b306426737d07cb43941edc89b9be67a2c7fe", False)
    assert [(e["path"], e["type"]) for e in sub["tree"]] == [("1", "blob"), ("b", "tree")]
    assert sub["tree"][1]["url"].endswith("/git/trees/4029278fe29c7fc091d68d31b6298a61746bbd5a")
    _, sub, _ = await gh.request("GET", "/repos/o/r/git/trees/a36b306426737d07cb43941edc89b9be67a2c7fe",
                                 params={"recursive": "1"})
    assert [e["path"] for e in sub["tree"]] == ["1", "b", "b/2"]
    gh.fake.tree_limit = 2
    _, sub, _ = await gh.request("GET", "/repos/o/r/git/trees/a36b306426737d07cb43941edc89b9be67a2c7fe",
                                 params={"recursive": "1"})
    assert ([e["path"] for e in sub["tree"]], sub["truncated"]) == (["1", "b"], True)
    assert (await gh.request("GET", "/repos/o/r/git/trees/" + "0" * 40))[0] == 404
    assert not gh.fake.violations


async def test_a_directory_alike_at_two_commits_has_one_tree_sha(gh: Client) -> None:
    fake = gh.fake
    fake.put_file("o/r", "patches/1.patch", "p", ref="a" * 40)
    fake.put_file("o/r", "README.md", "one", ref="a" * 40)
    fake.put_file("o/r", "patches/1.patch", "p", ref="b" * 40)
    fake.put_file("o/r", "README.md", "two", ref="b" * 40)
    trees = {}
    for commit in ("a" * 40, "b" * 40):
        _, root, _ = await gh.request("GET", f"/repos/o/r/git/trees/{commit}")
        trees[commit] = (root["sha"], next(e["sha"] for e in root["tree"] if e["path"] == "patches"))
    assert trees["a" * 40][0] != trees["b" * 40][0] and trees["a" * 40][1] == trees["b" * 40][1]


async def test_a_branch_with_a_slash_is_read_with_its_slash_escaped(gh: Client) -> None:
    gh.fake.put_file("o/r", "README.md", "x", ref="linux-next/go")
    status, branch, _ = await gh.request("GET", "/repos/o/r/branches/linux-next%2Fgo")
    assert (status, branch["name"], branch["commit"]["sha"]) == (
        200, "linux-next/go", gh.fake.repo("o/r").branches["linux-next/go"])


async def test_check_runs_for_a_ref_filter_by_app(gh: Client) -> None:
    fake = gh.fake
    sha = "c" * 40
    fake.add_check_run("o/r", "cla", sha, app_id=1)
    ours = fake.add_check_run("o/r", "cla", sha, app_id=fake.app_id)
    fake.add_check_run("o/r", "cla", sha, app_id=1)  # another app's run, newer
    _, listed, _ = await gh.request("GET", f"/repos/o/r/commits/{sha}/check-runs",
                                    params={"check_name": "cla", "app_id": str(fake.app_id)})
    assert [r["id"] for r in listed["check_runs"]] == [ours.id]


async def test_the_commit_list_is_the_default_branchs_unless_sha_says_otherwise(gh: Client) -> None:
    # A pull request's commits are on its head branch until it is merged.
    fake = gh.fake
    merged = fake.add_pull("o/r", user="alice", head_ref="done", merged=True, commits=["landed"])
    open_pr = fake.add_pull("o/r", user="alice", head_ref="wip", commits=["in review"])
    _, listed, _ = await gh.request("GET", "/repos/o/r/commits")
    assert [c["commit"]["message"] for c in listed] == ["landed"]
    _, listed, _ = await gh.request("GET", "/repos/o/r/commits", params={"sha": "main"})
    assert [c["commit"]["message"] for c in listed] == ["landed"]
    for ref in ("wip", open_pr.pull.head_sha):
        _, listed, _ = await gh.request("GET", "/repos/o/r/commits", params={"sha": ref})
        assert [c["commit"]["message"] for c in listed] == ["in review", "landed"], ref
    assert merged.pull.merged


async def test_commit_search_finds_commits_on_default_branches_only(gh: Client) -> None:
    """GitHub's commit search looks at default branches only: a pull request's commits are
    found once it is merged, never while it is open or after it is closed unmerged."""
    fake = gh.fake
    fake.add_user("bob", emails=["bob@corp.example"])
    fake.add_pull("o/r", user="bob", head_ref="done", merged=True, commits=[
        {"message": "landed", "author": "bob"}])
    fake.add_pull("o/r", user="bob", head_ref="wip", commits=[{"message": "in review", "author": "bob"}])
    fake.add_pull("o/r", user="bob", head_ref="dropped", state="closed", commits=[
        {"message": "abandoned", "author": "bob"}])
    fake.add_pull("o/r", user="bob", head_ref="shared", commits=[
        {"message": "only in review", "author": "only-open@corp.example"}])
    for q in ("author-email:bob@corp.example", "author-email:BOB@corp.example repo:o/r",
              "committer-email:bob@corp.example org:o"):
        _, found, _ = await gh.request("GET", "/search/commits", params={"q": q})
        assert found["total_count"] == 1, q
        assert [i["commit"]["message"] for i in found["items"]] == ["landed"], q
        assert found["items"][0]["author"]["login"] == "bob"
    _, found, _ = await gh.request("GET", "/search/commits",
                                   params={"q": "author-email:only-open@corp.example"})
    assert (found["total_count"], found["items"]) == (0, [])


async def test_a_check_run_lists_the_open_pull_requests_of_its_head_as_github_does(gh: Client) -> None:
    """Those whose head commit it is and whose head branch lives in the check's repository:
    a pull request from a fork is not listed on the base repository's check."""
    fake = gh.fake
    same = fake.add_pull("o/r", user="alice", head_ref="fix")
    fork = fake.add_pull("o/r", user="mallory", head_ref="evil", head_repo="mallory/r")
    closed = fake.add_pull("o/r", user="alice", head_ref="old", state="closed")
    runs = [fake.add_check_run("o/r", "cla", pr.pull.head_sha) for pr in (same, fork, closed)]
    listed = []
    for run in runs:
        _, body, _ = await gh.request("GET", f"/repos/o/r/check-runs/{run.id}")
        listed.append([(p["number"], p["head"]["sha"], p["base"]["ref"]) for p in body["pull_requests"]])
    assert listed == [[(same.number, same.pull.head_sha, "main")], [], []]

"""Bounded metric labels and content-creation detection."""
import json

import pytest

from bot.github.endpoints import endpoint_label, is_content_creating, is_graphql_mutation, resource_of

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("url, label", [
    ("https://api.github.com/repos/py/cpython/issues/12/labels/bug?x=1",
     "/repos/{owner}/{repo}/issues/{n}/labels/{name}"),
    ("/repos/o/r/pulls/3/files?page=2", "/repos/{owner}/{repo}/pulls/{n}/files"),
    (f"/repos/o/r/commits/{SHA}/check-runs", "/repos/{owner}/{repo}/commits/{sha}/check-runs"),
    ("/repos/o/r/commits/main/status", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("/repos/o/r/collaborators/alice/permission", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("/repos/o/r/contents/.github/bot.yml", "/repos/{owner}/{repo}/contents/{path}"),
    ("/repos/o/r/git/refs/heads/feature/x", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("/repos/o/r/actions/workflows/ci.yml/dispatches", "/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"),
    ("/app/installations/77/access_tokens", "/app/installations/{n}/access_tokens"),
    ("/users/bob", "/users/{username}"),
    ("/graphql", "/graphql"),
    ("http://127.0.0.1:9999/api/v3/repos/o/r", "/repos/{owner}/{repo}"),
])
def test_endpoint_label(url, label):
    assert endpoint_label(url, "http://127.0.0.1:9999/api/v3") == label


def test_labels_do_not_grow_with_issue_numbers():
    labels = {endpoint_label(f"/repos/o/r/issues/{n}/comments") for n in range(1000)}
    assert labels == {"/repos/{owner}/{repo}/issues/{n}/comments"}


@pytest.mark.parametrize("query, mutation", [
    ("query { viewer { login } }", False),
    ("{ viewer { login } }", False),
    ("mutation($id: ID!) { addProjectV2ItemById(input: {}) { item { id } } }", True),
    ("# add the card\n  mutation Add { x }", True),
    ("query mutationsList { x }", False),
])
def test_graphql_mutation_detection(query, mutation):
    assert is_graphql_mutation(query) is mutation


def test_content_creating():
    gql = "http://h/graphql"
    body = json.dumps({"query": "mutation { x }"}).encode()
    assert is_content_creating("POST", "http://h/repos/o/r/issues", b"{}", gql)
    assert is_content_creating("DELETE", "http://h/repos/o/r/issues/1/labels/x", b"", gql)
    assert not is_content_creating("GET", "http://h/repos/o/r/issues", b"", gql)
    assert is_content_creating("POST", gql, body, gql)
    assert not is_content_creating("POST", gql, json.dumps({"query": "{ viewer { id } }"}).encode(), gql)


def test_resource_of():
    gql = "http://h/api/v3/graphql"
    assert resource_of("http://h/api/v3/graphql", gql) == "graphql"
    assert resource_of("http://h/api/v3/search/issues?q=1", gql) == "search"
    assert resource_of("http://h/api/v3/repos/o/r/issues", gql) == "core"
    assert resource_of("https://api.github.com/search/code", "https://api.github.com/graphql") == "search"

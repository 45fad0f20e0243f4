"""GraphQL through the same transport: our endpoint, the installation token, pacing, errors."""
from __future__ import annotations

import pytest

from bot.github import GitHub, PermanentGitHubError
from tests.fakegithub.server import FakeGitHub

from .conftest import REPO, counter

CATEGORIES = """
query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { id discussionCategories(first: 50) { nodes { id name } } }
}
"""
CREATE = """
mutation($repositoryId: ID!, $categoryId: ID!, $title: String!, $body: String!) {
  createDiscussion(input: {repositoryId: $repositoryId, categoryId: $categoryId, title: $title, body: $body}) {
    discussion { number title }
  }
}
"""


async def test_query_goes_to_our_endpoint_with_the_installation_token(fake: FakeGitHub, github: GitHub,
                                                                      metrics):
    fake.add_discussion_category(REPO, "Ideas")
    api = await github.installation(1)
    data = await api.graphql(CATEGORIES, owner="octo", name="widgets")
    assert [n["name"] for n in data["repository"]["discussionCategories"]["nodes"]] == ["Ideas"]
    calls = fake.graphql_calls()
    assert len(calls) == 1 and calls[0].path == "/graphql"
    assert calls[0].headers["user-agent"] == "contributor-flow"
    assert fake.tokens_minted == 1  # the fake accepts /graphql only with an installation token
    assert counter(metrics, "/graphql", 200) == 1


async def test_mutations_are_paced_like_rest_writes(fake: FakeGitHub, make_github):
    github = make_github(mutation_interval=0.25)
    fake.add_discussion_category(REPO, "Ideas")
    api = await github.installation(1)
    data = await api.graphql(CATEGORIES, owner="octo", name="widgets")
    repo_id = data["repository"]["id"]
    category_id = data["repository"]["discussionCategories"]["nodes"][0]["id"]
    for n in range(3):
        created = await api.graphql(CREATE, repositoryId=repo_id, categoryId=category_id,
                                    title=f"Agenda {n}", body="...")
        assert created["createDiscussion"]["discussion"]["title"] == f"Agenda {n}"
    times = [c.time for c in fake.graphql_calls("createDiscussion")]
    assert len(times) == 3
    assert all(b - a >= 0.24 for a, b in zip(times, times[1:]))


async def test_graphql_errors_are_permanent_with_details(fake: FakeGitHub, github: GitHub):
    api = await github.installation(1)
    with pytest.raises(PermanentGitHubError) as caught:
        await api.graphql(CATEGORIES, owner="octo", name="missing")
    assert caught.value.errors and caught.value.errors[0]["type"] == "NOT_FOUND"
    assert caught.value.endpoint == "/graphql"


async def test_graphql_retried_through_faults(fake: FakeGitHub, github: GitHub):
    fake.add_discussion_category(REPO, "Ideas")
    api = await github.installation(1)
    fake.faults.configure(share=0.3, retry_after=1, seed=2, only_methods=("POST",))
    for _ in range(3):
        data = await api.graphql(CATEGORIES, owner="octo", name="widgets")
        assert data["repository"]["id"]
    assert fake.faults.injected
    assert fake.violations == []

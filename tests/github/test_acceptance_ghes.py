"""Acceptance (issue 2): GITHUB_API_URL points the bot at GitHub Enterprise Server too. There
REST lives at https://HOST/api/v3 and GraphQL at https://HOST/api/graphql (not .../api/v3/graphql);
on github.com and a local fake, GraphQL is $GITHUB_API_URL/graphql."""
import pytest

from bot.github.transport import Policy


@pytest.mark.parametrize("api_url, graphql", [
    ("https://api.github.com", "https://api.github.com/graphql"),
    ("http://127.0.0.1:8123/", "http://127.0.0.1:8123/graphql"),
    ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
    ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
])
def test_graphql_endpoint(api_url, graphql):
    assert Policy(api_url=api_url).graphql_url == graphql

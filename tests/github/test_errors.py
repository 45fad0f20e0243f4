"""Error translation and redaction: callers see our hierarchy, never a credential."""
import http

import gidgethub
import pytest
from gidgethub.sansio import RateLimit

from bot.github.errors import (GitHubError, PermanentGitHubError, RateLimited,
                               TransientGitHubError, redact, translate)


@pytest.mark.parametrize("text", [
    "Authorization: token ghs_0123456789abcdefghij",
    "{'authorization': 'bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln'}",
    "failed with token ghs_0123456789abcdefghij",
    "jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2ln",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
])
def test_redact_removes_credentials(text):
    cleaned = redact(text)
    assert "ghs_0123" not in cleaned and "eyJ" not in cleaned and "MIIE" not in cleaned
    assert "[redacted]" in cleaned


def test_error_message_is_redacted_even_when_github_echoes_it():
    err = PermanentGitHubError("bad header Authorization: token ghs_secretsecretsecret", status=400)
    assert "ghs_secret" not in str(err) and "ghs_secret" not in err.message


def test_translate_maps_gidgethub_exceptions():
    not_found = translate(gidgethub.BadRequest(http.HTTPStatus.NOT_FOUND, "Not Found"), "/repos/{owner}/{repo}")
    assert isinstance(not_found, PermanentGitHubError)
    assert (not_found.status, not_found.endpoint) == (404, "/repos/{owner}/{repo}")
    assert "Not Found" in str(not_found)

    invalid = translate(gidgethub.InvalidField([{"field": "name", "code": "missing"}],
                                               "Validation Failed for 'name'"), "/x")
    assert isinstance(invalid, PermanentGitHubError) and invalid.status == 422
    assert invalid.errors == [{"field": "name", "code": "missing"}]
    assert isinstance(translate(gidgethub.ValidationError("oops", "Validation Failed"), "/x"), PermanentGitHubError)

    broken = translate(gidgethub.GitHubBroken(http.HTTPStatus.BAD_GATEWAY), "/x")
    assert isinstance(broken, TransientGitHubError) and broken.status == 502
    assert isinstance(translate(gidgethub.BadRequest(http.HTTPStatus.TOO_MANY_REQUESTS), "/x"),
                      TransientGitHubError)

    limited = translate(gidgethub.RateLimitExceeded(RateLimit(limit=5000, remaining=0, reset_epoch=1234.0)), "/x")
    assert isinstance(limited, RateLimited) and limited.retry_at == 1234.0


def test_translate_graphql_errors():
    response = {"errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node"}]}
    err = translate(gidgethub.QueryError(response), "/graphql")
    assert isinstance(err, PermanentGitHubError) and err.errors == response["errors"]
    limited = translate(gidgethub.QueryError({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit"}]}),
                        "/graphql", rate_limit_reset=99.0)
    assert isinstance(limited, RateLimited) and limited.retry_at == 99.0
    assert isinstance(translate(gidgethub.GraphQLAuthorizationFailure({"message": "Bad credentials"}), "/graphql"),
                      PermanentGitHubError)


def test_hierarchy():
    assert issubclass(RateLimited, TransientGitHubError)
    assert issubclass(TransientGitHubError, GitHubError) and issubclass(PermanentGitHubError, GitHubError)

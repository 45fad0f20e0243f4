"""The bot's own GitHub errors, and the one place gidgethub's exceptions are translated.

Callers only need to know whether to retry the delivery later (transient), give up on the
action (permanent), or reschedule at a known instant (rate limited).
"""
from __future__ import annotations

import re
from typing import Any

import gidgethub

from ..core.retry import PermanentFailure

__all__ = [
    "GitHubError", "TransientGitHubError", "PermanentGitHubError", "RateLimited",
    "InstallationGone", "redact", "translate",
]

# Anything that could carry a credential. Patterns with a group keep that prefix for context.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}\n]+"),
    re.compile(r"(?i)\b(token|bearer)\s+[A-Za-z0-9_\-.=]{8,}"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
)


def _replace(match: re.Match[str]) -> str:
    prefix = match.group(1) if match.re.groups else ""
    return f"{prefix.rstrip()} [redacted]" if prefix else "[redacted]"


def redact(text: str) -> str:
    """Remove tokens, JWTs and keys from text that may end up in logs or stored errors."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_replace, text)
    return text


class GitHubError(Exception):
    """Base of every error this package raises; the message is always redacted."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str | None = None,
                 errors: Any = None) -> None:
        self.status = status
        self.endpoint = endpoint
        self.errors = errors  # GitHub's structured details (422 field errors, GraphQL errors)
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        code = f"{self.status}: " if self.status is not None else ""
        return f"{code}{self.message}{where}"


class TransientGitHubError(GitHubError):
    """Worth trying again later: 5xx, 429, secondary limits, network errors, timeouts."""


class RateLimited(TransientGitHubError):
    """The wait exceeds what one call may block for; reschedule at `retry_at` (epoch seconds)."""

    def __init__(self, message: str, *, retry_at: float, status: int | None = None,
                 endpoint: str | None = None) -> None:
        self.retry_at = retry_at
        super().__init__(message, status=status, endpoint=endpoint)


class PermanentGitHubError(GitHubError):
    """Retrying will not help (404, 422, 401, other 4xx): drop or report the action."""


class InstallationUnavailable(GitHubError):
    """Minting the installation's token was refused for the installation's own sake (gone,
    suspended): nothing of it can be read now, which says nothing about any one item."""


class InstallationSuspended(TransientGitHubError, InstallationUnavailable):
    """GitHub answered 403 "This installation has been suspended" to minting the token: an
    owner suspended the App there. Until it is unsuspended (hours, or never) nothing can be
    done: a delivery is retried as for an outage; a job leaves the installation out (see
    ``Runtime.repo_handles``)."""

    def __init__(self, installation_id: int, *, endpoint: str | None = None) -> None:
        self.installation_id = installation_id
        super().__init__(f"installation {installation_id} is suspended: GitHub refuses to mint "
                         "its token until an owner unsuspends the App", status=None, endpoint=endpoint)


class InstallationGone(InstallationUnavailable, PermanentFailure):
    """GitHub answered 404 to minting the installation's token: the App was uninstalled (or
    the installation never existed). Nothing this installation's deliveries ask can be done.

    Not a PermanentGitHubError: code catching those means "this item cannot be had" (a user
    unknown, a file missing) and goes on without it; an uninstall must reach the worker, which
    ends the delivery, or the job, which forgets the installation."""

    # A brand-new installation can be answered 404 for a moment (GitHub's replicas): a
    # delivery younger than this is retried as usual (see worker).
    settle_after = 120.0

    def __init__(self, installation_id: int, *, endpoint: str | None = None) -> None:
        self.installation_id = installation_id
        # No status: the 404 was the token's, not the request's. Code that reads a 404 as
        # "that item does not exist" (no config file, not a collaborator, issue deleted) must
        # not take an uninstall for one.
        super().__init__(f"installation {installation_id} is gone: GitHub answered 404 to minting "
                         "its token (the App was uninstalled?)", status=None, endpoint=endpoint)


def translate(exc: Exception, endpoint: str | None, *, rate_limit_reset: float | None = None
              ) -> GitHubError:
    """Map a gidgethub exception (raised after our transport's retries) to our hierarchy."""
    if isinstance(exc, GitHubError):
        return exc
    if isinstance(exc, gidgethub.RateLimitExceeded):
        reset = exc.rate_limit.reset_datetime.timestamp() if exc.rate_limit else 0.0
        return RateLimited(str(exc) or "rate limit exceeded", retry_at=reset, status=403,
                           endpoint=endpoint)
    if isinstance(exc, (gidgethub.InvalidField, gidgethub.ValidationError)):
        return PermanentGitHubError(str(exc), status=422, endpoint=endpoint, errors=exc.errors)
    if isinstance(exc, gidgethub.GitHubBroken):
        return TransientGitHubError(str(exc), status=int(exc.status_code), endpoint=endpoint)
    if isinstance(exc, gidgethub.HTTPException):  # BadRequest and redirections
        status = int(exc.status_code)
        kind = TransientGitHubError if status == 429 else PermanentGitHubError
        return kind(str(exc), status=status, endpoint=endpoint)
    if isinstance(exc, gidgethub.BadGraphQLRequest):
        return PermanentGitHubError(str(exc), status=int(exc.status_code), endpoint=endpoint,
                                    errors=exc.response.get("errors") if isinstance(exc.response, dict) else None)
    if isinstance(exc, gidgethub.QueryError):
        errors = exc.response.get("errors") if isinstance(exc.response, dict) else None
        if any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors or ()):
            return RateLimited(str(exc), retry_at=rate_limit_reset or 0.0, status=200, endpoint=endpoint)
        return PermanentGitHubError(str(exc), status=200, endpoint=endpoint, errors=errors)
    if isinstance(exc, gidgethub.GraphQLException):
        # No data or an unexpected content type: most likely a proxy or outage page.
        return TransientGitHubError(str(exc), endpoint=endpoint)
    return TransientGitHubError(f"{type(exc).__name__}: {exc}", endpoint=endpoint)

"""What a request is, for metrics and pacing: a bounded endpoint label and whether it creates content.

Metric labels must not carry issue numbers, SHAs, user names or file paths, or every new issue
would create a new time series.
"""
from __future__ import annotations

import json
import re
import urllib.parse

__all__ = ["endpoint_label", "is_content_creating", "is_graphql_mutation", "resource_of"]

_SHA = re.compile(r"^[0-9a-f]{40}$")
# Segment after which one path segment is a name rather than part of the route.
_NAME_AFTER = {
    "repos": "{owner}", "orgs": "{org}", "users": "{username}", "collaborators": "{username}",
    "members": "{username}", "memberships": "{username}", "teams": "{team}", "labels": "{name}",
    "branches": "{branch}", "workflows": "{workflow}", "compare": "{basehead}",
    "commits": "{ref}", "statuses": "{ref}", "topics": "{name}", "environments": "{name}",
}
# Segment after which everything up to the end of the path is one value (paths, refs).
_REST_AFTER = {"contents": "{path}", "ref": "{ref}", "refs": "{ref}", "tarball": "{ref}",
               "zipball": "{ref}"}
_MUTATING_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def endpoint_label(url: str, base_url: str = "") -> str:
    """`https://api.github.com/repos/o/r/issues/12/labels/bug?x=1` -> `/repos/{owner}/{repo}/issues/{n}/labels/{name}`."""
    path = urllib.parse.urlsplit(url).path
    base_path = urllib.parse.urlsplit(base_url).path.rstrip("/")
    if base_path and path.startswith(base_path + "/"):
        path = path[len(base_path):]
    segments = [s for s in path.split("/") if s]
    out: list[str] = []
    i = 0
    while i < len(segments):
        segment = segments[i]
        previous = segments[i - 1] if i else ""
        if previous in _REST_AFTER:
            out.append(_REST_AFTER[previous])
            break
        if previous == "repos":
            out.append("{owner}")
            if i + 1 < len(segments):
                out.append("{repo}")
                i += 1
        elif segment.isdigit():
            out.append("{n}")
        elif _SHA.match(segment):
            out.append("{sha}")
        elif previous in _NAME_AFTER and out and out[-1] == previous:
            out.append(_NAME_AFTER[previous])
        else:
            out.append(segment)
        i += 1
    return "/" + "/".join(out)


def is_graphql_mutation(query: str) -> bool:
    """True when the GraphQL document's operation is a mutation (comments and whitespace skipped)."""
    for line in query.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            return re.match(r"mutation\b", stripped) is not None
    return False


def is_content_creating(method: str, url: str, body: bytes, graphql_url: str) -> bool:
    """Whether GitHub counts this request against the content-creation limits."""
    if method.upper() not in _MUTATING_METHODS:
        return False
    if url.split("?", 1)[0].rstrip("/") != graphql_url.rstrip("/"):
        return True
    try:
        query = json.loads(body or b"{}").get("query", "")
    except (ValueError, AttributeError):
        return True  # unknown GraphQL payload: pacing it is the safe side
    return is_graphql_mutation(query) if isinstance(query, str) else True


def resource_of(url: str, graphql_url: str) -> str:
    """The primary rate-limit budget a request draws on (GitHub's x-ratelimit-resource)."""
    if url.split("?", 1)[0].rstrip("/") == graphql_url.rstrip("/"):
        return "graphql"
    path = urllib.parse.urlsplit(url).path
    base_path = urllib.parse.urlsplit(graphql_url).path.rsplit("/graphql", 1)[0]
    if path.removeprefix(base_path).startswith("/search/"):
        return "search"
    return "core"

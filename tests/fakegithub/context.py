"""What a route handler gets (Ctx) and gives back (Reply), plus GitHub-style errors and paging."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence
from urllib.parse import urlencode

from .serialize import Serializer
from .state import Installation, Issue, Repo, State

if TYPE_CHECKING:
    from .server import FakeGitHub


class GitHubError(Exception):
    """Raise from a handler to answer like GitHub does (`{"message", "documentation_url"}`)."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message,
                               "documentation_url": "https://docs.github.com/rest",
                               "status": str(self.status)}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    text: str | None = None
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    fake: "FakeGitHub"
    method: str
    path: str
    template: str
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]
    installation: Installation | None
    raw_query: dict[str, str] = field(default_factory=dict)  # as sent, for Link headers

    @property
    def state(self) -> State:
        return self.fake.state

    @property
    def ser(self) -> Serializer:
        return self.fake.serializer

    def repo(self) -> Repo:
        repo = self.state.repo(f"{self.params['owner']}/{self.params['repo']}")
        if repo is None or not self.fake.installation_covers(self.installation, repo.full_name):
            raise not_found()
        return repo

    def issue(self, number: int | None = None) -> Issue:
        repo = self.repo()
        key = number if number is not None else self.params.get("issue_number", self.params.get("pull_number"))
        issue = repo.issues.get(int(key))
        if issue is None:
            raise not_found()
        return issue

    def pull(self) -> Issue:
        issue = self.issue(self.params["pull_number"])
        if issue.pull is None:
            raise not_found()
        return issue

    def accepts(self, media: str) -> bool:
        """media like "application/vnd.github.patch"; the ".v3" spelling counts too."""
        accept = self.headers.get("accept", "").replace("vnd.github.v3.", "vnd.github.")
        return media in accept


def page_args(ctx: Ctx, default: int = 30) -> tuple[int, int]:
    per_page = min(int(ctx.query.get("per_page", default)), 100)
    page = max(int(ctx.query.get("page", 1)), 1)
    return per_page, page


def link_header(ctx: Ctx, page: int, last: int, extra: dict[str, Any] | None = None) -> str:
    links = []
    base_query = {k: v for k, v in ctx.raw_query.items() if k != "page"}

    def url(n: int) -> str:
        q = {**base_query, **(extra or {}), "page": n}
        return f"{ctx.fake.url}{ctx.path}?{urlencode(q)}"

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    return ", ".join(links)


def paginate(ctx: Ctx, items: Sequence[Any], cap: int | None = None, *, wrap: str | None = None,
             total: int | None = None) -> Reply:
    """A page of `items` with GitHub's `Link` header; `cap` mimics GitHub's listing limits.

    `wrap` puts the page under a key with `total_count` (search, check runs, workflow runs).
    """
    if cap is not None:
        items = items[:cap]
    per_page, page = page_args(ctx)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page: page * per_page])
    headers = {}
    link = link_header(ctx, page, last)
    if link:
        headers["Link"] = link
    body: Any = chunk if wrap is None else {
        "total_count": total if total is not None else len(items), wrap: chunk}
    return Reply(json=body, headers=headers)

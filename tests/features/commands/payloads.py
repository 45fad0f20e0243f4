"""Real GitHub example payloads, reshaped for command tests (who wrote what, where)."""
from __future__ import annotations

from typing import Any, Iterable

from tests.fixtures.webhooks import load_example

REPO = "Codertocat/Hello-World"  # the examples' repository
AUTHOR = "Codertocat"            # author of the examples' issue #1 and PR #2

_WHERE = {  # event -> (action, key of the text's object or None for the item itself)
    "issue_comment": "comment",
    "pull_request_review_comment": "comment",
    "pull_request_review": "review",
    "issues": None,
    "pull_request": None,
}


def user(login: str, type_: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": type_}


def example(event: str, action: str, body: str, *, by: str = "alice", by_type: str = "User",
            previous: str | None = None, labels: Iterable[str] | None = None,
            author: str = AUTHOR, state: str = "open", on_pr: bool | None = None) -> dict[str, Any]:
    """``event.action`` with ``body`` written by ``by`` on an item by ``author``.
    ``on_pr`` makes an issue_comment land on a pull request (or not)."""
    p = load_example(event, action)
    item = p.get("pull_request") or p.get("issue")
    item["user"] = user(author)
    item["state"] = state
    if labels is not None:
        item["labels"] = [{"name": name} for name in labels]
    if event == "issue_comment" and on_pr is not None:
        if on_pr:
            item["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/{item['number']}"}
        else:
            item.pop("pull_request", None)
    key = _WHERE[event]
    target = p[key] if key else item
    target["body"] = body
    target["user"] = user(by, by_type)
    p["sender"] = user(by, by_type)
    if action == "edited":
        p["changes"] = {"body": {"from": previous or ""}}
    return p

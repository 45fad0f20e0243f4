"""Builders for CLA feature tests: PR payloads, API commits, a reader answering like GitHub."""
from __future__ import annotations

from typing import Any, Iterable

import pytest

from bot.core.actions import Record
from bot.features.cla import FEATURE
from tests.fixtures.webhooks import load_example
from tests.helpers import RecordingReader, make_context as _make_context

REPO = "Codertocat/Hello-World"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
COMMITS_URL = "/repos/{owner}/{repo}/pulls/{number}/commits?per_page=100"
COMPARE_URL = "/repos/{owner}/{repo}/compare/{basehead}?per_page=100"
PULL_URL = "/repos/{owner}/{repo}/pulls/{number}"
SEARCH_COMMITS = "/search/commits{?q,per_page}"
SEARCH_ISSUES = "/search/issues{?q,per_page}"
USER_BY_ID = "/user/{account_id}"
LABELS_URL = "/repos/{owner}/{repo}/issues/{issue_number}/labels"

USERS = {
    "alice": {"login": "alice", "id": 101, "type": "User"},
    "bob": {"login": "bob", "id": 102, "type": "User"},
    "carol": {"login": "carol", "id": 103, "type": "User"},
    "dependabot[bot]": {"login": "dependabot[bot]", "id": 49699333, "type": "Bot"},
    # GitHub's "Commit suggestion" and Autofix co-author: a Bot account, though no "[bot]" suffix
    "Copilot": {"login": "Copilot", "id": 175728472, "type": "Bot"},
}


def user_by_id(url_vars: dict[str, Any]) -> dict[str, Any]:
    for user in USERS.values():
        if user["id"] == int(url_vars["account_id"]):
            return dict(user)
    from bot.github import PermanentGitHubError

    raise PermanentGitHubError("404 Not Found", status=404)


def api_commit(sha: str, *, author: str | None = "alice", email: str | None = None,
               name: str | None = None, message: str = "Change", parents: int = 1) -> dict[str, Any]:
    email = email or f"{author}@example.com"
    name = name or (author or "Someone").title()
    user = USERS.get(author) if author else None
    return {"sha": sha, "commit": {"message": message,
                                   "author": {"name": name, "email": email, "date": "2026-11-26T10:00:00Z"},
                                   "committer": {"name": name, "email": email, "date": "2026-11-26T10:00:00Z"}},
            "author": user, "committer": user, "parents": [{"sha": "p" * 40}] * parents}


def pr_payload(action: str = "opened", *, number: int = 2, commits: int = 1, author: str = "alice",
               labels: Iterable[str] = (), head: str = HEAD) -> dict[str, Any]:
    p = load_example("pull_request", action)
    pr = p["pull_request"]
    pr.update(number=number, commits=commits, state="open",
              labels=[{"name": n} for n in labels], user=dict(USERS[author]))
    pr["head"]["sha"] = head
    pr["base"]["sha"] = BASE
    pr["base"]["ref"] = "main"
    p["number"] = number
    return p


def reader_for(prs: dict[int, dict[str, Any]], commits: dict[int, list[dict[str, Any]]], *,
               head_last: bool = True, **items: Any) -> RecordingReader:
    """A reader serving PRs and their commits the way GitHub does (250 cap on the PR listing).

    ``head_last``: the last commit listed is the PR's head, as on GitHub, when the test lists
    no commit of that sha itself (its other fields as given); False: listed as given (a listing
    that has not caught up with a push)."""
    by_head = {pr["head"]["sha"]: n for n, pr in prs.items()}

    def listing(v):
        number = int(v["number"])
        listed, head = list(commits[number]), prs[number]["head"]["sha"]
        if head_last and listed and head not in {c["sha"] for c in listed}:
            listed[-1] = {**listed[-1], "sha": head}
        return listed[:250]

    def compare(v):
        head = v["basehead"].split("...")[1]
        return commits[by_head[head]]

    base_items = {PULL_URL: lambda v: prs[int(v["number"])],
                  SEARCH_COMMITS: {"items": []}, SEARCH_ISSUES: {"items": []}, USER_BY_ID: user_by_id}
    base_items.update(items)
    reader = RecordingReader(items=base_items)
    def labels(v):  # as the pull request (``prs``) shows them now
        return list(prs[int(v["issue_number"])].get("labels") or [])

    reader.lists.update({COMMITS_URL: listing, COMPARE_URL: compare,  # callables: per-PR answers
                         f"{LABELS_URL}?per_page=100": labels})
    return reader


async def apply_records(db, actions) -> None:
    """What the executor does with Record actions."""
    for action in actions:
        if isinstance(action, Record):
            await FEATURE.writers[action.op](db, **action.args)


def cla_rules(overrides: dict[str, Any] | None = None):
    """The bundled rules/cla.yml (+ overrides). Only the cla section is loaded, so files of
    features being written in parallel cannot break these tests."""
    import yaml

    from bot.features.cla.rules import SECTION
    from bot.rules.loader import load_bundled, merge_repo_override
    from bot.settings import BUNDLED_RULES

    rules, problems = load_bundled(BUNDLED_RULES, [SECTION])
    assert not [p for p in problems if p.file.endswith("cla.yml")], problems
    if overrides:
        rules, problems = merge_repo_override(rules, yaml.safe_dump({"cla": overrides}), "test", [SECTION])
        assert not problems, [str(p) for p in problems]
    return rules


def make_context(event_name, payload, *, db, rules=None, **kw):
    return _make_context(event_name, payload, db=db, rules=rules or cla_rules(), **kw)

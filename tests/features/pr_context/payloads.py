"""Real pull_request example payloads, adjusted per test, and the rules the tests use."""
from __future__ import annotations

from typing import Any, Iterable

from tests.fixtures.webhooks import load_example

FILES_URL = "/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}"
SEARCH_URL = "/search/issues{?q,per_page}"
CONTENTS_URL = "/repos/{owner}/{repo}/contents/{+path}{?ref}"

COMPONENTS = [
    {"name": "core", "paths": ["src/core/**"], "owners": ["alice", "bob"],
     "checklist": ["Core stays pure."], "guide": "#core"},
    {"name": "parser", "paths": ["src/parser/"], "owners": ["carol"], "depends_on": ["core"],
     "checklist": ["Grammar tests updated."]},
    {"name": "cli", "paths": ["src/cli/"], "owners": ["dave"], "depends_on": ["parser"]},
    {"name": "docs", "paths": ["docs/", "*.md"], "owners": ["erin"]},
]

RULES = {
    "components": {
        "components": COMPONENTS,
        "checklist": ["Tests prove the change."],
        "guide": {"url": "https://example.test/{repo}/CONTRIBUTING.md", "decision_tree": "#tree"},
        "first_timers": {"scope": "repo", "welcome": ["Sign the CLA.", "Run the tests."]},
        "reviewers": {"max_per_pr": 2, "max_open_reviews": 5, "load_source": "search"},
        "response_time": "2d",
    },
}

EXAMPLE_ACTIONS = {"opened", "reopened", "synchronize", "ready_for_review", "closed",
                   "review_request_removed"}


def pr_payload(action: str = "opened", *, number: int = 7, author: str = "ann", author_id: int = 501,
               draft: bool = False, labels: Iterable[str] = (), body: str = "",
               requested: Iterable[str] = (), changed_files: int | None = None,
               association: str = "CONTRIBUTOR", org: bool = False, merged: bool = False) -> dict[str, Any]:
    try:
        payload = load_example("pull_request", action if action in EXAMPLE_ACTIONS else "opened")
    except KeyError:  # an action GitHub's examples lack: its payload has the same shape
        payload = load_example("pull_request", "opened")
    payload["action"] = action
    payload["number"] = number
    pr = payload["pull_request"]
    pr.update(number=number, draft=draft, body=body, state="closed" if action == "closed" else "open",
              labels=[{"name": name, "id": i, "color": "ededed"} for i, name in enumerate(labels)],
              requested_reviewers=[{"login": login, "id": 900 + i, "type": "User"}
                                   for i, login in enumerate(requested)],
              requested_teams=[], author_association=association, merged=merged)
    pr["user"] = {**pr["user"], "login": author, "id": author_id, "type": "User"}
    if action == "reopened":
        # GitHub's example reopen was recorded before its example close (15:21:18): a reopen
        # that follows a close is later than it, and is ordered by this instant.
        pr["updated_at"] = "2019-05-15T15:22:00Z"
    if changed_files is not None:
        pr["changed_files"] = changed_files
    if org:
        payload["repository"]["owner"]["type"] = "Organization"
    return payload


def files(*paths: str, status: str = "modified") -> list[dict[str, Any]]:
    return [{"filename": p, "status": status} for p in paths]


def rules_with(overrides=None):
    """The bundled rules with overrides. Rules files of features still being written in the
    shared tree (no section registered yet) are not this feature's concern: ignored."""
    import yaml

    from bot.features import all_features
    from bot.rules.loader import load_bundled, merge_repo_override
    from bot.rules.registry import sections_of
    from bot.settings import BUNDLED_RULES

    sections = sections_of(all_features())
    rules, problems = load_bundled(BUNDLED_RULES, sections)
    assert not [p for p in problems if "no feature reads a section" not in p.message], problems
    if overrides:
        rules, problems = merge_repo_override(rules, yaml.safe_dump(dict(overrides)), "test", sections)
        assert not problems, [str(p) for p in problems]
    return rules

"""Labelled history of a repository: its closed issues that carry exactly one kind
label, plus the kinds humans confirmed to the bot. Used by ``classify train --repo``."""
from __future__ import annotations

from typing import Any

from ...classify import ClassifierRules, IssueText
from ...classify.data import Example
from ...store.db import Database
from . import store


async def closed_issue_examples(api: Any, repo: str, rules: ClassifierRules, *, limit: int) -> list[Example]:
    owner, name = repo.split("/", 1)
    out: list[Example] = []
    async for item in api.getiter("/repos/{owner}/{repo}/issues{?state,per_page}",
                                  {"owner": owner, "repo": name, "state": "closed", "per_page": 100}):
        if item.get("pull_request"):
            continue
        kinds = {rules.kind_of_label(label["name"]) for label in item.get("labels") or []} - {None}
        if len(kinds) == 1:  # an issue labelled as two kinds teaches nothing clear
            out.append(Example(repo, str(item.get("created_at") or ""), kinds.pop(),
                               IssueText.of(item.get("title"), item.get("body"))))
            if len(out) >= limit:
                break
    return out


async def confirmed_examples(db: Database, repo: str) -> list[Example]:
    return [Example(repo, "", row["kind"], IssueText.of(row["title"], row["body"]))
            for row in await store.examples(db, repo)]


async def repository_history(runtime: Any, repo: str, *, limit: int) -> list[Example]:
    """Closed labelled issues through the App's installation, then confirmed kinds (these
    win for issues in both)."""
    from ...store import state

    owner, name = repo.split("/", 1)
    inst = await state.installation_for(runtime.db, repo)
    if inst is None:
        found = await runtime.github.app().getitem("/repos/{owner}/{repo}/installation", {"owner": owner, "repo": name})
        inst = int(found["id"])
    api = await runtime.api(inst)
    rules = ClassifierRules.from_section((await runtime.rules_for(repo, inst)).rules.section("classify"))
    confirmed = await confirmed_examples(runtime.db, repo)
    titles = {(ex.issue.title, ex.issue.body) for ex in confirmed}
    closed = [ex for ex in await closed_issue_examples(api, repo, rules, limit=limit)
              if (ex.issue.title, ex.issue.body) not in titles]
    return closed + confirmed

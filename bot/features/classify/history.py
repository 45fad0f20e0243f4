"""Labelled history of a repository: its issues that people gave exactly one kind label,
plus the kinds humans confirmed to the bot. The ``classify-history`` job keeps a copy
for the learnt model; ``classify train --repo`` writes it to a model file.

Issues are read per kind label (and alias), newest first, so every kind gets its share
even where most issues carry no kind at all, and open issues a triager labelled count
as much as closed ones. A kind label the bot put on itself is its own guess, not a
person's: training on it would only teach the model what it already thinks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from ...classify import ClassifierRules, IssueText
from ...classify.data import Example
from ...classify.text import SCAN_CHARS
from ...store.db import Database
from . import store

ISSUES_BY_LABEL = "/repos/{owner}/{repo}/issues{?state,labels,per_page}"


@dataclass(frozen=True)
class Labelled:
    number: int
    kind: str
    title: str
    body: str
    created_at: str = ""

    def example(self, repo: str) -> Example:
        return Example(repo, self.created_at, self.kind, IssueText.of(self.title, self.body))


BotLabelled = Callable[[int, str], Awaitable[bool]]


async def labelled_issues(api: Any, repo: str, rules: ClassifierRules, *, per_kind: int,
                          bot_labelled: BotLabelled | None = None) -> list[Labelled]:
    """Up to ``per_kind`` issues of each kind, newest first. Skipped: pull requests,
    issues with labels of two kinds (they teach nothing clear), and issues whose kind
    label the bot added (``bot_labelled(number, label)``)."""
    owner, name = repo.split("/", 1)
    found: dict[int, Labelled] = {}
    for kind in rules.kinds:
        taken = 0
        for label in kind.all_labels:
            if taken >= per_kind:
                break
            if "," in label:  # the API's labels filter splits on commas: such a label cannot be asked for
                continue
            async for item in api.getiter(ISSUES_BY_LABEL, {"owner": owner, "repo": name, "state": "all",
                                                            "labels": label, "per_page": 100}):
                number = int(item["number"])
                if item.get("pull_request") or number in found:
                    continue
                names = [entry["name"] for entry in item.get("labels") or []]
                if {rules.kind_of_label(n) for n in names} - {None} != {kind.name}:
                    continue
                if bot_labelled is not None and await _bot_set_kind(bot_labelled, number, names, rules):
                    continue
                found[number] = Labelled(number, kind.name, item.get("title") or "",
                                         (item.get("body") or "")[:SCAN_CHARS], str(item.get("created_at") or ""))
                taken += 1
                if taken >= per_kind:
                    break
    return list(found.values())


async def _bot_set_kind(bot_labelled: BotLabelled, number: int, names: list[str], rules: ClassifierRules) -> bool:
    for label in names:
        if rules.kind_of_label(label) and await bot_labelled(number, label):
            return True
    return False


def ledger(db: Database, repo: str) -> BotLabelled:
    from ...store import state

    async def bot_labelled(number: int, label: str) -> bool:
        return await state.bot_added(db, repo, number, label)
    return bot_labelled


def _labelled(rows: list[dict[str, Any]]) -> list[Labelled]:
    return [Labelled(int(row["number"]), row["kind"], row["title"], row["body"]) for row in rows]


async def confirmed_examples(db: Database, repo: str) -> list[Labelled]:
    return _labelled(await store.examples(db, repo))


async def stored_history(db: Database, repo: str) -> list[Labelled]:
    """The copy the classify-history job keeps."""
    return _labelled(await store.history(db, repo))


def merged(history: list[Labelled], confirmed: list[Labelled]) -> list[Labelled]:
    """History and confirmed kinds together; a confirmed kind wins for an issue in both."""
    mine = {ex.number for ex in confirmed}
    return [ex for ex in history if ex.number not in mine] + confirmed


async def repository_history(runtime: Any, repo: str, *, per_kind: int) -> list[Example]:
    """The labelled history through the App's installation, then confirmed kinds."""
    from ...store import state

    owner, name = repo.split("/", 1)
    inst = await state.installation_for(runtime.db, repo)
    if inst is None:
        found = await runtime.github.app().getitem("/repos/{owner}/{repo}/installation", {"owner": owner, "repo": name})
        inst = int(found["id"])
    api = await runtime.api(inst)
    rules = ClassifierRules.from_section((await runtime.rules_for(repo, inst)).rules.section("classify"))
    history = await labelled_issues(api, repo, rules, per_kind=per_kind, bot_labelled=ledger(runtime.db, repo))
    return [ex.example(repo) for ex in merged(history, await confirmed_examples(runtime.db, repo))]

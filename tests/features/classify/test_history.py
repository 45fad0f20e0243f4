"""The labelled history the bot learns from: which issues it reads, the hourly job that
keeps a copy per repository, and the model learnt from it and from confirmed kinds."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from bot.classify import ClassifierRules, IssueText
from bot.context import JobContext, RepoHandle
from bot.core.actions import Record
from bot.features import classify
from bot.features.classify import models, store
from bot.features.classify.history import ISSUES_BY_LABEL, Labelled, labelled_issues, merged
from bot.features.classify.refresh import REPOS_PER_RUN, run_history

from tests.helpers import RecordingReader, fixed_roles

from .conftest import REPO, apply, rules

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)


def issue(number: int, *labels: str, pull: bool = False, title: str = "") -> dict:
    out = {"number": number, "title": title or f"issue {number}", "body": f"body {number}",
           "labels": [{"name": n} for n in labels], "created_at": "2026-01-01T00:00:00Z"}
    if pull:
        out["pull_request"] = {"url": "x"}
    return out


class LabelReader(RecordingReader):
    """Answers the per-label listing as GitHub does: the issues carrying that label."""

    def __init__(self, issues: list[dict]) -> None:
        super().__init__()
        self.issues = issues

    async def getiter(self, url, url_vars=None, **kw):
        assert url == ISSUES_BY_LABEL and url_vars["state"] == "all"
        self.calls.append((url, dict(url_vars)))
        for i in self.issues:
            if url_vars["labels"].casefold() in {n["name"].casefold() for n in i["labels"]}:
                yield i


def reader_of(issues: list[dict]) -> LabelReader:
    return LabelReader(issues)


def classifier_rules(**overrides) -> ClassifierRules:
    return ClassifierRules.from_section(rules(**({"classify": overrides} if overrides else {})).section("classify"))


async def test_reads_each_kind_by_label_and_alias_and_keeps_only_clear_human_labels():
    issues = [issue(1, "bug"), issue(2, "bug"), issue(3, "kind/bug"), issue(4, "kind/bug"), issue(5, "type: bug"),
              issue(6, "enhancement"), issue(7, "feature", "good first issue"),
              issue(8, "bug", "question"),       # two kinds: teaches nothing clear
              issue(9, "bug", pull=True),         # a pull request
              issue(10, "bug"),                   # the bot's own label
              issue(11, "question")]
    reader = reader_of(issues)

    async def bot_labelled(number: int, label: str) -> bool:
        return (number, label) == (10, "bug")

    found = await labelled_issues(reader, REPO, classifier_rules(), per_kind=3, bot_labelled=bot_labelled)
    kinds = {ex.number: ex.kind for ex in found}
    assert kinds == {1: "bug", 2: "bug", 3: "bug", 6: "feature", 7: "feature", 11: "question"}
    asked = [v["labels"] for url, v in reader.calls]
    # bug was full after its first alias: "type: bug" was never asked for.
    assert "kind/bug" in asked and "type: bug" not in asked and "enhancement" in asked
    assert all(v["repo"] == "Hello-World" and v["owner"] == "Codertocat" for _, v in reader.calls)


async def test_a_label_with_a_comma_is_not_asked_for():
    kinds = {"bug": {"label": "bug", "aliases": ["a, b"]}, "question": {"label": "question"}}
    reader = reader_of([issue(1, "a, b")])
    found = await labelled_issues(reader, REPO, ClassifierRules.from_section({"kinds": kinds}), per_kind=5)
    assert found == [] and [v["labels"] for _, v in reader.calls] == ["bug", "question"]


def test_a_confirmed_kind_wins_over_the_history():
    history = [Labelled(1, "bug", "a", ""), Labelled(2, "feature", "b", "")]
    confirmed = [Labelled(2, "question", "b", "")]
    assert {(ex.number, ex.kind) for ex in merged(history, confirmed)} == {(1, "bug"), (2, "question")}


def handle(repo: str, reader, **classify_overrides) -> RepoHandle:
    return RepoHandle(repo=repo, installation_id=1, rules=rules(classify=classify_overrides) if classify_overrides
                      else rules(), gh=reader, roles_of=fixed_roles({}))


class Failing(RecordingReader):
    async def getiter(self, url, url_vars=None, **kw):
        raise ConnectionError("GitHub is down")
        yield  # pragma: no cover


async def test_the_job_reads_repositories_due_oldest_first_a_few_per_run(db, caplog):
    reader = reader_of([issue(1, "bug"), issue(2, "question")])
    repos = [f"org/r{i}" for i in range(REPOS_PER_RUN + 2)]
    await store.write_history(db, repo="org/r0", examples=[], read_at=(NOW - timedelta(days=8)).timestamp())
    await store.write_history(db, repo="org/r1", examples=[], read_at=(NOW - timedelta(days=1)).timestamp())
    handles = [handle(r, reader) for r in repos]
    handles += [handle("org/file", reader, model_path="/models/x.npz"),       # a model file is the model
                handle("org/off", reader, learn_from_history=False),
                handle("org/down", Failing())]

    async def all_repos():
        return handles

    jctx = JobContext(db=db, bot_login="bot[bot]", repos=all_repos, clock=lambda: NOW)
    with caplog.at_level(logging.WARNING, logger="bot.classify"):
        actions = await run_history(jctx)
    read = [a.args["repo"] for a in actions]
    # Never read first (alphabetical among equals, the failing one among them), then the stale one;
    # r1 was read a day ago; the failing repository is logged and left for the next run.
    assert read == ["org/r2", "org/r3", "org/r4", "org/r5"] and len(read) == REPOS_PER_RUN - 1
    assert "could not read the labelled history of org/down" in caplog.text
    assert all(isinstance(a, Record) and a.op == "history" and a.args["read_at"] == NOW.timestamp() for a in actions)
    assert {ex["number"] for ex in actions[0].args["examples"]} == {1, 2}

    await apply(db, actions)
    assert [r["number"] for r in await store.history(db, "org/r2")] == [1, 2]
    again = await run_history(jctx)
    assert [a.args["repo"] for a in again] == ["org/r6", "org/r0"]   # (org/down fails again)


async def test_writing_the_history_replaces_the_old_copy(db):
    await store.write_history(db, repo=REPO, examples=[{"number": 1, "kind": "bug", "title": "a", "body": ""},
                                                        {"number": 2, "kind": "bug", "title": "b", "body": ""}],
                              read_at=1.0)
    await store.write_history(db, repo=REPO, examples=[{"number": 3, "kind": "feature", "title": "c", "body": ""}],
                              read_at=2.0)
    assert [(r["number"], r["kind"]) for r in await store.history(db, REPO)] == [(3, "feature")]
    assert await store.history_read(db, REPO) == {"read_at": 2.0, "examples": 1}


WORDS = {"bug": "zorblat quix flange", "question": "gronk mizzle fosh"}


def history_rows(per_kind: int, start: int = 1) -> list[dict]:
    rows, n = [], start
    for kind, text in WORDS.items():
        for i in range(per_kind):
            rows.append({"number": n, "kind": kind, "title": f"{text} {i}", "body": text})
            n += 1
    return rows


async def test_the_learnt_model_uses_history_and_confirmed_kinds_and_follows_their_changes(db, monkeypatch):
    section = dict(rules().section("classify"))
    section["feedback_min_per_kind"] = 5
    assert await models.model_for(db, REPO, section) == (None, "")   # nothing known yet

    await store.write_history(db, repo=REPO, examples=history_rows(4), read_at=1.0)
    model, name = await models.model_for(db, REPO, section)
    assert model is None                                                # 4 of each: not enough

    await store.write_history(db, repo=REPO, examples=history_rows(6), read_at=2.0)
    model, name = await models.model_for(db, REPO, section)
    assert name == "learnt[12 examples: 12 from history, 0 confirmed]"
    probs = model.probabilities(IssueText.of("zorblat flange", ""))
    assert max(probs, key=probs.get) == "bug"
    assert (await models.model_for(db, REPO, section))[0] is model      # cached while nothing changes

    # A human says issue 1 (a "bug" in the history) is a question: it counts as one, once
    # RETRAIN_AFTER has passed since the model was trained (a triage session retrains once).
    await classify.FEATURE.writers["example"](db, repo=REPO, number=1, kind="question", title="zorblat quix 0",
                                              body="", bot_kind="bug", labelled_by="maint")
    assert (await models.model_for(db, REPO, section))[0] is model
    monkeypatch.setattr(models, "RETRAIN_AFTER", 0.0)
    model2, name2 = await models.model_for(db, REPO, section)
    assert model2 is not model and name2 == "learnt[12 examples: 11 from history, 1 confirmed]"

    # A kind with too few examples is left out of the model, and out of the counts.
    await classify.FEATURE.writers["example"](db, repo=REPO, number=99, kind="documentation", title="typo",
                                              body="", bot_kind=None, labelled_by="maint")
    model3, name3 = await models.model_for(db, REPO, section)
    assert name3 == "learnt[12 examples: 11 from history, 1 confirmed]" and "documentation" not in model3.classes

    off = {**section, "learn_from_history": False}
    assert (await models.model_for(db, REPO, off))[0] is None           # 1 confirmed example alone


async def test_learnt_models_kept_per_process_are_bounded(db, monkeypatch):
    monkeypatch.setattr(models, "LEARNT_CACHE", 2)
    section = {**rules().section("classify"), "feedback_min_per_kind": 3}
    for i in range(3):
        await store.write_history(db, repo=f"org/r{i}", examples=history_rows(3), read_at=1.0)
        assert (await models.model_for(db, f"org/r{i}", section))[0] is not None
    assert list(models._learnt) == ["org/r1", "org/r2"]


@pytest.mark.parametrize("overrides", [{"history_per_kind": 0}, {"history_per_kind": 5000},
                                       {"history_refresh_days": 0}])
def test_history_settings_are_checked(overrides):
    import yaml

    from bot.features import all_features
    from bot.rules.loader import merge_repo_override
    from bot.rules.registry import sections_of
    from tests.helpers import bundled_rules

    _, problems = merge_repo_override(bundled_rules(), yaml.safe_dump({"classify": overrides}), "test",
                                      sections_of(all_features()))
    assert problems and "classify." + next(iter(overrides)) in str(problems[0])

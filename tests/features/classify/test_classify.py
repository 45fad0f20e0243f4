"""Classification handlers and /kind: event in, actions out (table-driven)."""
from __future__ import annotations

import pytest

from bot.core.actions import AddLabels, Note, Record, RemoveLabel, UpsertComment
from bot.features import classify
from bot.features.classify import store
from bot.features.commands.errors import CommandError

from tests.helpers import make_context

from .conftest import REPO, ROLES, apply, comment_payload, command, handle, issue_payload, of, rules


def labels_added(actions) -> list[str]:
    return [label for a in of(actions, AddLabels) for label in a.labels]


@pytest.mark.parametrize("title, body, form_labels, kind, added", [
    ("[Bug] Editor crashes on save", "### Steps to reproduce\n1. save", (), "bug", ["bug", "triage"]),
    ("Save fails", "### Describe the bug\nx\n### Expected behavior\ny", (), "bug", ["bug", "triage"]),
    ("feat: dark mode", "", (), "feature", ["feature", "rfc/draft"]),
    ("Feature request: export to PDF", "It would be nice to export.", (), "feature", ["feature", "rfc/draft"]),
    ("How do I configure the proxy?", "", (), "question", ["question"]),
    ("docs: typo in README", "", (), "documentation", ["documentation"]),
    ("Something", "text", ("enhancement",), "feature", ["rfc/draft"]),   # a form applied the alias label
])
async def test_opened_issue_gets_its_kind_and_route(db, title, body, form_labels, kind, added):
    actions = await handle(db, "issues", issue_payload(title=title, body=body, labels=form_labels))
    assert labels_added(actions) == added
    assert not [a for a in of(actions, UpsertComment) if a.marker == "classify:ask-kind"]
    item = await store.item(db, REPO, 7)
    assert item["kind"] == kind and item["source"] == "bot" and item["confidence"] >= 0.5
    [decision] = await store.decisions(db, REPO, 7)
    assert decision["signals"] and all({"kind", "source", "detail", "weight"} <= set(s) for s in decision["signals"])
    notes = [n.text for n in of(actions, Note) if n.feature == "classify"]
    assert notes and notes[0].startswith(f"kind {kind}, confidence")


async def test_unclear_issue_is_asked_once_and_not_routed(db):
    actions = await handle(db, "issues", issue_payload(title="Hello", body="just saying hi"))
    assert labels_added(actions) == ["needs-triage"]
    [ask] = of(actions, UpsertComment)
    assert ask.marker == "classify:ask-kind" and "`/kind bug`" in ask.body and "`/kind question`" in ask.body
    assert not [a for a in of(actions, Record) if a.feature == "route"]
    item = await store.item(db, REPO, 7)
    assert item["kind"] is None
    # An edit that still says nothing: no new comment, no new label.
    payload = issue_payload("edited", title="Hello", body="still vague", labels=["needs-triage"])
    assert await handle(db, "issues", payload, delivery="d2") == []


async def test_kind_command_wins_removes_bot_labels_and_keeps_example(db):
    await handle(db, "issues", issue_payload(title="Hello", body="vague"))
    payload = comment_payload("/kind feature", labels=["needs-triage"])
    actions = await command(db, classify.FEATURE, "kind", ("feature",), payload)
    assert labels_added(actions) == ["feature", "rfc/draft"]
    assert [a.label for a in of(actions, RemoveLabel)] == ["needs-triage"]
    item = await store.item(db, REPO, 7)
    assert (item["kind"], item["source"]) == ("feature", "human")
    [example] = await store.examples(db, REPO)
    assert example["kind"] == "feature"
    # The bot no longer touches the issue, whatever the edit says.
    edited = issue_payload("edited", title="[Bug] crash", body="### Steps to reproduce", labels=["feature"])
    assert await handle(db, "issues", edited, delivery="d3") == []


@pytest.mark.parametrize("arg, kind", [("bug", "bug"), ("Enhancement", "feature"), ("documentation", "documentation")])
async def test_kind_command_accepts_names_and_labels(db, arg, kind):
    actions = await command(db, classify.FEATURE, "kind", (arg,), comment_payload(f"/kind {arg}"))
    assert (await store.item(db, REPO, 7))["kind"] == kind
    # The issue gets the kind's own label, not the word typed.
    added = [label for a in actions if isinstance(a, AddLabels) for label in a.labels]
    assert kind in added and (arg == kind or arg not in added), added


@pytest.mark.parametrize("args", [(), ("bogus",), ("bug", "feature")])
async def test_kind_command_errors(db, args):
    with pytest.raises(CommandError):
        await command(db, classify.FEATURE, "kind", args, comment_payload("/kind"))


async def test_maintainer_label_change_overrides_the_bot(db):
    await handle(db, "issues", issue_payload(title="feat: dark mode"))
    payload = issue_payload("labeled", title="feat: dark mode", labels=["feature", "rfc/draft", "bug"],
                            sender="maint", label="bug")
    actions = await handle(db, "issues", payload, delivery="d2")
    # The bot's own kind label, and what routing as a feature added (rfc/draft): both the bot's.
    assert [a.label for a in of(actions, RemoveLabel)] == ["feature", "rfc/draft"]
    assert "triage" in labels_added(actions)                                # routed as a bug now
    assert (await store.item(db, REPO, 7))["source"] == "human"
    [example] = await store.examples(db, REPO)
    assert (example["kind"], example["labelled_by"]) == ("bug", "maint")


async def test_label_change_by_someone_without_the_role_is_not_a_decision(db):
    payload = issue_payload("labeled", title="x", labels=["bug"], sender="visitor", label="bug")
    assert await handle(db, "issues", payload) == []


async def test_bot_never_readds_a_kind_label_a_human_removed(db):
    await handle(db, "issues", issue_payload(title="[Bug] crash on start", body="### Steps to reproduce"))
    removed = issue_payload("unlabeled", title="[Bug] crash on start", labels=["triage"], sender="maint", label="bug")
    actions = await handle(db, "issues", removed, delivery="d2")
    assert of(actions, Record)[0].op == "removed_label"
    assert (await store.item(db, REPO, 7))["kind"] is None
    edited = issue_payload("edited", title="[Bug] crash on start!", body="### Steps to reproduce", labels=["triage"])
    assert await handle(db, "issues", edited, delivery="d3") == []
    # Nor another guess or a question to the author: the maintainer has the kind in hand.
    reopened = issue_payload("reopened", title="Feature request: add an option", body="Please add", labels=["triage"])
    assert await handle(db, "issues", reopened, delivery="d4") == []
    # Until a person gives one.
    relabel = issue_payload("labeled", title="x", labels=["triage", "feature"], sender="maint", label="feature")
    actions = await handle(db, "issues", relabel, delivery="d5")
    assert (await store.item(db, REPO, 7))["kind"] == "feature" and of(actions, Record)


async def test_human_kind_label_before_the_bot_decided_is_respected_on_edit(db):
    payload = issue_payload("edited", title="feat: x", labels=["question"])
    assert await handle(db, "issues", payload) == []


async def test_edit_that_changes_the_kind_swaps_the_bot_label(db):
    await handle(db, "issues", issue_payload(title="docs: typo in README"))
    edited = issue_payload("edited", title="[Bug] crash in the docs builder", body="### Steps to reproduce",
                           labels=["documentation"])
    actions = await handle(db, "issues", edited, delivery="d2")
    assert labels_added(actions)[:1] == ["bug"]
    assert [a.label for a in of(actions, RemoveLabel)] == ["documentation"]


def _transfer_payloads(title: str = "[Bug] crash", body: str = "", labels=()):
    """What GitHub sends for one transfer: ``issues.transferred`` to the old repository and
    ``issues.opened`` (with ``changes.old_issue`` / ``old_repository``) to the new one."""
    import copy

    from tests.fixtures.webhooks import load_example

    transferred = load_example("issues", "transferred")
    old_repo, old = transferred["repository"], transferred["issue"]
    new = transferred["changes"]["new_issue"]
    new.update(number=21, title=title, body=body, labels=[{"name": n} for n in labels], state="open")
    new.pop("pull_request", None)
    opened = issue_payload(number=21, title=title, body=body, labels=labels)
    opened["changes"] = {"old_issue": copy.deepcopy(old), "old_repository": copy.deepcopy(old_repo)}
    return transferred, opened, (old_repo["full_name"], int(old["number"]))


async def test_a_transfer_is_classified_and_routed_once_from_its_new_repository(db):
    transferred, opened, _ = _transfer_payloads()
    # The old repository's event is not the one acted on: the new repository's opening is.
    assert await handle(db, "issues", transferred, delivery="t1") == []
    actions = await handle(db, "issues", opened, delivery="o1")
    assert labels_added(actions) == ["bug", "triage"]
    assert {a.repo for a in of(actions, AddLabels)} == {REPO}
    assert (await store.item(db, REPO, 21))["kind"] == "bug"


async def test_a_transferred_issue_keeps_the_kind_a_human_gave_it(db):
    transferred, opened, (old_repo, old_number) = _transfer_payloads(title="[Bug] crash when I do X?")
    said = comment_payload("/kind question", number=old_number, user="maint", title="[Bug] crash when I do X?")
    said["repository"]["full_name"] = old_repo
    await command(db, classify.FEATURE, "kind", ("question",), said)
    await handle(db, "issues", transferred, delivery="t1")
    actions = await handle(db, "issues", opened, delivery="o1")
    assert labels_added(actions) == ["question"]                      # not the title's "bug", not asked
    assert not [a for a in of(actions, UpsertComment) if a.marker == "classify:ask-kind"]
    item = await store.item(db, REPO, 21)
    assert (item["kind"], item["source"]) == ("question", "human")
    assert f"transferred from {old_repo}#{old_number}, where @maint said question" in [
        n.text for n in of(actions, Note)]


async def test_a_transferred_issue_whose_kind_a_maintainer_took_off_is_not_guessed_again(db):
    # The bot said bug in the old repository; a maintainer took `bug` off there, then moved the
    # issue. The new repository has the kind in people's hands too: no bug again, no other
    # guess, no question to the author.
    transferred, opened, (old_repo, old_number) = _transfer_payloads(
        title="[Bug] crash on start", body="### Steps to reproduce")
    first = issue_payload(number=old_number, title="[Bug] crash on start", body="### Steps to reproduce")
    first["repository"]["full_name"] = old_repo
    await handle(db, "issues", first, delivery="a1")
    assert (await store.item(db, old_repo, old_number))["kind"] == "bug"
    removed = issue_payload("unlabeled", number=old_number, title="[Bug] crash on start", labels=["triage"],
                            sender="maint", label="bug")
    removed["repository"]["full_name"] = old_repo
    await handle(db, "issues", removed, delivery="a2")
    assert (await store.item(db, old_repo, old_number))["source"] == "removed"

    await handle(db, "issues", transferred, delivery="t1")
    actions = await handle(db, "issues", opened, delivery="o1")
    assert labels_added(actions) == []
    assert not of(actions, UpsertComment)
    item = await store.item(db, REPO, 21)
    assert (item["kind"], item["source"]) == (None, "removed")
    assert await store.removed_labels(db, REPO, 21) == {"bug"}
    assert (f"transferred from {old_repo}#{old_number}, where @maint took the kind label 'bug' off; "
            "the kind is left to people") in [
        n.text for n in of(actions, Note)]
    # Nor on an edit there, until a person gives a kind.
    edited = issue_payload("edited", number=21, title="[Bug] crash on start!", body="### Steps to reproduce")
    assert await handle(db, "issues", edited, delivery="o2") == []


async def test_pull_requests_and_closed_issues_are_left_alone(db):
    closed = issue_payload("reopened", title="[Bug] x")
    closed["issue"]["state"] = "closed"
    assert await handle(db, "issues", closed) == []


async def test_threshold_from_the_rules(db):
    strict = rules(classify={"threshold": 0.95})
    actions = await handle(db, "issues", issue_payload(title="[Bug] crash"), rules_=strict)
    assert labels_added(actions) == ["needs-triage"]


async def test_feedback_model_is_used_once_humans_confirmed_enough(db):
    words = {"bug": "segfault stack overflow core dump kernel panic", "question": "wondering whether anyone knows"}
    n = 0
    for kind, text in words.items():
        for i in range(4):
            n += 1
            payload = comment_payload(f"/kind {kind}", number=100 + n, title=f"{text} {i}")
            await command(db, classify.FEATURE, "kind", (kind,), payload, delivery=f"k{n}")
    few = rules(classify={"feedback_min_per_kind": 4, "threshold": 0.3})
    actions = await handle(db, "issues", issue_payload(number=200, title="segfault core dump on exit"), rules_=few)
    [decision] = await store.decisions(db, REPO, 200)
    assert any(s["source"] == "model" for s in decision["signals"])
    assert decision["best"] == "bug"
    assert "[model feedback[8 examples]]" in of(actions, Note)[0].text


async def test_an_edit_that_makes_the_kind_clear_routes_and_drops_needs_triage(db):
    await handle(db, "issues", issue_payload(title="Hello", body="vague"))
    edited = issue_payload("edited", title="[Bug] Hello crashes", body="### Steps to reproduce\n1.",
                           labels=["needs-triage"])
    actions = await handle(db, "issues", edited, delivery="d2")
    assert labels_added(actions) == ["bug", "triage"]
    assert [a.label for a in of(actions, RemoveLabel)] == ["needs-triage"]


async def test_the_ledger_ignores_case_as_github_does(db):
    from bot.store import state

    # The bot added "bug"; the repository's label is "Bug", and events say so.
    await handle(db, "issues", issue_payload(title="docs: typo in README"))
    await state.record_bot_label(db, REPO, 7, "bug", "classify")
    assert await state.bot_added(db, REPO, 7, "BUG") and await state.bot_added(db, REPO, 7, "Bug")
    edited = issue_payload("edited", title="feat: dark mode", body="It would be nice to have a dark theme.",
                           labels=["Bug", "documentation"])
    actions = await handle(db, "issues", edited, delivery="d2")
    # Not "a human's kind label": the bot's own guess, replaced like any other.
    assert sorted(a.label for a in of(actions, RemoveLabel)) == ["Bug", "documentation"]
    assert "feature" in labels_added(actions)
    await state.forget_bot_label(db, REPO, 7, "BUG")
    assert not await state.bot_added(db, REPO, 7, "bug")


# Headings as popular templates write them: an emoji or a :shortcode: first, bold inside.
@pytest.mark.parametrize("body", [
    "### 🐛 Describe the bug\nThe model fails on the GPU.\n\n### Versions\n2.1",      # PyTorch's form
    "## :bug: Describe the bug\nIt fails.\n\n## :computer: Environment\nLinux",
    "### **Describe the bug**\nIt fails.\n\n### **Additional context**\nnone",
])
async def test_template_headings_are_found_behind_an_emoji_or_markup(db, body):
    actions = await handle(db, "issues", issue_payload(title="Model fails on the GPU", body=body))
    assert "bug" in labels_added(actions)
    [decision] = await store.decisions(db, REPO, 7)
    assert [s["detail"] for s in decision["signals"] if s["source"] == "heading"] == ["describe the bug"]


# What looks like a heading inside a code block or an HTML comment is not one of the issue's.
async def test_headings_in_code_blocks_and_template_comments_are_not_signals(db):
    body = ("It would be nice to have a JSON output.\n\n"
            "<!--\n### Steps to reproduce\n(delete this for feature requests)\n-->\n"
            "```sh\n# Expected behavior\nmytool --json\n```\n")
    actions = await handle(db, "issues", issue_payload(title="feat: JSON output", body=body))
    assert "feature" in labels_added(actions)
    [decision] = await store.decisions(db, REPO, 7)
    assert not [s for s in decision["signals"] if s["source"] == "heading"]


# Maintainers relabel closed issues (a clean-up of old labels): the kind is theirs and a
# training example, but a closed issue is not routed: nobody is assigned to triage it, it
# is not put on a board, nothing is asked.
async def test_a_kind_given_to_a_closed_issue_is_kept_but_the_issue_is_not_routed(db):
    from .test_route import ROUTING, board_reader

    r = rules(routing=ROUTING)
    labeled = issue_payload("labeled", title="Old crash", labels=["bug"], sender="maint", label="bug")
    labeled["issue"]["state"] = "closed"
    actions = await handle(db, "issues", labeled, rules_=r, reader=board_reader())
    assert labels_added(actions) == [] and not [a for a in actions if type(a).__name__ in ("Assign", "AddToProject")]
    assert not [a for a in of(actions, Record) if a.feature == "route"]
    item = await store.item(db, REPO, 7)
    assert (item["kind"], item["source"]) == ("bug", "human")
    assert [e["kind"] for e in await store.examples(db, REPO)] == ["bug"]
    said = comment_payload("/kind feature", user="maint", title="Old crash", labels=["bug"])
    said["issue"]["state"] = "closed"
    actions = await command(db, classify.FEATURE, "kind", ("feature",), said, rules_=r, reader=board_reader())
    assert labels_added(actions) == ["feature"]             # asked for: the label, and nothing routed
    assert not [a for a in of(actions, Record) if a.feature == "route"]
    # Reopened, the issue is routed by the kind the human gave it.
    reopened = issue_payload("reopened", title="Old crash", labels=["bug", "feature"], sender="maint")
    actions = await handle(db, "issues", reopened, rules_=r, reader=board_reader(), delivery="d3")
    assert "rfc/draft" in labels_added(actions)
    assert [a.project_number for a in actions if type(a).__name__ == "AddToProject"] == [6]

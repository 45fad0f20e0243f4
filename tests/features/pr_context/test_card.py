"""Card rendering: stable text, neutralised user text, sections present when they apply."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.impact import Impact
from bot.features.pr_context.card import CardData, checked_items, humanize_seconds, person, render_card

IMPACT = Impact(direct=("core",), transitive=("cli",), via={"cli": "core"},
                files={"core": tuple(f"src/core/f{i}.py" for i in range(7))}, unmatched=("setup.py",))


def test_same_data_same_text():
    # Equal data built in another order (as another push's handler may build it) reads the same:
    # the executor edits the card only when its text changes.
    def impact(files):
        return Impact(direct=("core", "docs"), transitive=("cli",), via={"cli": "core"}, files=files,
                      unmatched=("setup.py",))
    core, docs = tuple(f"src/core/f{i}.py" for i in range(7)), ("docs/a.md",)
    data = CardData(impact=impact({"core": core, "docs": docs}),
                    owners={"core": ("alice",), "docs": ("dana",), "": ("rel",), "cli": ("bob",)},
                    response_time="3 days", checklist=("A.", "B.", "C."), checkboxes=True,
                    checked=frozenset({"A.", "C."}))
    again = CardData(impact=impact({"docs": docs, "core": core}),
                     owners={"cli": ("bob",), "": ("rel",), "docs": ("dana",), "core": ("alice",)},
                     response_time="3 days", checklist=("A.", "B.", "C."), checkboxes=True,
                     checked=frozenset({"C.", "A."}))
    assert again == data
    text = render_card(data)
    assert render_card(again) == text
    assert ("| **core** | [alice](https://github.com/alice) | 7 |\n"
            "| **docs** | [dana](https://github.com/dana) | 1 |") in text
    assert "| **cli** | [bob](https://github.com/bob) | core |" in text
    assert "- [x] A.\n- [ ] B.\n- [x] C." in text
    # ...and other data does not: the text follows the data, it is not a constant.
    assert render_card(replace(data, response_time="2 days")) != text


def test_sections():
    data = CardData(impact=IMPACT, owners={"core": ("alice", "acme/core"), "": ("rel",)},
                    guide_links={"core": "https://g/#core"}, decision_tree="https://g/#tree",
                    checklist=("Docs updated.",), cla_line="CLA: signed", patch_line="Patch: verified",
                    response_time="3 days", files_listed=8, files_total=8)
    text = render_card(data)
    assert "| [**core**](https://g/#core) | [alice](https://github.com/alice), `acme/core` | 7 |" in text
    assert "| **cli** | _none declared_ | core |" in text
    assert "1 changed file(s) belong to no component; CODEOWNERS: [rel](https://github.com/rel)." in text
    assert "`src/core/f4.py` and 2 more" in text and "f5.py" not in text
    assert "**Contributing guide**: [Architecture decision tree](https://g/#tree) · [core](https://g/#core)" in text
    assert "**Status**\n\n- CLA: signed\n- Patch: verified" in text
    assert "- Docs updated." in text and "[ ]" not in text
    assert text.endswith("**Expected response**: a maintainer usually answers within 3 days.\n")
    assert "Welcome" not in text and "GitHub lists at most" not in text


def test_nothing_touched_and_nothing_to_say():
    text = render_card(CardData(impact=Impact(direct=(), transitive=())))
    assert "_No declared component is touched._" in text
    for absent in ("**Status**", "**Checklist**", "<details>", "Expected response"):
        assert absent not in text


def test_author_login_in_welcome_does_not_ping():
    text = render_card(CardData(impact=IMPACT, first_timer=True, author="@someone", welcome=("Step.",)))
    assert "@someone" not in text and "@\u200bsomeone" in text
    assert "1. Step." in text


def test_checkboxes_keep_ticks():
    data = CardData(impact=IMPACT, checklist=("A", "B"), checkboxes=True, checked=frozenset({"B"}))
    text = render_card(data)
    assert "- [ ] A\n- [x] B" in text
    assert checked_items(text) == {"B"}


@pytest.mark.parametrize("seconds, text", [
    (259200, "3 days"), (86400, "1 day"), (129600, "36 hours"), (604800, "1 week"),
    (5400, "90 minutes"), (5430, "1.5 hours"), (60, "1 minute"),
])
def test_humanize(seconds, text):
    assert humanize_seconds(seconds) == text


@pytest.mark.parametrize("owner, shown", [
    ("alice", "[alice](https://github.com/alice)"),
    ("acme/core", "`acme/core`"),
    ("docs@example.com", "`docs@example.com`"),
])
def test_people_are_shown_without_mentions(owner, shown):
    assert person(owner) == shown


def test_huge_cards_stay_under_githubs_limit():
    names = tuple(f"component-{i}" for i in range(2000))
    impact = Impact(direct=names, transitive=(), files={n: (f"{n}/a.py",) for n in names})
    text = render_card(CardData(impact=impact, owners={n: ("alice",) for n in names}))
    assert len(text) <= 60_000
    assert "<details>" not in text
    assert text.endswith("_The card is cut here: this pull request touches too much to list._\n")
    small = render_card(CardData(impact=IMPACT))
    assert "<details>" in small and "cut here" not in small

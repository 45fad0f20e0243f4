"""Acceptance (issue 5, body mode): the card section of a PR description is replaced in place,
never duplicated and never eating the author's text, whatever stray markers the author left."""
from bot.executor.issues import replace_section

M = "contributor-flow:context-card"
START, END = f"<!-- {M}:start -->", f"<!-- {M}:end -->"


def test_an_end_marker_above_the_card_does_not_grow_a_new_card_on_every_edit():
    body = f"Fixes the thing. {END} (pasted)"
    once = replace_section(body, M, "card v1")
    twice = replace_section(once, M, "card v2")
    assert twice.count(START) == 1 and "card v1" not in twice and "card v2" in twice
    assert twice.startswith(f"Fixes the thing. {END} (pasted)")
    assert replace_section(twice, M, "card v2") == twice


def test_an_orphan_start_marker_keeps_the_authors_text_after_it():
    body = f"Intro {START} my notes\n\n{START}\nold card\n{END}\nOutro"
    out = replace_section(body, M, "new card")
    assert out == f"Intro {START} my notes\n\n{START}\nnew card\n{END}\nOutro"


def test_ticks_kept_item_by_item_when_an_items_text_repeats_under_different_items():
    # A maintainer's checklist item may hold a task list of its own (YAML block text): "tests
    # added" under two items is two checkboxes, and the author's tick on one is that one's.
    card = ("**Checklist**\n\n- [ ] Core: API change reviewed\n  - [ ] tests added\n"
            "- [ ] UI: screenshots updated\n  - [ ] tests added\n")
    ticked_first = card.replace("reviewed\n  - [ ] tests added", "reviewed\n  - [x] tests added")
    ticked_second = card.replace("updated\n  - [ ] tests added", "updated\n  - [x] tests added")
    for on_github in (ticked_first, ticked_second):
        body = replace_section("Mine.", M, on_github)
        assert replace_section(body, M, card, ticks=True) == body
    # The same text at the top and nested: each keeps its own tick.
    mixed = "- [x] tests added\n- [ ] Docs\n  - [ ] tests added"
    body = replace_section("Mine.", M, mixed)
    assert replace_section(body, M, mixed.replace("[x]", "[ ]"), ticks=True) == body
    # An item moving into a new place keeps its tick; a repeated one beside it starts as decided.
    later = "- [ ] UI: screenshots updated\n  - [ ] tests added\n- [ ] Core: API change reviewed\n  - [ ] tests added\n"
    body = replace_section("Mine.", M, ticked_first)
    assert replace_section(body, M, later, ticks=True) == replace_section(
        "Mine.", M, later.replace("reviewed\n  - [ ] tests added", "reviewed\n  - [x] tests added"))

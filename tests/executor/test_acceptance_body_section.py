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

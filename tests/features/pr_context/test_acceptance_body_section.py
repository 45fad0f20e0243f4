"""Acceptance (issue 5, body mode): the author's ticks are read from the card section even when
the description holds a stray card marker elsewhere (the card would otherwise lose them)."""
from bot.features.pr_context.card import checked_items
from bot.features.pr_context.handlers import _body_section
from bot.features.pr_context.rules import BODY_MARKER

START, END = f"<!-- {BODY_MARKER}:start -->", f"<!-- {BODY_MARKER}:end -->"


def test_ticks_survive_a_stray_end_marker_above_the_section():
    body = f"Pasted: {END}\n\n{START}\n- [x] Tests added\n- [ ] Docs\n{END}"
    assert checked_items(_body_section(body)) == {"Tests added"}


def test_ticks_come_from_the_section_not_an_orphan_start_above_it():
    body = f"{START} - [x] not the card\n\n{START}\n- [x] Docs\n{END}"
    assert checked_items(_body_section(body)) == {"Docs"}

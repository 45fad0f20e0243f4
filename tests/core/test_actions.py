"""Actions as data: how one reads in a log line."""
from __future__ import annotations

from bot.core.actions import AddLabels, Record


def test_describe_names_every_field_and_keeps_big_values_short():
    small = AddLabels("o/r", number=3, labels=("bug",))
    assert small.describe() == "AddLabels(repo='o/r', number=3, labels=('bug',))"
    history = Record("o/r", feature="classify", op="history",
                     args={"examples": [{"title": "x" * 50, "body": "y" * 5000}] * 200})
    text = history.describe()
    assert text.startswith("Record(repo='o/r', feature='classify', op='history', args={'examples'")
    assert len(text) < 400 and text.endswith("...)")


def test_a_guard_is_left_out_unless_set_and_survives_a_round_trip():
    from bot.core.actions import Guard, UpsertComment, action_from_dict

    plain = UpsertComment("o/r", number=3, marker="m", body="b")
    assert "guard" not in plain.to_dict()       # fingerprints of unguarded actions as before
    guarded = UpsertComment("o/r", number=3, marker="m", body="b",
                            guard=Guard("cla", "still_current", {"repo": "o/r", "number": 3, "revision": 7}))
    assert guarded.to_dict()["guard"] == {"feature": "cla", "op": "still_current",
                                          "args": {"repo": "o/r", "number": 3, "revision": 7}}
    assert action_from_dict(guarded.to_dict()) == guarded

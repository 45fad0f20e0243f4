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

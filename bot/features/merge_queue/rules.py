"""The ``merge_queue`` rules section (bundled defaults in rules/merge_queue.yml)."""
from __future__ import annotations

from ...rules import Duration, Field, Obj, Section

SECTION = Section(
    name="merge_queue",
    doc="Reports the bot's pull-request checks on the merge queue's group commits.",
    schema=Obj({
        "follow_for": Field(Duration(min=60, max=3 * 86400), default="6h",
                            doc="How long after its checks were requested a merge group's checks "
                                "follow verdict changes on its pull request (at least the merge "
                                "queue's status check timeout)."),
    }),
)

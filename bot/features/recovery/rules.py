"""The ``recovery`` rules section (bundled defaults in rules/recovery.yml).

Recovery is app-wide: only the bundled file counts (a repository's override cannot
change which deliveries the App asks GitHub to send again).
"""
from __future__ import annotations

from ...rules import Duration, Field, Float, Int, List, Obj, Section, Str

SECTION = Section(
    name="recovery",
    doc="Missed webhook deliveries: find them in the App's delivery log and ask GitHub again.",
    schema=Obj({
        "every": Field(Duration(min=1), default="5m",
                       doc="How often the App's recent deliveries are looked through."),
        "max_age": Field(Duration(min=60, max=3 * 86400), default="3d",
                         doc="How far back to look; GitHub redelivers only the last 3 days."),
        "events": Field(List(Str(pattern=r"[a-z_]+(\.[a-z_]+)?")), default=[],
                        doc="Events worth asking for again, as 'event' or 'event.action'. "
                            "Empty: exactly those some feature handles (after an outage most "
                            "missed events are irrelevant)."),
        "pace": Field(Float(min=0, max=60), default=1.0,
                      doc="Seconds between two redelivery requests."),
        "max_per_run": Field(Int(min=1, max=10000), default=200,
                             doc="Redelivery requests per run at most; the rest waits for the "
                                 "next run."),
        "max_requests": Field(Int(min=1, max=10), default=3,
                              doc="How many times one delivery is asked for at most (a "
                                  "redelivery can fail too, e.g. during a database outage)."),
        "startup_delay": Field(Duration(min=0), default="5s",
                               doc="Wait this long after start-up (the server must be listening "
                                   "when GitHub sends the deliveries again)."),
    }),
)

"""The ``routing`` rules section: where each kind of issue goes."""
from __future__ import annotations

from ...rules import Bool, Duration, Field, Int, List, Map, Obj, Section, Str

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RFC_STATES = ("draft", "review", "accepted", "rejected", "postponed")

BOARD = Obj({
    "owner": Field(Str(), default="", doc="Organisation or user owning the board; empty: the repository's owner."),
    "number": Field(Int(min=0), default=0, doc="The board's number (its URL ends in /projects/N); 0: no board."),
    "field": Field(Str(), default="Status", doc="The single-select field to set."),
    "status": Field(Str(), default="", doc="The option to set; empty: add the item only."),
})

ROUTE = Obj({
    "labels": Field(List(Str()), doc="Labels added once the kind is known."),
    "rotation": Field(Str(), default="", doc="Name of a rotation (see rotations) to assign from; empty: none."),
    "board": Field(BOARD, doc="A Projects board to put the issue on."),
    "comment": Field(Str(), default="", doc="One comment posted once the kind is known; {support_url} "
                                            "and {author} are filled in. Empty: none."),
    "rfc": Field(Bool(), default=False, doc="Issues of this kind are RFCs: /rfc moves them and the "
                                            "weekly agenda lists those waiting for review."),
})

ROTATION = Obj({
    "people": Field(List(Str()), doc="Logins taking turns (round-robin)."),
    "team": Field(Str(), default="", doc="org/team-slug whose members take turns when people is empty."),
    "away": Field(List(Str()), doc="Logins skipped for now."),
    "max_open": Field(Int(min=0), default=10, doc="Skip anyone with this many open assigned issues in "
                                                   "the repository; 0: no cap."),
})

RFC = Obj({
    "labels": Field(Map(Str()), default={"draft": "rfc/draft", "review": "rfc/review", "accepted": "rfc/accepted",
                                         "rejected": "rfc/rejected", "postponed": "rfc/postponed"},
                    doc="The label of each RFC state (draft, review, accepted, rejected, postponed)."),
    "statuses": Field(Map(Str()), default={"draft": "Draft", "review": "In review", "accepted": "Accepted",
                                           "rejected": "Rejected", "postponed": "Postponed"},
                      doc="The board status of each RFC state."),
    "board": Field(BOARD, doc="The RFC board (normally the same as the rfc kind's route board)."),
    "close_on": Field(List(Str(choices=RFC_STATES)), default=["rejected"],
                      doc="States that close the issue (as not planned)."),
})

AGENDA = Obj({
    "enabled": Field(Bool(), default=True),
    "weekday": Field(Str(choices=WEEKDAYS), default="wednesday", doc="Day of the RFC review call."),
    "time": Field(Str(pattern=r"([01]\d|2[0-3]):[0-5]\d"), default="16:00", doc="Time of the call, HH:MM."),
    "timezone": Field(Str(), default="UTC", doc="IANA time zone of day and time, e.g. Europe/Berlin."),
    "post_before": Field(Duration(min=60), default="24h", doc="How long before the call the agenda goes out."),
    "discussion_category": Field(Str(), default="", doc="Post the agenda as a Discussion in this category..."),
    "issue": Field(Int(min=0), default=0, doc="...or as a comment on this issue (when no category is set)."),
    "title": Field(Str(), default="RFC review agenda, {date}", doc="{date} and {week} are filled in."),
})

SECTION = Section(
    name="routing",
    doc="Routing of classified issues: bugs to triage, feature requests to the RFC board, questions to support.",
    schema=Obj({
        "routes": Field(Map(ROUTE), default={
            "bug": {"labels": ["triage"], "rotation": "triage", "board": {"status": "Triage"}},
            "feature": {"labels": [], "rfc": True, "board": {"status": "Draft"}},
            "question": {"labels": [], "comment": (
                "Thanks for the question, @{author}! Questions get the quickest answers on our "
                "support channel: {support_url}. This tracker is for bugs and feature requests.")},
        }, doc="Per kind (names as in classify.kinds); a kind not listed is left alone."),
        "rotations": Field(Map(ROTATION), default={"triage": {}}, doc="Rotations by name."),
        "support_url": Field(Str(), default="", doc="Where questions are answered; a question route's "
                                                    "comment is skipped while this is empty."),
        "rfc": Field(RFC, doc="RFC states, labels and board statuses."),
        "agenda": Field(AGENDA, doc="The weekly RFC review agenda."),
        "maintainers": Field(Str(), default="", doc="Login or org/team told about routing problems "
                                                    "(a missing board or field)."),
    }),
)

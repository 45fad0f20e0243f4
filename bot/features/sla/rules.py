"""The ``sla`` rules section (bundled defaults in rules/sla.yml)."""
from __future__ import annotations

from ...rules import Bool, Duration, Field, List, Map, Obj, Section, Str

ROLE = Str(choices=("author", "triager", "maintainer", "approver"))
ITEM_TYPE = Str(choices=("issue", "pull_request"))
_TIME = Str(pattern=r"([01]\d|2[0-3]):[0-5]\d")
_DAY = Str(choices=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

CALENDAR = Obj({
    "timezone": Field(Str(), default="UTC", doc="IANA zone, e.g. Europe/Paris."),
    "days": Field(List(_DAY, min_len=1), default=["mon", "tue", "wed", "thu", "fri"],
                  doc="Working days."),
    "start": Field(_TIME, default="09:00", doc="Local opening time (HH:MM)."),
    "end": Field(_TIME, default="17:00", doc="Local closing time (HH:MM); 00:00 means midnight."),
    "holidays": Field(List(Str(pattern=r"\d{4}-\d{2}-\d{2}")), default=[],
                      doc="Dates (YYYY-MM-DD) with no working hours."),
})

POLICY = Obj({
    "name": Field(Str(pattern=r"[A-Za-z0-9_.-]{1,40}"), required=True,
                  doc="Shown in reports and markers; keep it stable."),
    "item_types": Field(List(ITEM_TYPE), default=["issue"],
                        doc="issue, pull_request, or both."),
    "kinds": Field(List(Str()), default=[],
                   doc="Kinds (see kind_labels) that put an item in the policy."),
    "labels": Field(List(Str()), default=[],
                    doc="Labels that put an item in the policy. With neither kinds nor labels, "
                        "every item of item_types is in it from its opening."),
    "target": Field(Duration(min=60), default="72h", doc="First response owed within this."),
    "warn_after": Field(Duration(min=0), default="48h", doc="Warn the triagers at this point."),
    "calendar": Field(Str(), default="",
                      doc="Name of a business calendar (see calendars); empty: elapsed hours."),
    "team": Field(Str(), default="",
                  doc="Who is warned for this policy (login or org/team), instead of the triage "
                      "rotation; empty: the rotation, else the section's team."),
})

SECTION = Section(
    name="sla",
    doc="First-response SLA: clocks, warnings, breaches and figures.",
    schema=Obj({
        "policies": Field(List(POLICY), default=[{"name": "bugs", "kinds": ["bug"]}],
                          doc="An item may be in several policies; each has its own clock."),
        "kind_labels": Field(Map(List(Str())), default={},
                             doc="More labels meaning each kind, besides the classifier's own "
                                 "(classify.kinds: label and aliases). A kind neither names "
                                 "matches the labels '<kind>' and 'kind/<kind>'."),
        "calendars": Field(Map(CALENDAR), default={}, doc="Business calendars by name."),
        "responder_roles": Field(List(ROLE, min_len=1), default=["maintainer", "triager"],
                                 doc="Whose comment, review or close stops the clock."),
        "label_change_counts": Field(Bool(), default=False,
                                     doc="A label change by a responder counts as a response."),
        "answer_commands": Field(List(Str()), default=["close"],
                                 doc="Slash commands that answer the reporter even in a comment "
                                     "holding nothing else (closing is an answer; /label is not); "
                                     "'NAME ARG' names one with its first argument. Each /triage "
                                     "state that closes the item is one too."),
        "ignore_responses_within": Field(Duration(), default="30s",
                                         doc="Responses this soon after opening are automated."),
        "pause_labels": Field(List(Str()), default=["needs-info", "waiting-for-author"],
                              doc="While one of these is on the item, the clock is paused."),
        "breach_label": Field(Str(), default="sla/breached", doc="Added at the breach."),
        "remove_breach_label_on_response": Field(
            Bool(), default=False, doc="Remove the breach label once answered (default: keep it "
                                       "as history)."),
        "team": Field(Str(), default="",
                      doc="Warned when neither the policy's team nor a triage rotation "
                          "(routing.rotations) names anyone (login or org/team)."),
        "escalate_to": Field(Str(), default="",
                             doc="Mentioned at the breach (login or org/team); empty: the same "
                                 "people as the warning."),
    }),
)

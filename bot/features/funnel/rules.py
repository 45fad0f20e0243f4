"""The ``funnel`` rules section (bundled defaults in rules/funnel.yml)."""
from __future__ import annotations

from ...rules import Bool, Field, Int, List, Obj, Section, Str

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

REPORT = Obj({
    "enabled": Field(Bool(), default=True, doc="Post the weekly report."),
    "weekday": Field(Str(choices=WEEKDAYS), default="mon", doc="Day of the week (UTC)."),
    "time": Field(Str(pattern=r"([01]\d|2[0-3]):[0-5]\d"), default="09:00",
                  doc="Time of day (UTC, HH:MM) from which the week's report is posted."),
    "category": Field(Str(), default="Reports",
                      doc="Discussion category the report is created in (by name)."),
    "trailing_months": Field(Int(min=1, max=36), default=6,
                             doc="The longer window shown next to the week."),
    "welcome_limit": Field(Int(min=0, max=200), default=30,
                           doc="At most this many new contributors are named."),
    "rfc_labels": Field(List(Str()), default=["rfc/review"],
                        doc="Open items with one of these labels are listed as RFCs waiting for review."),
})

SECTION = Section(
    name="funnel",
    doc="Contributor funnel: milestones from live events, weekly report, dashboard.",
    schema=Obj({
        "report": Field(REPORT, default={}, doc="The weekly report (a Discussion)."),
        "approver_teams": Field(List(Str(pattern=r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+")),
                                default=[], doc="Teams (org/slug) whose members are approvers."),
        "owners_files": Field(List(Str()), default=["OWNERS"],
                              doc="File names (in any directory) listing approvers, Prow style."),
        "codeowners_files": Field(List(Str()),
                                  default=[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"],
                                  doc="CODEOWNERS locations; the owners named are approvers."),
        "bots": Field(Obj({
            "deny": Field(List(Str()), default=[],
                          doc="Logins (or * ? patterns) that are bots though GitHub says User."),
            "allow": Field(List(Str()), default=[],
                           doc="Bot logins counted as contributors anyway."),
        }), default={}, doc="Who is not a person for the funnel, besides Bot accounts."),
        "org_mode": Field(Bool(), default=False,
                          doc="Report and chart the whole organisation rather than the repository."),
    }),
)

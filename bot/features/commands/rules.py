"""The ``commands`` rules section: who may use which command, and where roles come from."""
from __future__ import annotations

from ...rules import Bool, Field, Int, List, Map, Obj, Section, Str

ROLES = ("anyone", "author", "triager", "maintainer", "approver")
# Roles granted by configuration or by GitHub (``anyone`` and ``author`` are implicit).
GRANTED_ROLES = ("triager", "maintainer", "approver")

_ROLE_SOURCE = Obj({
    "logins": Field(List(Str()), default=[], doc="GitHub logins that have this role."),
    "teams": Field(List(Str()), default=[],
                   doc="Teams whose members have this role: 'org/team-slug', or 'team-slug' "
                       "for a team of the repository's owner."),
})

_COMMAND_RULE = Obj({
    "enabled": Field(Bool(), default=True, doc="false makes the bot ignore this command here."),
    "roles": Field(List(Str(choices=ROLES)), default=[],
                   doc="Roles that may use the command (any of them). Empty: the command's default."),
})

SECTION = Section(
    "commands",
    doc="Slash commands in comments: roles, per-command permissions, restricted labels.",
    schema=Obj({
        "roles": Field(Obj({role: Field(_ROLE_SOURCE) for role in GRANTED_ROLES}),
                       doc="Extra sources of each role, besides OWNERS/CODEOWNERS and GitHub access."),
        "write_access_is_maintainer": Field(
            Bool(), default=True,
            doc="Collaborators with write access count as maintainers (else as triagers)."),
        "owners_files": Field(
            Bool(), default=True,
            doc="Read OWNERS/OWNERS_ALIASES (approvers -> approver, reviewers -> triager) and "
                "CODEOWNERS (code owners -> approver) from the default branch."),
        "commands": Field(Map(_COMMAND_RULE), doc="Per command (name without the slash)."),
        "restricted_labels": Field(
            Map(List(Str(choices=ROLES))),
            doc="Labels only these roles may add or remove through any command."),
        "how_to_get": Field(Map(Str()), doc="Per role, what a refused user is told to do."),
        "labels": Field(Obj({
            "hold": Field(Str(), default="do-not-merge/hold"),
            "lgtm": Field(Str(), default="lgtm"),
            "approved": Field(Str(), default="approved"),
        }), doc="Labels set by /hold, /lgtm and /approve."),
        "priority_prefix": Field(Str(), default="priority/", doc="/priority NAME sets PREFIX+NAME."),
        "priorities": Field(List(Str()), default=["critical", "high", "medium", "low"],
                            doc="Names /priority accepts."),
        "triage": Field(Map(Obj({
            "label": Field(Str(), required=True),
            "close": Field(Str(choices=("no", "completed", "not_planned")), default="no"),
        })), doc="/triage STATE: the label it sets and whether it closes the issue."),
        "triage_clears": Field(List(Str()), default=["needs-triage"],
                               doc="Labels /triage removes (only those the bot added)."),
        "max_per_comment": Field(Int(min=1, max=50), default=10,
                                 doc="Commands beyond this many in one comment are ignored."),
        "explain_limit": Field(Int(min=1, max=50), default=15,
                               doc="How many recent decisions /explain lists."),
    }),
)

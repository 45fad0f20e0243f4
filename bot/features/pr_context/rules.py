"""The ``components`` rules section: what the project is made of and what a PR card says.

Components are a list, not a mapping, on purpose: a repository's override replaces the
whole list (lists replace, mappings merge), so one repository's components never leak
into another's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.impact import glob_problem
from bot.rules import Bool, Duration, Field, Int, List, Obj, Section, Str

CARD_MARKER = "<!-- contributor-flow:context-card -->"
# UpsertBodySection wraps its marker as "<!-- {marker}:start -->" / ":end -->" itself.
BODY_MARKER = "contributor-flow:context-card"


@dataclass(frozen=True)
class PathGlob(Str):
    """A path glob that compiles. A bad one (``gen/[z-a]*.py``) is a problem of the rules
    file, reported with its line, so the last good config stays in force."""

    def describe(self) -> str:
        return "a path glob"

    def convert(self, value: Any, node: Any, path: str, ctx: Any) -> Any:
        value = super().convert(value, node, path, ctx)
        problem = glob_problem(value) if isinstance(value, str) else None
        if problem:
            return ctx.fail(path, node, f"{value!r} is not a valid path glob: {problem}")
        return value


_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
# A login (an Enterprise Managed User's ends in "_shortcode") or an org/team slug.
_OWNER = r"[A-Za-z0-9][A-Za-z0-9-]*(_[A-Za-z0-9]{1,20}|/[A-Za-z0-9_.-]+)?"

COMPONENT = Obj({
    "name": Field(Str(pattern=_NAME), required=True,
                  doc="Short name; also the label area/<name>."),
    "paths": Field(List(PathGlob(), min_len=1), required=True,
                   doc="Path globs, CODEOWNERS syntax (*.md anywhere, /docs/ at the root, src/**)."),
    "owners": Field(List(Str(pattern=_OWNER)), default=[],
                    doc="Logins or org/team slugs, without @."),
    "depends_on": Field(List(Str(pattern=_NAME)), default=[],
                        doc="Components this one uses: a change there affects this one too."),
    "checklist": Field(List(Str()), default=[],
                       doc="Items the PR template asks for when this component is touched."),
    "guide": Field(Str(), default="",
                   doc="Section of the contributing guide: an #anchor of guide.url, or a full URL."),
})

SECTION = Section(
    name="components",
    doc="Pull-request context card: components, owners, checklists, guide links, reviewers.",
    schema=Obj({
        "components": Field(List(COMPONENT), default=[], doc="The project's components."),
        "card": Field(Str(choices=("comment", "body")), default="comment",
                      doc="Where the card lives: one bot comment, or a section of the PR body."),
        "drafts": Field(Bool(), default=False,
                        doc="Show the card on draft PRs too (reviewers still wait until ready)."),
        "checklist": Field(List(Str()), default=[], doc="Items for every pull request."),
        "guide": Field(Obj({
            "url": Field(Str(), default="",
                         doc="The contributing guide; {repo} is replaced by owner/name."),
            "decision_tree": Field(Str(), default="",
                                   doc="Anchor or URL of the architecture decision tree."),
        }), doc="Links to the contributing guide."),
        "codeowners": Field(Bool(), default=True,
                            doc="Merge the owners from the repository's CODEOWNERS file."),
        "labels": Field(Obj({
            "enabled": Field(Bool(), default=True, doc="Label PRs with their direct components."),
            "prefix": Field(Str(), default="area/", doc="Label prefix before the component name."),
        })),
        "reviewers": Field(Obj({
            "enabled": Field(Bool(), default=True,
                             doc="Request reviews from owners of directly touched components."),
            "max_per_pr": Field(Int(min=0, max=15), default=2,
                                doc="Cap on requested reviewers per PR, counting those already requested."),
            "max_open_reviews": Field(Int(min=1), default=10,
                                      doc="Skip an owner with this many open review requests."),
            "load_source": Field(Str(choices=("search", "store")), default="search",
                                 doc="Count open review requests with the search API, or from the "
                                     "requests this bot made (cheaper, blind to human requests)."),
        })),
        "first_timers": Field(Obj({
            "scope": Field(Str(choices=("repo", "org")), default="repo",
                           doc="A first-timer has no merged PR in this repository, or in the owner."),
            "welcome": Field(List(Str()), default=[],
                             doc="Next steps shown to a first-time contributor."),
        })),
        "response_time": Field(Duration(min=60), default="72h",
                               doc="Expected first response, when the sla section sets none."),
        "refresh_on_checks": Field(List(Str()), default=["cla", "patch-signature", "patch-pipeline"],
                                   doc="Check runs whose completion refreshes the card's status lines."),
        "max_files_listed": Field(Int(min=0, max=100), default=5,
                                  doc="Changed files listed per component in the card."),
    }),
)

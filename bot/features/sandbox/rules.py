"""The ``sandbox`` rules section (bundled defaults in rules/sandbox.yml: off)."""
from __future__ import annotations

from ...rules import Bool, Field, List, Obj, Section, Str

# GitHub's environment names: up to 255 characters, no control characters (and the bot shows
# it on cards, so no line breaks).
_ENVIRONMENT = r"[^\x00-\x1f\x7f]{1,255}"
# A branch name as git allows it, roughly: no spaces, no control characters, no ``..``.
_BRANCH = r"(?!.*\.\.)[^\x00-\x20\x7f~^:?*\[\\]{1,255}"
# A status context or check name required before GitHub creates the deployment.
_CONTEXT = r"[^\x00-\x1f\x7f]{1,255}"

SECTION = Section(
    name="sandbox",
    doc="Tells contributors on their pull request's card when their merged change is live in "
        "the project's sandbox (a GitHub deployment environment); may ask for the deployments.",
    schema=Obj({
        "environment": Field(Str(pattern=_ENVIRONMENT), default="sandbox",
                             doc="The deployment environment that is the sandbox."),
        "branches": Field(List(Str(pattern=_BRANCH)), default=[],
                          doc="Branches whose merged pull requests wait for the sandbox (and whose "
                              "pushes are deployed with create). Empty: the repository's default branch."),
        "create": Field(Bool(), default=False,
                        doc="Create a deployment of each push to those branches (the project's "
                            "workflow on: deployment deploys it). Off: the project deploys by itself."),
        "required_contexts": Field(List(Str(pattern=_CONTEXT)), default=[],
                                   doc="Status checks GitHub must see succeed on the commit before it "
                                       "creates the deployment (with create)."),
    }),
)

"""The ``cla`` rules section (bundled defaults in rules/cla.yml)."""
from __future__ import annotations

from ...rules import Bool, Field, Int, List, Obj, OneOf, Section, Str

DEFAULT_PHRASE = "I have read the CLA Document and I hereby sign the CLA"

SECTION = Section(
    name="cla",
    doc="Contributor License Agreement and/or Developer Certificate of Origin check on pull requests.",
    schema=Obj({
        "check_name": Field(Str(pattern=r".{1,100}"), default="cla",
                            doc="Name of the check run branch protection can require."),
        "mode": Field(Str(choices=("cla", "dco", "both")), default="cla",
                      doc="cla: signatures; dco: Signed-off-by on every commit; both."),
        "agreement": Field(Str(), default="",
                           doc="Key naming the agreement: repositories sharing it share signatures. "
                               "Empty means the repository owner (one CLA per organisation)."),
        "version": Field(OneOf(Int(min=1), Str(pattern=r"[A-Za-z0-9._-]{1,40}")), default="1",
                         doc="Raising it asks everyone for a new signature."),
        "phrase": Field(Str(pattern=r"(?s).*\S.*"), default=DEFAULT_PHRASE,
                        doc="The comment that signs (case, spacing and final punctuation forgiven)."),
        "document_url": Field(Str(pattern=r"(https?://\S+)?"), default="",
                              doc="Where the agreement can be read (also the check's details link)."),
        "committer_required": Field(Bool(), default=False,
                                    doc="Committers (not only authors and co-authors) must sign too."),
        "comment": Field(Bool(), default=True,
                         doc="Keep one explanatory comment on failing pull requests."),
        "labels": Field(Obj({
            "signed": Field(Str(), default="cla: yes", doc="Label when the check passes ('' for none)."),
            "missing": Field(Str(), default="cla: no", doc="Label when it fails ('' for none)."),
        })),
        "allowlist": Field(Obj({
            "bots": Field(Bool(), default=True, doc="Bot accounts need no signature."),
            "logins": Field(List(Str()), default=[], doc="Logins that need no signature."),
            "email_domains": Field(List(Str(pattern=r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}")), default=[],
                                   doc="Commit email domains covered by a corporate CLA "
                                       "(subdomains included). Commit emails are not verified."),
            "orgs": Field(List(Str(pattern=r"[A-Za-z0-9-]+")), default=[],
                          doc="Members of these organisations are covered (corporate CLA)."),
            "teams": Field(List(Str(pattern=r"[A-Za-z0-9-]+/[A-Za-z0-9_.-]+")), default=[],
                           doc="Members of these teams (org/team-slug) are covered."),
        })),
    }),
)

"""The ``pipeline`` rules section (bundled defaults in rules/pipeline.yml)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ...rules import Duration, Field, List, Obj, Section, Str

_PEM = r"(?s)\s*-----BEGIN PUBLIC KEY-----.+-----END PUBLIC KEY-----\s*"


@dataclass(frozen=True)
class BranchGlob(Str):
    """A branch name as git allows it, ``*`` standing for a glob (see pushes.branch_matches)."""

    def describe(self) -> str:
        return "a branch name or glob"

    def convert(self, value: Any, node: Any, path: str, ctx: Any) -> Any:
        if isinstance(value, str):
            why = branch_glob_problem(value)
            if why:
                return ctx.fail(path, node, f"{value!r} is not a branch name or glob: {why}")
        return super().convert(value, node, path, ctx)


def branch_glob_problem(pattern: str) -> str | None:
    if not pattern.strip():
        return "it is empty"
    if pattern.startswith("refs/"):
        return "name the branch alone (go, not refs/heads/go)"
    if re.search(r"[\s~^:?\[\\]", pattern):
        return "a branch name has no spaces and none of ~ ^ : ? [ \\ (only * is a wildcard)"
    if pattern.startswith("/") or pattern.endswith("/") or "//" in pattern:
        return "a branch name neither starts nor ends with / and has no //"
    return None


SECTION = Section(
    name="pipeline",
    doc="Signed patch verification: which files are patches, who may sign them, and the "
        "pipeline (patch-apply, kselftest, boot-to-initrd) triggered once every patch verifies.",
    schema=Obj({
        "patches": Field(List(Str()), default=["patches/**/*.patch", "patches/**/*.mbox"],
                         doc="Globs (gitignore style) of the files that are patches."),
        "signatures": Field(Obj({
            "bundle": Field(Str(pattern=r".*\{path\}.*"), default="{path}.sigstore.json",
                            doc="Where a patch's Sigstore bundle lives; {path} is the patch path."),
            "signature": Field(Str(pattern=r".*\{path\}.*"), default="{path}.sig",
                               doc="Where a patch's plain cosign signature (base64) lives."),
        })),
        "trust": Field(Obj({
            "instance": Field(Str(choices=("production", "staging")), default="production",
                              doc="Sigstore instance whose trust root (shipped with sigstore) is used."),
            "identities": Field(List(Obj({
                "identity": Field(Str(pattern=r".+"), required=True,
                                  doc="Certificate identity (SAN): an email or a workflow URI."),
                "issuer": Field(Str(pattern=r"https://.+"), required=True,
                                doc="OIDC issuer that must have vouched for the identity."),
            })), default=[], doc="Accepted keyless signers."),
            "keys": Field(List(Obj({
                "name": Field(Str(pattern=r"[A-Za-z0-9._@-]{1,64}"), required=True,
                              doc="Shown as the signer when this key verifies."),
                "pem": Field(Str(pattern=_PEM), required=True,
                             doc="ECDSA P-256 public key, PEM (cosign.pub)."),
            })), default=[], doc="Accepted public keys (fallback when a patch has no keyless bundle)."),
            "keys_for": Field(List(Str()), default=[],
                              doc="Patch globs where key signatures are accepted even next to a "
                                  "keyless bundle (a failing keyless bundle may then be rescued)."),
        })),
        "trigger": Field(Obj({
            "kind": Field(Str(choices=("workflow_dispatch", "repository_dispatch")),
                          default="workflow_dispatch", doc="How the pipeline is started."),
            "workflow": Field(Str(pattern=r"[A-Za-z0-9._-]+\.ya?ml"), default="patch-pipeline.yml",
                              doc="Workflow file (in .github/workflows) that runs the stages; its "
                                  "runs are tracked. Its run-name must contain the head SHA."),
            "ref": Field(Str(pattern=r".+"), default="main",
                         doc="Branch the workflow_dispatch runs on (the patches come as inputs)."),
            "event_type": Field(Str(pattern=r".{1,100}"), default="patch-pipeline",
                                doc="repository_dispatch event type."),
        })),
        "stages": Field(List(Obj({
            "name": Field(Str(pattern=r"[A-Za-z0-9._-]{1,60}"), required=True, doc="Stage name shown."),
            "job": Field(Str(pattern=r".{1,200}"), required=True,
                         doc="Workflow job name that is this stage (a matrix 'job (x)' counts)."),
            "timeout": Field(Duration(min=1), required=True,
                             doc="Longest the stage may run before the sweep concludes it timed_out."),
        }), min_len=1), default=[
            {"name": "patch-apply", "job": "patch-apply", "timeout": "90s"},
            {"name": "kselftest-go", "job": "kselftest-go", "timeout": "5m"},
            {"name": "boot-to-initrd", "job": "boot-to-initrd", "timeout": "3m"},
        ], doc="Stages in order."),
        "queue_grace": Field(Duration(min=0), default="10m",
                             doc="Extra time a stage that has not started yet may wait for a runner."),
        "push_branches": Field(List(BranchGlob()), default=[],
                               doc="Branches (globs: * within a path segment, ** across them) whose "
                                   "direct pushes are gated like pull requests (pr_number 0). Empty: "
                                   "pushes are not gated."),
    }),
)

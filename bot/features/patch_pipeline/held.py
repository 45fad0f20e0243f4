"""The patch verdicts the feature holds for one head, for checks reported elsewhere than on the
pull request itself (a merge group's commit, see bot.features.merge_queue).

Carried as they stand: the signature verdict of the head (a head decided again after the trust
policy changed is recorded as refused, so a signature no longer trusted shows here too) and the
pipeline run's state, which the group's check follows until the run ends.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ...core.markdown import code, neutralize
from ...core.merge_group import HeldCheck
from ...store.db import Database
from . import store, tracking
from .tracking import PIPELINE_CHECK
from .verification import SIGNATURE_CHECK

SECTION = "pipeline"


def check_names(rules: Any) -> tuple[str, ...]:
    """The checks this feature reports on pull requests that touch patches, when it is on."""
    if SECTION not in rules or not rules.enabled(SECTION):
        return ()
    return (SIGNATURE_CHECK, PIPELINE_CHECK)


def _patch_list(row: Mapping[str, Any]) -> str:
    patches = json.loads(row["patches"] or "[]")
    shown = [f"- {code(p)}" for p in patches[:50]]
    if len(patches) > 50:
        shown.append(f"- … and {len(patches) - 50} more")
    return "\n".join(shown)


async def held_checks(db: Database, repo: str, head_sha: str,
                      section: Mapping[str, Any]) -> dict[str, HeldCheck]:
    """Check name -> the verdict held for ``head_sha``: the signature verdict once the head was
    decided, the pipeline's once it was dispatched; empty when no patch of it was decided."""
    found = await store.run_for_head(db, repo, head_sha)
    if found is None:
        return {}
    row, run = found
    patches = _patch_list(row)
    if row["status"] == store.REJECTED:
        return {SIGNATURE_CHECK: HeldCheck(head_sha, conclusion="failure", title="Patches not verified", summary=(
            f"Not every patch of {code(head_sha[:7])} verifies against the trust policy: "
            f"{neutralize(row['reason'], max_len=2000)}\n\n{patches}").strip())}
    count = len(json.loads(row["patches"] or "[]"))
    signed = HeldCheck(head_sha, conclusion="success", title=f"{count} patch{'es' if count != 1 else ''} signed",
                       summary=(f"Every patch of {code(head_sha[:7])} verified against the trust policy"
                                + (f", signed by {neutralize(row['signers'])}" if row["signers"] else "")
                                + f".\n\n{patches}").strip())
    shown = tracking.check(repo, run, section, signers=row.get("signers") or "", run_url=row.get("run_url"))
    pipeline = HeldCheck(head_sha, status=shown.status, conclusion=shown.conclusion, title=shown.title,
                         summary=shown.summary)
    return {SIGNATURE_CHECK: signed, PIPELINE_CHECK: pipeline}

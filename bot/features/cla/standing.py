"""The CLA verdict of a pull request as it stands now, for a check reported elsewhere than on
the pull request itself (a merge group's commit, see bot.features.merge_queue).

The recorded verdict is weighed again against the signature store and the rules in force,
without reading the commits again: who had to sign was settled by the pull request's own check
(the group's merge commit is GitHub's and adds nobody), while whether they have signed the
version now in force can change (the version raised since, a signature recorded since).
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from ...core import cla_report
from ...core.cla import Account, weigh_again
from ...core.markdown import code
from ...core.merge_group import HeldCheck
from ...store.db import Database
from . import store
from .check import FEATURE_NAME, agreement_key


def check_names(rules: Any) -> tuple[str, ...]:
    """The name of the check this feature reports on every pull request, when it is on."""
    if FEATURE_NAME not in rules or not rules.enabled(FEATURE_NAME):
        return ()
    return (str(rules.section(FEATURE_NAME)["check_name"]),)


def _people(row: Mapping[str, Any]) -> list[Account]:
    seen: dict[int, Account] = {}
    for person in [*json.loads(row["signed"] or "[]"), *json.loads(row["missing"] or "[]")]:
        seen.setdefault(int(person["id"]), Account(str(person["login"]), int(person["id"])))
    return list(seen.values())


async def held_check(db: Database, repo: str, cfg: Mapping[str, Any], number: int) -> HeldCheck | None:
    """The pull request's CLA verdict weighed again now, for the head it was decided for; None
    when the bot never checked this pull request."""
    row = await store.status_of(db, repo, number)
    if row is None:
        return None
    head = str(row["head_sha"])
    if row.get("version") is None or row.get("mode") is None:
        # Recorded before verdicts kept what they were decided with: carried as it is.
        missing = [str(m["login"]) for m in json.loads(row["missing"] or "[]")]
        return HeldCheck(head, conclusion=str(row["conclusion"]),
                         title=cla_report.status_line(row["state"], missing, int(row["unlinked"]), int(row["dco"])),
                         summary=f"The verdict of #{number}'s own check at {code(head[:7])}, carried as recorded.")
    if row["mode"] != cfg["mode"]:
        return HeldCheck(head, conclusion="failure", title="The CLA rules changed since the last check",
                         summary=(f"#{number} was checked in mode {code(row['mode'])}; the rules now say "
                                  f"{code(cfg['mode'])}. Comment `/cla recheck` on #{number}."))
    people = _people(row)
    signatures = (await store.signed_versions(db, agreement_key(repo, cfg), [p.id for p in people],
                                              str(cfg["version"])) if people else {})
    standing = weigh_again(mode=str(cfg["mode"]), version=str(cfg["version"]), people=people,
                           signatures=signatures, unlinked_emails=int(row["unlinked"]),
                           dco_failures=int(row["dco"]))
    ins = cla_report.Instructions(cfg["phrase"], cfg["document_url"])
    return HeldCheck(head, conclusion=standing.conclusion, title=cla_report.standing_title(standing),
                     summary=cla_report.standing_summary(standing, number=number, head_sha=head,
                                                         decided_version=row["version"], ins=ins))

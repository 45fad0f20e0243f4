"""What a CLA verdict is recorded with besides its outcome (``cla_pr_status.facts`` and
``.members``), so it can be weighed again elsewhere than on its pull request (a merge group's
check, see ``standing``) without reading the commits again.

The facts of the commits are kept whatever the rules were when they were read: who the work is
by (committers included, allowlisted or not; the pull request's opener too, role ``opener``) and
which commits lack a sign-off (bots' apart). Facts recorded before the opener was kept lack
someone who must be covered (``opener_kept`` False): ``standing`` completes them with GitHub's
word, or holds.
The rules can change while a pull request waits in the queue (an organisation allowlisted, the
mode switched from ``both`` to ``dco``), and the group's check must then say what the pull
request's own re-check would say: so the rules in force are applied to the facts when weighing,
as the check applies them to the commits (``bot.core.cla.owed``), rather than to a verdict
already narrowed by the rules of its day.

Membership answers (organisation and team allowlists) are GitHub's word at one moment, kept for
the orgs and teams they were asked about: see ``standing`` for when they are asked again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from ...core.cla import (OPENER, Account, Commit, Contribution, Person, contributions, signoffs_missing,
                         with_opener)


# Unlinked co-author emails kept with a verdict, at most. Authors and committers are bounded by
# the commits, linked co-authors by the lookups (``lookups.resolve_emails``); a message may name
# any number of co-authors GitHub links to nobody, and the facts are written with every check of
# the pull request and read on every run of the merge queue's follow job.
MAX_UNLINKED_KEPT = 500


@dataclass(frozen=True)
class Facts:
    who: tuple[Contribution, ...]       # each (role, email, account) once; sha left out
    signoffs_missing: tuple[int, int]   # commits without a matching sign-off: (by people, by bots)
    # Distinct unlinked co-author emails past MAX_UNLINKED_KEPT, not kept: unlinked whatever the
    # rules say when weighing (no allowlisted domain is known to cover them).
    unlinked_beyond: int = 0
    # Whether the opener was kept (facts recorded since it must be covered; False: older facts).
    opener_kept: bool = True

    def with_opener(self, opener: Account | None) -> "Facts":
        """Older facts completed with who opened the pull request, as GitHub names them."""
        kept = [] if opener is None else [Contribution("", OPENER, Person("", ""), opener)]
        return replace(self, who=(*kept, *self.who), opener_kept=True)

    def due(self, *, committer_required: bool) -> list[Contribution]:
        """The contributions a check under ``committer_required`` would weigh."""
        opener = next((c.account for c in self.who if c.role == OPENER), None)
        return with_opener([c for c in self.who if c.role != OPENER
                            and (committer_required or c.role != "committer")], opener)

    def dco_failures(self, *, bots_allowed: bool) -> int:
        people, bots = self.signoffs_missing
        return people if bots_allowed else people + bots


def facts_of(commits: Sequence[Commit], resolved: Mapping[str, Account | None],
             opener: Account | None = None) -> Facts:
    who: dict[tuple[str, str, int | None], Contribution] = {}
    unlinked_co_authors: set[str] = set()
    beyond: set[str] = set()
    # The opener is kept apart from whether it is among the others: with committers left out
    # (``due``), an opener who is only a committer is owed as the opener again.
    opener_kept = [] if opener is None else [Contribution("", OPENER, Person("", ""), opener)]
    for c in [*opener_kept, *contributions(commits, committer_required=True, resolved=resolved)]:
        key = (c.role, c.person.key, c.account.id if c.account else None)
        if key in who:
            continue
        if c.role == "co-author" and c.account is None:
            if len(unlinked_co_authors) >= MAX_UNLINKED_KEPT:
                beyond.add(c.person.key)
                continue
            unlinked_co_authors.add(c.person.key)
        who[key] = Contribution("", c.role, Person("", c.person.key), c.account)
    kept = {c.person.key for c in who.values() if c.account is None}
    return Facts(tuple(who.values()), signoffs_missing(commits), len(beyond - kept))


def facts_to_json(facts: Facts) -> dict[str, Any]:
    def identity(c: Contribution) -> dict[str, Any]:
        account = {"id": c.account.id, "login": c.account.login, "type": c.account.type} if c.account else {}
        return {"role": c.role, "email": c.person.email, **account}
    return {"who": [identity(c) for c in facts.who], "signoffs_missing": list(facts.signoffs_missing),
            "unlinked_beyond": facts.unlinked_beyond, "opener_kept": facts.opener_kept}


def facts_from_json(raw: str | None) -> Facts | None:
    """None for a verdict recorded before its facts were kept."""
    if not raw:
        return None
    data = json.loads(raw)
    who = tuple(Contribution("", str(i["role"]), Person("", str(i["email"])),
                             Account(str(i["login"]), int(i["id"]), str(i["type"])) if "id" in i else None)
                for i in data["who"])
    people, bots = data["signoffs_missing"]
    # Facts kept with the opener before the flag was written hold an ``opener`` entry.
    kept = bool(data.get("opener_kept")) or any(c.role == OPENER for c in who)
    return Facts(who, (int(people), int(bots)), int(data.get("unlinked_beyond") or 0), kept)


# --- organisation and team membership -----------------------------------------------------------

def member_basis(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    """The organisations and teams whose members need no signature, as answers are kept for."""
    allow = cfg["allowlist"]
    return tuple(sorted({str(x).lower() for x in [*allow["orgs"], *allow["teams"]]}))


@dataclass(frozen=True)
class Members:
    """GitHub's answers about some accounts: covered by one of ``of`` or not."""
    of: tuple[str, ...] = ()
    asked: frozenset[int] = frozenset()
    covered: frozenset[int] = frozenset()
    # Of those asked, the accounts GitHub no longer knows (deleted): no member, whatever is asked.
    gone: frozenset[int] = frozenset()

    def for_basis(self, basis: tuple[str, ...]) -> "Members":
        """The answers, if they were given for these orgs and teams: an org added since was never
        asked about, and one removed may be the one that covered someone."""
        return self if self.of == basis else Members(basis)

    def unknown(self, accounts: Iterable[Account]) -> list[Account]:
        return [a for a in accounts if a.id not in self.asked]

    def merged(self, newer: "Members") -> "Members":
        """The newer answers over these (for the same orgs and teams; else only the newer)."""
        if newer.of != self.of:
            return newer
        return Members(self.of, self.asked | newer.asked, (self.covered - newer.asked) | newer.covered,
                       (self.gone - newer.asked) | newer.gone)


def members_to_json(members: Members) -> dict[str, Any]:
    out = {"of": list(members.of), "asked": sorted(members.asked), "covered": sorted(members.covered)}
    return {**out, "gone": sorted(members.gone)} if members.gone else out


def members_from_json(raw: str | Mapping[str, Any] | None) -> Members:
    """The answers as stored (JSON text) or as a Record carries them (``members_to_json``)."""
    if not raw:
        return Members()
    data = json.loads(raw) if isinstance(raw, str) else raw
    return Members(tuple(data["of"]), frozenset(map(int, data["asked"])), frozenset(map(int, data["covered"])),
                   frozenset(map(int, data.get("gone") or ())))

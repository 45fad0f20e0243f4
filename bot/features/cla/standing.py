"""The CLA verdict of a pull request as it stands now, for a check reported elsewhere than on
the pull request itself (a merge group's commit, see bot.features.merge_queue).

The verdict is weighed again without reading the commits again: they cannot change for one head
(the group's merge commit is GitHub's and adds nobody), and their facts were recorded with the
verdict (``recorded``). What can change is weighed as the pull request's own re-check would
weigh it: the rules in force (mode, CLA version, committers, the allowlist with its
organisations and teams) applied to those facts, and the signatures now on record.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from ...context import GitHubReader
from ...core import cla_report
from ...core.actions import Record
from ...core.retry import RetryLater
from ...core.cla import Account, Contribution, Person, Standing, account_from_api, owed, weigh_again, with_opener
from ...core.markdown import code
from ...core.merge_group import HeldCheck
from ...store.db import Database
from . import lookups, recorded, store
from .check import FEATURE_NAME, CheckEnv, agreement_key, base_allowlist, recheck_numbers

RULES_CHANGED = "The CLA rules changed since the last check"
MAX_LISTED = 50
# Those who signed are asked about ahead of need (see ``_members``), up to this many: a pull
# request naming hundreds of co-authors must not spend the installation's hourly budget on one
# group's check. Past it, a version raised while queued gets the conservative answer.
MAX_ASKED_AHEAD = 20


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


def _due(row: Mapping[str, Any], facts: recorded.Facts | None, opener: Account | None,
         cfg: Mapping[str, Any]) -> tuple[list[Contribution], int, int]:
    """Under the rules in force: (the contributions to weigh, unlinked emails counted as recorded
    rather than weighed, commits without a sign-off). ``opener``: who opened the pull request,
    for a verdict recorded without them."""
    if facts is None:
        # Recorded before the facts were kept: who had to sign as the rules of the day said
        # (the allowlist in force still applies to them, by account), the rest as counted then.
        people = [Contribution("", "author", Person("", ""), p) for p in _people(row)]
        return with_opener(people, opener), int(row["unlinked"]), int(row["dco"])
    if not facts.opener_kept:
        facts = facts.with_opener(opener)
    return (facts.due(committer_required=bool(cfg["committer_required"])), facts.unlinked_beyond,
            facts.dco_failures(bots_allowed=bool(cfg["allowlist"]["bots"])))


def _opener_on_record(row: Mapping[str, Any], facts: recorded.Facts | None) -> tuple[bool, Account | None]:
    """(whether the verdict's inputs say who opened the pull request, the opener to add to them).
    Facts kept since the opener must be covered hold them; for older verdicts, what GitHub said
    to a group's check (``store.opener``), if it was asked."""
    if facts is not None and facts.opener_kept:
        return True, None
    if row.get("opener") is None:
        return False, None
    return True, account_from_api(json.loads(row["opener"]) or None)


def _opener_unknown(row: Mapping[str, Any], number: int, *, weighable: bool) -> HeldCheck:
    """A verdict recorded before whoever opened the pull request had to be covered, weighed
    without GitHub (the follow job): passing it could let an unsigned opener through (they may
    have authored nothing), failing it would take the pull request out of the queue for the
    bot's own gap. It waits; a re-run of this check has GitHub (it asks who opened the pull
    request, or checks it again when the inputs cannot be weighed), and the check follows
    #number's verdict, so ``/cla recheck`` there ends the wait too. Never under ``mode: dco``,
    which has no signer."""
    head = str(row["head_sha"])
    how = ("Re-run this check (GitHub is asked then who opened it)" if weighable
           else "Re-run this check (the pull request is checked again then)")
    return HeldCheck(head, status="in_progress", title=f"Waiting to know who opened #{number}",
                     summary=(f"#{number}'s CLA verdict at {code(head[:7])} was recorded by a version of the bot "
                              "that did not check whoever opened the pull request, who must be covered too "
                              f"(signed, or allowlisted): it cannot pass as it stands. {how}, or comment "
                              f"`/cla recheck` on #{number}: this check follows its new verdict."))


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _checked_again(db: Database, repo: str, cfg: Mapping[str, Any], number: int, gh: GitHubReader,
                         clock: Callable[[], datetime] | None, row: Mapping[str, Any]) -> HeldCheck:
    """A passing verdict recorded before verdicts kept their inputs, with GitHub at hand (the
    queue asking, or a re-run): it cannot be weighed again, so the pull request is checked again
    now, as ``/cla recheck`` would check it, rather than waiting for someone to ask. Its actions
    (the new verdict, the pull request's check run, labels, comment) come back as the
    HeldCheck's records, sent before the group's check; the group's check is in progress until
    the follow job weighs the new verdict (its next run)."""
    head = str(row["head_sha"])
    env = CheckEnv(repo, dict(cfg), gh, db, clock or _now)
    try:
        actions = await recheck_numbers(env, [number])
    except RetryLater:
        # The commit listing is catching up with a push (the job-like re-check does not wait for
        # it here): the next re-run, or the push's own check, decides.
        return _opener_unknown(row, number, weighable=False)
    if not any(isinstance(a, Record) and a.op in ("pr_status", "pr_closed") for a in actions):
        # No verdict (a commit walk that came up short): nothing new for the follow job to weigh.
        return replace(_opener_unknown(row, number, weighable=False), records=tuple(actions))
    return HeldCheck(head, status="in_progress", title=f"Checking #{number} again",
                     summary=(f"#{number}'s CLA verdict at {code(head[:7])} was recorded by a version of the bot "
                              "that did not keep what it was decided with, so it cannot be weighed again here: "
                              f"#{number} is being checked again now, and this check follows its new verdict."),
                     records=tuple(actions))


async def _members(gh: GitHubReader | None, repo: str, number: int, row: Mapping[str, Any],
                   cfg: Mapping[str, Any], people: Sequence[Account], unsigned: Sequence[Account]
                   ) -> tuple[recorded.Members, list[Account], tuple[Record, ...]]:
    """Membership answers for the accounts that have not signed, as the pull request's re-check
    asks for them: (the answers, the unsigned accounts nobody asked about, Records keeping new
    answers).

    With GitHub (the queue asking for the group's checks, or a re-run) they are asked now, as
    ``/cla recheck`` would ask them (as many as it would: ``lookups.MAX_MEMBERSHIP_LOOKUPS``
    questions, the rest counting as no member), and kept with the verdict. Some who have signed are asked
    too: the follow job reads no GitHub (it runs every 30 seconds for every queued group) and
    uses the answers kept for this head, so a CLA version raised while the group is queued still
    finds its organisation members covered, as the re-check would. An account nobody asked
    about (an organisation allowlisted while the group is queued) counts as no member there: the
    answer that cannot let an unsigned contribution through; the summary says how to have it
    asked."""
    basis = recorded.member_basis(cfg)
    if not basis or not people:
        return recorded.Members(basis), [], ()
    known = recorded.members_from_json(row.get("members")).for_basis(basis)
    if gh is None:
        return known, known.unknown(unsigned), ()
    # The unsigned are asked afresh, as the re-check asks; of those who signed, only the ones no
    # earlier answer for this head covers (a group requeued or re-run asks nobody twice).
    waiting = {a.id for a in unsigned}
    ahead = [p for p in people if p.id not in waiting and p.id not in known.asked]
    ask = [*unsigned, *ahead[:MAX_ASKED_AHEAD]]
    if not ask:
        return known, [], ()
    # The logins are the check's (a rename since frees the old one for someone else): asked
    # by each account's login now.
    found = await lookups.covered_members(gh, ask, cfg["allowlist"]["orgs"], cfg["allowlist"]["teams"],
                                          logins_may_be_stale=True)
    answers = recorded.Members(basis, found.asked, found.covered, found.gone)
    keep = Record(repo, feature=FEATURE_NAME, op="members", args={
        "repo": repo, "number": number, "head_sha": str(row["head_sha"]),
        **recorded.members_to_json(answers)})
    return answers, answers.unknown(unsigned), (keep,)


def _listed(lines: list[str]) -> list[str]:
    return lines[:MAX_LISTED] + ([f"- … and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else [])


def _notes(standing: Standing, *, number: int, decided_mode: str, unknown: Sequence[Account],
           basis: Sequence[str], asked_now: bool, gone: Sequence[Account] = ()) -> list[str]:
    """What the shared standing summary does not say: a mode changed since the check, who needs
    no signature now, accounts GitHub no longer knows, and memberships nobody asked about."""
    out: list[str] = []
    if decided_mode != standing.mode:
        out += ["", f"#{number} was checked in mode {code(decided_mode)}; the rules now say {code(standing.mode)}, "
                "under which this check weighs what that check recorded of the commits. Comment "
                f"`/cla recheck` on #{number} to bring its own check up to date."]
    if standing.allowlisted:
        lines = [f"- {code(who)} ({reason})" for who, reason in standing.allowlisted]
        out += ["", f"### Allowlisted ({len(lines)})", *_listed(lines)]
    if gone:
        who = ", ".join(code(a.login) for a in gone[:MAX_LISTED])
        more = f" and {len(gone) - MAX_LISTED} more" if len(gone) > MAX_LISTED else ""
        out += ["", f"GitHub no longer knows {who}{more} (deleted since #{number} was checked): no member of "
                f"{', '.join(code(b) for b in basis)}, and no re-run will change that."]
    if unknown:
        who = ", ".join(code(a.login) for a in unknown[:MAX_LISTED])
        more = f" and {len(unknown) - MAX_LISTED} more" if len(unknown) > MAX_LISTED else ""
        start = (f"Whether {who}{more} {'is' if len(unknown) == 1 else 'are'} covered as a member of "
                 f"{', '.join(code(b) for b in basis)}")
        if asked_now:
            out += ["", f"{start} was not asked: at most {lookups.MAX_MEMBERSHIP_LOOKUPS} requests about "
                    "memberships (each account's login now, then its memberships) are made per check, and whoever "
                    "they do not reach counts as no member."]
        else:
            out += ["", f"{start} was never asked for this head: GitHub is asked when "
                    "the merge queue asks for this check, or on its re-run, not while the check follows the "
                    f"pull request. Re-run this check, or comment `/cla recheck` on #{number}."]
    return out


def _rules_changed(row: Mapping[str, Any], cfg: Mapping[str, Any], number: int) -> HeldCheck:
    return HeldCheck(str(row["head_sha"]), conclusion="failure", title=RULES_CHANGED,
                     summary=(f"#{number} was checked in mode {code(row['mode'])} by a version of the bot "
                              f"that did not keep the facts of its commits; the rules now say {code(cfg['mode'])}. "
                              f"Comment `/cla recheck` on #{number}."))


async def held_check(db: Database, repo: str, cfg: Mapping[str, Any], number: int, *,
                     gh: GitHubReader | None = None, opener: Account | None = None,
                     clock: Callable[[], datetime] | None = None) -> HeldCheck | None:
    """The pull request's CLA verdict weighed again now, for the head it was decided for; None
    when the bot never checked this pull request. ``gh``: GitHub, to ask memberships of (see
    ``_members``); its new answers come back as the HeldCheck's records. ``opener``: who opened
    the pull request as GitHub names them, read with ``gh`` (None without it: not read); kept
    (a record) for a verdict recorded without them. ``clock``: the time of a re-check of the
    pull request made with ``gh`` (see ``_checked_again``)."""
    row = await store.status_of(db, repo, number)
    if row is None:
        return None
    head = str(row["head_sha"])
    # DCO alone has no signer: who opened the pull request is nobody to cover, so a verdict
    # recorded without them needs nothing more.
    signers = cfg["mode"] != "dco"
    if row.get("version") is None or row.get("mode") is None:
        # Recorded before verdicts kept what they were decided with: carried as it is, unless it
        # passes: whom it weighed is not known (so whether the opener was among them is not),
        # nor under which mode. With GitHub, the pull request is checked again; without it
        # (the follow job) it waits, unless no signer is owed.
        if row["state"] == "yes" and gh is not None:
            return await _checked_again(db, repo, cfg, number, gh, clock, row)
        if row["state"] == "yes" and signers:
            return _opener_unknown(row, number, weighable=False)
        missing = [str(m["login"]) for m in json.loads(row["missing"] or "[]")]
        return HeldCheck(head, conclusion=str(row["conclusion"]),
                         title=cla_report.status_line(row["state"], missing, int(row["unlinked"]), int(row["dco"])),
                         summary=f"The verdict of #{number}'s own check at {code(head[:7])}, carried as recorded.")
    facts = recorded.facts_from_json(row.get("facts"))
    if facts is None and row["mode"] != cfg["mode"]:
        return _rules_changed(row, cfg, number)  # what the other mode checks was never read
    known, on_record = _opener_on_record(row, facts)
    learned: tuple[Record, ...] = ()
    if not known and signers:
        if gh is None:
            return _opener_unknown(row, number, weighable=True)
        on_record = opener
        learned = (Record(repo, feature=FEATURE_NAME, op="opener", args={
            "repo": repo, "number": number,
            "opener": None if opener is None else {"id": opener.id, "login": opener.login, "type": opener.type}}),)
    mode, version = str(cfg["mode"]), str(cfg["version"])
    allow = base_allowlist(cfg)
    due, unlinked_then, dco_failures = _due(row, facts, on_record, cfg)
    people = owed(due, allow).people if mode in ("cla", "both") else ()
    signatures = (await store.signed_versions(db, agreement_key(repo, cfg), [p.id for p in people], version)
                  if people else {})
    unsigned = [p for p in people if signatures.get(p.id) != version]
    members, unknown, records = await _members(gh, repo, number, row, cfg, people, unsigned)
    # Membership stands in for a missing signature only, as in the check (``check.decide``
    # asks about the unsigned alone): a member who signed is listed as covered by signature.
    exempt = members.covered & {a.id for a in unsigned}
    now = owed(due, replace(allow, member_ids=frozenset(exempt)))
    standing = weigh_again(mode=mode, version=version, people=now.people, signatures=signatures,
                           unlinked_emails=now.unlinked_emails + unlinked_then, dco_failures=dco_failures,
                           allowlisted=now.allowlisted)
    ins = cla_report.Instructions(cfg["phrase"], cfg["document_url"])
    summary = cla_report.standing_summary(standing, number=number, head_sha=head,
                                          decided_version=row["version"], ins=ins)
    notes = _notes(standing, number=number, decided_mode=str(row["mode"]), unknown=unknown, basis=members.of,
                   asked_now=gh is not None, gone=[a for a in unsigned if a.id in members.gone])
    return HeldCheck(head, conclusion=standing.conclusion, title=cla_report.standing_title(standing),
                     summary="\n".join([summary, *notes])[:65_000], records=(*learned, *records))

"""One CLA/DCO check of one pull request: read, decide (bot.core.cla), return the actions.

Used by the pull_request handlers, by signing (every waiting PR of the signer), by the
``/cla`` commands and by the periodic re-check, so it takes a small environment rather than
an event context.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping

from ...context import Context, GitHubReader, RepoHandle
from ...core import cla_report
from ...core.actions import (Action, AddLabels, Guard, Note, Record, RemoveLabel, UpsertCheckRun,
                             UpsertComment)
from ...core.cla import (Allowlist, Verdict, account_from_api, commit_from_api, contributions,
                         emails_to_resolve, evaluate)
from ...core.retry import RetryLater
from ...github import PermanentGitHubError
from ...store import deliveries
from ...store.db import Database
from ...store.state import bot_labels, created_key, created_object, released_bot_labels
from . import lookups, recorded, store

FEATURE_NAME = "cla"
COMMENT_MARKER = "contributor-flow:cla"
# Seconds before a check whose commit listing was behind the head is decided again, for at most
# LISTING_GRACE seconds after the event arrived: a few tries, which count as no attempts of the
# delivery's (core.max_attempts, which may be as low as 1), since the grace bounds them by time
# and a retry while deciding holds up every feature of the delivery. A listing that still
# disagrees then is not one catching up with a push: a note says so and the next push, re-run
# or ``/cla recheck`` decides the head.
LISTING_RETRY = 10.0
LISTING_GRACE = 30.0


@dataclass
class CheckEnv:
    repo: str
    cfg: dict
    gh: GitHubReader
    db: Database
    clock: Callable[[], datetime]
    memo: dict[str, Any] = field(default_factory=dict)
    # When the event deciding arrived (epoch seconds); None for a periodic job, whose retries
    # its queue bounds.
    received_at: float | None = None
    # The periodic job: one run's actions hold many pull requests'. A verdict of its overtaken
    # before it is stored drops that pull request's actions only (``store.pr_status``'s
    # ``stale``), instead of failing the run (retried only once its lease ends) for all of them.
    shared_batch: bool = False

    @classmethod
    def from_context(cls, ctx: Context) -> "CheckEnv":
        return cls(ctx.repo, ctx.rules.section(FEATURE_NAME), ctx.gh, ctx.db, ctx.now, ctx.memo,
                   received_at=ctx.event.received_at.timestamp())

    @classmethod
    def from_handle(cls, handle: RepoHandle, db: Database, clock: Callable[[], datetime],
                    *, shared_batch: bool = False) -> "CheckEnv":
        return cls(handle.repo, handle.rules.section(FEATURE_NAME), handle.gh, db, clock,
                   shared_batch=shared_batch)

    async def cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self.memo:
            self.memo[key] = await load()
        return self.memo[key]

    @property
    def agreement(self) -> str:
        return agreement_key(self.repo, self.cfg)

    @property
    def version(self) -> str:
        return str(self.cfg["version"])


def agreement_key(repo: str, cfg: Mapping[str, Any]) -> str:
    return str(cfg.get("agreement") or repo.split("/", 1)[0]).lower()


def base_allowlist(cfg: Mapping[str, Any]) -> Allowlist:
    """The allowlist without organisation and team members (those are GitHub's to answer)."""
    allow = cfg["allowlist"]
    return Allowlist(bots=bool(allow["bots"]),
                     logins=frozenset(login.lower() for login in allow["logins"]),
                     email_domains=tuple(d.lower().lstrip("@") for d in allow["email_domains"]))


@dataclass(frozen=True)
class Decided:
    verdict: Verdict
    facts: recorded.Facts           # what the commits say whatever the rules: recorded with the verdict
    members: recorded.Members       # the membership answers GitHub gave for this check


async def decide(env: CheckEnv, pr: Mapping[str, Any],
                 just_signed: Mapping[int, str] | None = None, also_read: tuple[str, ...] = ()) -> Decided:
    """``also_read``: agreement keys whose signatures count as the agreement's too (the owner's
    login before a rename this check noticed, copied over only once its Record runs)."""
    cfg = env.cfg
    raw = await env.cached(f"cla:commits:{env.repo}#{pr['number']}@{pr['head']['sha']}",
                           lambda: lookups.pr_commits(env.gh, env.repo, pr))
    commits = [commit_from_api(c) for c in raw]
    resolved = await lookups.resolve_emails(env.gh, emails_to_resolve(commits))
    opener = account_from_api(pr.get("user"))
    allow = base_allowlist(cfg)
    version = env.version
    accounts = {item.account.id: item.account
                for item in contributions(commits, committer_required=cfg["committer_required"],
                                          resolved=resolved, opener=opener)
                if item.account is not None and allow.reason(item) is None}
    signatures = await store.signed_versions(env.db, (env.agreement, *also_read), list(accounts), version)
    signatures.update(just_signed or {})
    unsigned = [a for uid, a in accounts.items() if signatures.get(uid) != version]
    members = recorded.Members(recorded.member_basis(cfg))
    not_asked: tuple[int, ...] = ()
    if unsigned and members.of:
        key = "cla:members:" + ",".join(sorted(a.login for a in unsigned))
        found = await env.cached(key, lambda: lookups.covered_members(
            env.gh, unsigned, cfg["allowlist"]["orgs"], cfg["allowlist"]["teams"]))
        allow = replace(allow, member_ids=found.covered)
        members = recorded.Members(members.of, found.asked, found.covered)
        not_asked = tuple(a.id for a in unsigned if a.id not in found.asked)
    verdict = evaluate(commits, mode=cfg["mode"], version=version,
                       committer_required=cfg["committer_required"], allow=allow,
                       signatures=signatures, resolved=resolved, opener=opener)
    return Decided(replace(verdict, members_not_asked=not_asked), recorded.facts_of(commits, resolved, opener),
                   members)


def _label_actions(env: CheckEnv, number: int, passed: bool, current: set[str],
                   ours: set[str], taken_off: set[str], guard: Guard) -> list[Action]:
    """``current``: the labels on the PR now (read from GitHub, not the payload's copy);
    ``ours``: those the bot put on and nobody took off since (the label ledger); ``taken_off``:
    those the bot put on and someone took off since, which the bot does not put back."""
    labels = env.cfg["labels"]
    want, other = (labels["signed"], labels["missing"]) if passed else (labels["missing"], labels["signed"])
    out: list[Action] = []
    if want and want.lower() not in current and want.lower() not in taken_off:
        out.append(AddLabels(env.repo, number=number, labels=(want,), guard=guard))
    if other and other.lower() in current and other.lower() in ours:
        out.append(RemoveLabel(env.repo, number=number, label=other, guard=guard))
    return out


# A rename made before an owner was first remembered is looked for in the deliveries the bot
# keeps (``_former_logins``), once per owner: at most this many agreement keys, and this many of
# the latest deliveries of each.
MAX_FORMER_KEYS = 50
DELIVERIES_PER_LOGIN = 200


def _owner_of(repository: Mapping[str, Any] | None) -> tuple[int, str] | None:
    owner = (repository or {}).get("owner") or {}
    if owner.get("id") is None or not owner.get("login"):
        return None
    return int(owner["id"]), str(owner["login"]).lower()


async def owner_remembered(env: CheckEnv, repository: Mapping[str, Any] | None, seen_at: float) -> list[Action]:
    """A signature's event remembers who owns the repository (see ``_owner_sighting``), so an
    owner renaming itself before any of its pull requests is checked keeps the signature."""
    owner = _owner_of(repository)
    if owner is None:
        return []
    row = await store.owner_login(env.db, owner[0])
    if row is not None and row["login"] == owner[1]:
        return []
    return [Record(env.repo, feature=FEATURE_NAME, op="owner_seen",
                   args={"owner_id": owner[0], "login": owner[1], "seen_at": seen_at})]


async def _former_logins(env: CheckEnv, owner_id: int, login: str, seen_at: float) -> tuple[str, ...]:
    """Agreement keys that were this owner's login before it was first remembered, as the
    deliveries kept from then say (GitHub's word at the time: the repository's owner, by id and
    login). GitHub's API cannot say it: ``/users/{login}`` answers for whoever holds a login now,
    and no endpoint lists an account's former logins. A key kept deliveries name no owner for (a
    custom ``agreement``), or name another account for (a repository transferred from that
    owner) or several (the login taken by someone else since: whose signature is whose is not
    known), is none of this owner's; nor one seen after this sighting (renamed back since)."""
    async def search() -> tuple[str, ...]:
        found = []
        for key in await store.unowned_agreements(env.db, login, limit=MAX_FORMER_KEYS):
            seen = await deliveries.owner_ids_named(env.db, key, limit=DELIVERIES_PER_LOGIN)
            if seen and {i for i, _ in seen} == {owner_id} and max(at for _, at in seen) < seen_at:
                found.append(key)
        return tuple(found)
    return await env.cached(f"cla:former-logins:{owner_id}:{login}", search)


async def _owner_sighting(env: CheckEnv, pr: Mapping[str, Any], seen_at: float
                          ) -> tuple[list[Action], tuple[str, ...]]:
    """Who owns the repository, as ``pr`` (read at ``seen_at``) shows it: the owner's id and login
    are remembered, and a new login for the same id (the organisation or user renamed itself)
    copies the default agreement's signatures to the new login's key (``store.owner_seen``), as
    the default key is the owner's login. Keying agreements by owner id instead would need every
    stored signature's owner id, which no migration can know. A transfer to another owner (another
    id) copies nothing: another owner may mean another CLA. The logins the owner had before it
    was first remembered are looked for once (``_former_logins``). Returns the actions, and the
    old keys to read as well until the copy is done when this repository uses the default
    agreement."""
    owner = _owner_of((pr.get("base") or {}).get("repo"))
    if owner is None:
        return [], ()
    owner_id, login = owner
    row = await store.owner_login(env.db, owner_id)
    searching = row is None or not row["history_searched"]
    former = await _former_logins(env, owner_id, login, seen_at) if searching else ()
    # Every check noticing it says so (a job checking several PRs repeats it): the writer is
    # idempotent, and a check that ends without a verdict drops its actions, this one included.
    args: dict[str, Any] = {"owner_id": owner_id, "login": login, "seen_at": seen_at}
    if searching:
        args.update(former=list(former), searched=True)
    record = Record(env.repo, feature=FEATURE_NAME, op="owner_seen", args=args)
    renamed = row is not None and row["login"] != login and float(row["seen_at"]) <= seen_at
    if not (searching or renamed):
        return [], ()
    actions: list[Action] = [record]
    old = [str(row["login"])] if renamed and row is not None else []
    if old:
        actions.append(Note(env.repo, feature=FEATURE_NAME, number=int(pr["number"]),
                            text=f"repository owner {old[0]} is {login} now: CLA signatures of "
                                 f"agreement {old[0]} copied to {login}"))
    if former:
        actions.append(Note(env.repo, feature=FEATURE_NAME, number=int(pr["number"]),
                            text=f"repository owner {login} was {', '.join(former)} before it was first "
                                 f"remembered (the deliveries kept from then say so): CLA signatures of "
                                 f"agreement {', '.join(former)} copied to {login}"))
    default = not env.cfg.get("agreement") and env.agreement == login
    return actions, (tuple([*old, *former]) if default else ())


async def comment_posted(env: CheckEnv, number: int) -> bool:
    """Whether the PR's CLA comment was really posted (the executor remembers each sticky
    comment it made or found, by its marker), not merely decided: a failing verdict's comment
    overtaken by a newer verdict before it went out was never posted, so a later passing verdict
    has no comment to turn into "everyone signed"."""
    key = created_key(UpsertComment(env.repo, number=number, marker=COMMENT_MARKER), FEATURE_NAME)
    return key is not None and await created_object(env.db, key) is not None


async def _listing_behind(env: CheckEnv, pr: Mapping[str, Any], exc: Exception,
                          just_signed: Mapping[int, str] | None, previous: Mapping[str, Any] | None,
                          *, refreshed: bool) -> list[Action]:
    """The commit listing is another head's: never a verdict from it. Moved on (a push since),
    the head needs no verdict: the newer head's own event decides it. Still at the head, the
    pull request ``pr`` (a stored payload) may report a commit count that is no longer true (the
    base branch changed, a pull request stacked below merged): it is decided again as GitHub
    shows it now. Otherwise the listing is catching up with the push, so the check is decided
    again shortly, for LISTING_GRACE after the event."""
    number, head = int(pr["number"]), str(pr["head"]["sha"])
    fresh = await lookups.get_pull(env.gh, env.repo, number)
    now = str((fresh.get("head") or {}).get("sha") or "")
    if now and now != head:
        return [Note(env.repo, feature=FEATURE_NAME, number=number,
                     text=f"CLA check of {head[:7]} dropped: #{number} is at {now[:7]} now")]
    if fresh.get("state", "open") != "open":
        return [Note(env.repo, feature=FEATURE_NAME, number=number,
                     text=f"CLA check of {head[:7]} dropped: #{number} is {fresh.get('state')} now")]
    if not refreshed and now == head and fresh.get("commits") != pr.get("commits"):
        return await check_pull_request(env, fresh, just_signed, previous=previous, refreshed=True)
    if env.received_at is not None and env.clock().timestamp() - env.received_at >= LISTING_GRACE:
        return [Note(env.repo, feature=FEATURE_NAME, number=number,
                     text=f"CLA check of {head[:7]} left undecided: the commit listing still disagrees "
                          f"with the pull request {LISTING_GRACE:.0f}s after the event ({exc})")]
    # Not counted as an attempt of the delivery: the grace bounds these waits by time, and a
    # low core.max_attempts must not end the delivery (dead) inside it.
    raise RetryLater(f"CLA check of {env.repo}#{number} at {head[:7]}: the commit listing is behind ({exc})",
                     retry_at=env.clock().timestamp() + LISTING_RETRY, counted=env.received_at is None)


async def check_pull_request(env: CheckEnv, pr: Mapping[str, Any],
                             just_signed: Mapping[int, str] | None = None, *,
                             previous: Mapping[str, Any] | None, refreshed: bool = False,
                             seen_at: float | None = None) -> list[Action]:
    """Every action for one PR: stored status, check run, labels, the single comment.

    ``seen_at``: when ``pr`` was read from GitHub (a stored payload: when its event arrived;
    default: now), which orders what it says about the repository's owner (``_owner_sighting``).

    ``refreshed``: ``pr`` was read again because its commit listing disagreed with it (see
    ``_listing_behind``), which is done once.

    ``previous``: the PR's stored verdict, read before ``pr`` was (see ``store``): the new verdict
    is written only if no other decision wrote one since, and before anything is done on GitHub,
    so a decision overtaken by a newer one stops before contradicting it there."""
    number, head = int(pr["number"]), str(pr["head"]["sha"])
    owner_actions, also_read = await _owner_sighting(
        env, pr, env.clock().timestamp() if seen_at is None else seen_at)
    try:
        decided = await decide(env, pr, just_signed, also_read)
    except lookups.IncompleteCommits as exc:
        # Better no verdict than a green check that skipped commits; the next event retries.
        return [Note(env.repo, feature=FEATURE_NAME, number=number, text=f"CLA check postponed: {exc}")]
    except lookups.ListingBehind as exc:
        return await _listing_behind(env, pr, exc, just_signed, previous, refreshed=refreshed)
    verdict = decided.verdict
    cfg = env.cfg
    ins = cla_report.Instructions(cfg["phrase"], cfg["document_url"],
                                  str((pr.get("base") or {}).get("ref") or "main"))
    conclusion = verdict.conclusion
    commented = await comment_posted(env, number)
    comment = cfg["comment"] and (not verdict.passed or commented)
    # In a shared batch a stale verdict is dropped, not retried: the newer one may then hold the
    # same revision, so this decision names itself for its guards and its "sent" mark.
    decision = {"decision": uuid.uuid4().hex} if env.shared_batch else {}
    stale_args = {**decision, "stale": "skip"} if env.shared_batch else {}
    missing = [{"id": s.account.id, "login": s.account.login} for s in verdict.missing]
    signed = [{"id": s.account.id, "login": s.account.login} for s in verdict.signed]
    actions: list[Action] = [*owner_actions, Record(env.repo, feature=FEATURE_NAME, op="pr_status", args={
        "repo": env.repo, "number": number, "head_sha": head, "state": "yes" if verdict.passed else "no",
        "conclusion": conclusion, "missing": missing, "unlinked": verdict.unlinked_emails,
        "dco": len(verdict.dco_failures), "commented": commented,
        "updated_at": env.clock().timestamp(), "mode": verdict.mode, "version": verdict.version,
        "signed": signed, "facts": recorded.facts_to_json(decided.facts),
        "members": recorded.members_to_json(decided.members),
        "read_revision": int(previous["revision"]) if previous else 0, **stale_args})]
    # The revision this verdict is written as. Its GitHub actions are sent one by one, about a
    # second apart (mutation pacing): each is sent only while this verdict is still the PR's, so
    # a newer one (a push decided meanwhile, a close) is not contradicted by what follows.
    revision = (int(previous["revision"]) if previous else 0) + 1
    mine = {"repo": env.repo, "number": number, "revision": revision, **decision}
    guard = Guard(FEATURE_NAME, "still_current", mine)
    # Right after the verdict is stored, guarded as its GitHub actions are: a verdict dropped as
    # overtaken (the periodic job's ``stale`` skip) leaves no note, and the newer one records its
    # own. Not after the GitHub actions: a verdict stored whose check run went out before a newer
    # one overtook it was still decided, and /explain should say so.
    waiting = ", ".join(m["login"] for m in missing[:10])
    actions.append(Note(env.repo, feature=FEATURE_NAME, number=number,
                        text=f"CLA check on {head[:7]}: {conclusion} ({verdict.commits} commits"
                             + (f"; waiting for {waiting}" if waiting else "")
                             + (f"; {verdict.unlinked_emails} unlinked" if verdict.unlinked else "")
                             + (f"; {len(verdict.dco_failures)} without sign-off" if verdict.dco_failures else "")
                             + ")", guard=guard))
    actions.append(UpsertCheckRun(
        env.repo, name=cfg["check_name"], head_sha=head, status="completed", conclusion=conclusion,
        title=cla_report.title(verdict), summary=cla_report.summary(verdict, ins),
        details_url=cfg["document_url"] or None, guard=guard))

    current = {name.lower() for name in await lookups.pr_labels(env.gh, env.repo, number)}
    ours = {label.lower() for label in await bot_labels(env.db, env.repo, number)}
    taken_off = {label.lower() for label in await released_bot_labels(env.db, env.repo, number)}
    actions += _label_actions(env, number, verdict.passed, current, ours, taken_off, guard)
    if comment:
        actions.append(UpsertComment(env.repo, number=number, marker=COMMENT_MARKER,
                                     body=cla_report.comment(verdict, ins), guard=guard))
    # Last, once the executor went past the GitHub side: a verdict left unsent (the process died,
    # a transient failure retried in vain) is found by ``recheck_signed``. An action GitHub refused
    # for good (a permanent error, logged by the executor) does not stop this one: re-sending it
    # would be refused the same way, so "sent" means attempted to the end, not accepted.
    actions.append(Record(env.repo, feature=FEATURE_NAME, op="published", args=mine))
    return actions


async def recheck_numbers(env: CheckEnv, numbers: list[int],
                          just_signed: Mapping[int, str] | None = None) -> list[Action]:
    """Re-check several PRs by number (fresh reads; closed ones are skipped)."""
    actions: list[Action] = []
    for number in sorted(set(numbers)):
        previous = await store.status_of(env.db, env.repo, number)
        try:
            pr = await lookups.get_pull(env.gh, env.repo, number)
        except PermanentGitHubError as exc:
            if exc.status not in (404, 410):
                raise
            # Deleted (a spam PR GitHub removed) or moved away: one gone PR must not fail the
            # delivery that records a signature and re-checks the signer's other PRs.
            pr = {"state": "gone"}
        if pr.get("state") != "open":
            actions.append(Record(env.repo, feature=FEATURE_NAME, op="pr_closed",
                                  args={"repo": env.repo, "number": number}))
            continue
        actions += await check_pull_request(env, pr, just_signed, previous=previous)
    return actions

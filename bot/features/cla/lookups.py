"""What the CLA check reads from GitHub: every commit of a PR, email owners, memberships.

Decisions (documented in README "CLA"):
- Commits: ``/pulls/{n}/commits`` stops at 250 without saying so, so when the PR reports more
  commits we walk ``/compare/{base_sha}...{head_sha}`` page by page (it pages through all of
  them) and refuse to conclude if the walk still comes up short. ``/pulls/{n}/commits`` lists
  whatever the pull request's ref holds when asked, which may not be the head judged yet (it
  follows a push a little later): a listing without the head, or with another number of commits
  than the pull request reports, is not concluded from (``ListingBehind``). More commits than
  reported is a listing ahead of the head judged: GitHub delivers events out of order, and a
  late ``synchronize`` for an older head finds the newer head's commits, its own among them.
  The comparison names the head, so it is that head's whatever came since: the walk ends by
  asking GitHub where the pull request is, and a pull request moved on is ``ListingBehind`` too.
- Co-author emails: an email already linked on one of the PR's own commits is reused; a
  ``ID+login@users.noreply.github.com`` address is looked up by its id (``/user/{id}``: the
  login part may be stale or invented, and the type, Bot or User, is GitHub's word, never the
  address's); an old-style ``login@users.noreply.github.com`` by its login; anything else by
  commit search (``author-email:``), which finds the account GitHub links that email to.
  An organisation (the user endpoints answer for those too) is no one: GitHub links no commit
  to one and it cannot sign. What none of these finds is reported as unlinked, with the ways out.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

from ...context import GitHubReader
from ...core.cla import Account, account_from_api, is_noreply, noreply_id, noreply_login
from ...github.errors import PermanentGitHubError

log = logging.getLogger("bot.features.cla")

PR_COMMITS_LIMIT = 250
# Search allows 30 requests a minute: a PR naming more unknown co-author emails than this
# reports the rest as unlinked rather than stalling every other feature's searches.
MAX_EMAIL_LOOKUPS = 20
# Every lookup (noreply id or login, or search) is a request, and anyone can write thousands of
# Co-authored-by trailers into one commit: past this many the rest are reported as unlinked,
# so one PR cannot spend the installation's hourly budget on each of its checks.
MAX_ACCOUNT_LOOKUPS = 100
# Each organisation or team membership question is a request too (and, for logins recorded
# earlier, reading each account's login now), and anyone can author commits as hundreds of real
# accounts (noreply addresses name any id): past this many requests per check the rest of the
# unsigned count as no member, the answer that lets nobody through.
MAX_MEMBERSHIP_LOOKUPS = MAX_ACCOUNT_LOOKUPS


class IncompleteCommits(Exception):
    """The commit walk returned fewer commits than the PR has: concluding would be unsafe."""


class ListingBehind(Exception):
    """The PR's commit listing is not the one of the head judged: another head's commits."""


def _split(repo: str) -> dict[str, str]:
    owner, name = repo.split("/", 1)
    return {"owner": owner, "repo": name}


async def get_pull(gh: GitHubReader, repo: str, number: int) -> Mapping[str, Any]:
    return await gh.getitem("/repos/{owner}/{repo}/pulls/{number}", {**_split(repo), "number": number})


async def pr_labels(gh: GitHubReader, repo: str, number: int) -> list[str]:
    """The labels on the pull request now: a payload's list is a copy from when its event was
    sent (or the pull request was read), which the bot's own last check or a person may have
    changed since."""
    return [str(label.get("name") or "") async for label in gh.getiter(
        "/repos/{owner}/{repo}/issues/{issue_number}/labels?per_page=100", {**_split(repo), "issue_number": number})]


async def pr_commits(gh: GitHubReader, repo: str, pr: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    expected = int(pr.get("commits") or 0)
    if 0 < expected <= PR_COMMITS_LIMIT:
        commits = [c async for c in gh.getiter("/repos/{owner}/{repo}/pulls/{number}/commits?per_page=100",
                                               {**_split(repo), "number": pr["number"]})]
        head = str(pr["head"]["sha"])
        listed = any(str(c.get("sha") or "") == head for c in commits)
        if len(commits) != expected or not listed:
            raise ListingBehind(f"{repo}#{pr['number']}: {len(commits)} commits listed for {expected}, "
                                f"head {head[:7]} {'among them' if listed else 'not among them'}")
        return commits
    head = str(pr["head"]["sha"])
    basehead = f"{pr['base']['sha']}...{head}"
    commits = [c async for c in gh.getiter("/repos/{owner}/{repo}/compare/{basehead}?per_page=100",
                                           {**_split(repo), "basehead": basehead},
                                           iterable_key="commits")]
    if len(commits) < expected:
        raise IncompleteCommits(f"{repo}#{pr['number']}: {len(commits)} of {expected} commits listed")
    now = str(((await get_pull(gh, repo, int(pr["number"]))).get("head") or {}).get("sha") or "")
    if now and now != head:
        raise ListingBehind(f"{repo}#{pr['number']}: walked {head[:7]}, but the pull request is at {now[:7]}")
    return commits


def _person(user: Mapping[str, Any] | None) -> Account | None:
    """A user or bot account; an organisation (``/users/{org}`` and ``/user/{id}`` answer for
    those too) authors no commit and cannot sign, so its noreply address is no one's."""
    account = account_from_api(user)
    return None if account is None or account.type == "Organization" else account


async def _user(gh: GitHubReader, login: str) -> Account | None:
    try:
        return _person(await gh.getitem("/users/{username}", {"username": login}))
    except PermanentGitHubError:
        return None


async def user_account(gh: GitHubReader, login: str) -> Account | None:
    return await _user(gh, login)


async def _user_by_id(gh: GitHubReader, account_id: int) -> Account | None:
    try:
        return _person(await gh.getitem("/user/{account_id}", {"account_id": account_id}))
    except PermanentGitHubError:
        return None


async def email_account(gh: GitHubReader, email: str) -> Account | None:
    """The account GitHub links ``email`` to, or None. Only commit search counts against
    the search limit (see ``resolve_emails``)."""
    account_id = noreply_id(email)
    if account_id is not None:
        return await _user_by_id(gh, account_id)
    login = noreply_login(email)
    if login:
        return await _user(gh, login)
    if is_noreply(email):  # a noreply address of no valid shape: search would not link it either
        return None
    try:
        found = await gh.getitem("/search/commits{?q,per_page}",
                                 {"q": f"author-email:{email}", "per_page": 1})
    except PermanentGitHubError as exc:
        log.info("commit search for a co-author email failed: %s", exc)
        return None
    for item in (found or {}).get("items") or []:
        account = account_from_api(item.get("author"))
        if account is not None:
            return account
    return None


def _needs_search(email: str) -> bool:
    return noreply_id(email) is None and not noreply_login(email) and not is_noreply(email)


async def resolve_emails(gh: GitHubReader, emails: list[str]) -> dict[str, Account | None]:
    out: dict[str, Account | None] = {}
    searches = lookups = 0
    for email in emails:
        if _needs_search(email):
            searches += 1
            if searches > MAX_EMAIL_LOOKUPS:
                out[email] = None
                continue
        elif noreply_id(email) is None and not noreply_login(email):
            out[email] = None  # a noreply address of no valid shape: nothing to ask
            continue
        lookups += 1
        if lookups > MAX_ACCOUNT_LOOKUPS:
            out[email] = None
            continue
        out[email] = await email_account(gh, email)
    return out


async def is_org_member(gh: GitHubReader, org: str, login: str) -> bool:
    """204 means member; 404 (or 302 for a requester who may not see members) means not."""
    try:
        await gh.getitem("/orgs/{org}/members/{username}", {"org": org, "username": login})
        return True
    except PermanentGitHubError:
        return False


async def is_team_member(gh: GitHubReader, team: str, login: str) -> bool:
    org, slug = team.split("/", 1)
    try:
        data = await gh.getitem("/orgs/{org}/teams/{team_slug}/memberships/{username}",
                                {"org": org, "team_slug": slug, "username": login})
    except PermanentGitHubError:
        return False
    return (data or {}).get("state") == "active"


@dataclass(frozen=True)
class Membership:
    asked: frozenset[int]      # accounts GitHub answered about (every org and team, or one covering)
    covered: frozenset[int]    # of those, the ones an organisation or team covers
    # Of those asked, the ones GitHub no longer knows by their id (deleted): no member of anything.
    gone: frozenset[int] = frozenset()


async def covered_members(gh: GitHubReader, accounts: list[Account], orgs: list[str], teams: list[str],
                          *, budget: int = MAX_MEMBERSHIP_LOOKUPS, logins_may_be_stale: bool = False) -> Membership:
    """Which accounts an organisation or team covers (corporate CLA), making at most ``budget``
    requests, in order: an account not fully answered within it is not asked at all.

    Membership is asked by login and answered for whoever holds it now. ``logins_may_be_stale``:
    the logins were recorded earlier (a renamed account's old login may be someone else's since),
    so each account's login is read again by its id first: one request more per account, counted
    in ``budget`` like the questions. An account GitHub no longer knows is answered (``gone``:
    no member), not asked about."""
    asked: set[int] = set()
    covered: set[int] = set()
    gone: set[int] = set()

    def answered() -> Membership:
        return Membership(frozenset(asked), frozenset(covered), frozenset(gone))
    questions = [*((is_org_member, org) for org in orgs), *((is_team_member, team) for team in teams)]
    for account in accounts:
        if budget <= 0:
            break
        login = account.login
        if logins_may_be_stale:
            budget -= 1
            now = await _user_by_id(gh, account.id)
            if now is None:
                gone.add(account.id)
                asked.add(account.id)
                continue
            login = now.login
        for ask, group in questions:
            if budget <= 0:
                return answered()
            budget -= 1
            if await ask(gh, group, login):
                covered.add(account.id)
                break
        asked.add(account.id)
    return answered()


async def open_prs_by(gh: GitHubReader, repo: str, login: str) -> list[int]:
    """Open PRs authored by ``login`` (covers PRs opened before the bot kept track)."""
    try:
        found = await gh.getitem("/search/issues{?q,per_page}",
                                 {"q": f"repo:{repo} is:pr is:open author:{login}", "per_page": 100})
    except PermanentGitHubError as exc:
        log.info("search for open PRs by a signer failed: %s", exc)
        return []
    return [int(i["number"]) for i in (found or {}).get("items") or []]

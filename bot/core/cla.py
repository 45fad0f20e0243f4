"""CLA and DCO decisions without I/O: trailers, the signing phrase, who must sign, the verdict.

The feature (bot/features/cla) fetches commits, resolves emails to accounts, loads signatures
and organisation memberships; everything it then decides is computed here, so each rule is a
table-driven test. Report rendering (pure as well) lives in :mod:`bot.core.cla_report`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

# --- trailers (git's rules, trailer.c) -------------------------------------------------------

# Lines git itself writes; one of them makes a mixed last paragraph count as trailers.
_GIT_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")
_TOKEN = re.compile(r"([A-Za-z0-9-]+)[ \t]*:")


def _separator_token(line: str) -> str | None:
    """The token of ``Token: value`` (whitespace allowed before the colon), else None."""
    m = _TOKEN.match(line)
    return m.group(1) if m else None


def _trailer_block_start(lines: list[str]) -> int | None:
    """Index of the first line of the trailer block, or None when there is none.

    The title paragraph never holds trailers. The last paragraph is a trailer block when
    every line is a trailer (or a continuation), or when at least a quarter are trailers and
    one of them is git-generated. Comment lines (``#``) are ignored."""
    end_of_title = 0
    while end_of_title < len(lines) and lines[end_of_title].strip():
        end_of_title += 1
    trailers = non_trailers = continuations = 0
    recognised, only_blank = False, True
    for i in range(len(lines) - 1, end_of_title - 1, -1):
        line = lines[i]
        if line.startswith("#"):
            non_trailers += continuations
            continuations = 0
            continue
        if not line.strip():
            if only_blank:
                continue
            non_trailers += continuations
            if recognised and trailers * 3 >= non_trailers:
                return i + 1
            if trailers and not non_trailers:
                return i + 1
            return None
        only_blank = False
        if line.startswith(_GIT_GENERATED):
            trailers += 1
            continuations = 0
            recognised = True
        elif _separator_token(line) and not line[0].isspace():
            trailers += 1
            continuations = 0
        elif line[0].isspace():
            continuations += 1
        else:
            non_trailers += 1 + continuations
            continuations = 0
    return None


def parse_trailers(message: str) -> list[tuple[str, str]]:
    """``(token, value)`` pairs of a commit message's trailer block, in order.

    Continuation lines (starting with whitespace) are folded into the value with one space."""
    lines = (message or "").replace("\r\n", "\n").split("\n")
    start = _trailer_block_start(lines)
    if start is None:
        return []
    out: list[tuple[str, str]] = []
    for line in lines[start:]:
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace():
            if out:
                out[-1] = (out[-1][0], f"{out[-1][1]} {line.strip()}".strip())
            continue
        token = _separator_token(line)
        if token is None:
            continue  # a non-trailer line inside a mixed block, e.g. "(cherry picked ...)"
        out.append((token, line.split(":", 1)[1].strip()))
    return out


def trailer_values(message: str, token: str) -> list[str]:
    """Values of one trailer; tokens compare case-insensitively, as GitHub and git do."""
    wanted = token.lower()
    return [value for tok, value in parse_trailers(message) if tok.lower() == wanted]


_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+@[^<>\s]+)>\s*$")


@dataclass(frozen=True)
class Person:
    """An identity as git records it."""
    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.strip().lower()


def parse_person(value: str) -> Person | None:
    """``Name <email>`` from a trailer value; None when it has no usable email."""
    m = _NAME_EMAIL.match(value.strip())
    return Person(m.group("name").strip(), m.group("email")) if m else None


# --- accounts --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    login: str
    id: int
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")


def account_from_api(user: Mapping[str, Any] | None) -> Account | None:
    if not user or user.get("id") is None or not user.get("login"):
        return None
    return Account(str(user["login"]), int(user["id"]), str(user.get("type") or "User"))


# GitHub ids are positive 64-bit integers; a longer run of digits is not one (and would overflow
# the store). ASCII digits only: ``\d`` alone also matches other scripts' digits, which int()
# reads as the same id, so ``１０２+bob@…`` (an address GitHub links to nobody) would name bob.
_MAX_ID = 2**63 - 1
_NOREPLY = re.compile(r"^(?:(?P<id>\d{1,19})\+)?(?P<login>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?)"
                      r"@users\.noreply\.github\.com$", re.I | re.ASCII)


def noreply_id(email: str) -> int | None:
    """The account id a ``12345+login@users.noreply.github.com`` address names.

    Only a claim: anyone can write any address into a commit or a trailer, and the login part
    may be stale (renames) or invented, so the id is looked up before it counts (see
    ``features.cla.lookups``); the login and type are GitHub's, never read from the address."""
    m = _NOREPLY.match(email.strip())
    if not m or not m.group("id"):
        return None
    value = int(m.group("id"))
    return value if 0 < value <= _MAX_ID else None


def is_noreply(email: str) -> bool:
    """Whether an address is GitHub's noreply form at all (with or without an id)."""
    return email.strip().lower().endswith("@users.noreply.github.com")


def noreply_login(email: str) -> str | None:
    """The login of an old-style ``login@users.noreply.github.com`` (no id: needs a lookup)."""
    m = _NOREPLY.match(email.strip())
    return m.group("login") if m and not m.group("id") else None


# GitHub commits web edits and merges as this account: it is never a contributor.
WEB_FLOW_LOGINS = frozenset({"web-flow"})
WEB_FLOW_EMAILS = frozenset({"noreply@github.com"})


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: Person
    committer: Person
    author_account: Account | None = None
    committer_account: Account | None = None
    parents: int = 1


def commit_from_api(data: Mapping[str, Any]) -> Commit:
    """A commit as listed by ``/pulls/{n}/commits`` or ``/compare/...``."""
    git = data.get("commit") or {}
    a, c = git.get("author") or {}, git.get("committer") or {}
    return Commit(
        sha=str(data.get("sha") or ""),
        message=str(git.get("message") or ""),
        author=Person(str(a.get("name") or ""), str(a.get("email") or "")),
        committer=Person(str(c.get("name") or ""), str(c.get("email") or "")),
        author_account=account_from_api(data.get("author")),
        committer_account=account_from_api(data.get("committer")),
        parents=len(data.get("parents") or []) or 1,
    )


# --- who must sign ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Contribution:
    sha: str
    role: str            # author | committer | co-author | opener
    person: Person
    account: Account | None


def known_accounts(commits: Iterable[Commit]) -> dict[str, Account]:
    """Email -> account, from what GitHub already linked on the PR's own commits."""
    out: dict[str, Account] = {}
    for c in commits:
        for person, account in ((c.author, c.author_account), (c.committer, c.committer_account)):
            if account is not None and person.key:
                out.setdefault(person.key, account)
    return out


def co_authors(commit: Commit) -> list[Person]:
    people = (parse_person(v) for v in trailer_values(commit.message, "Co-authored-by"))
    return [p for p in people if p is not None]


def emails_to_resolve(commits: Sequence[Commit]) -> list[str]:
    """Co-author emails whose account is not known from the PR's own commits.

    Commit authors and committers are not looked up: GitHub already linked (or did not link)
    their emails, and its answer stands. A trailer is plain text GitHub never links."""
    known = known_accounts(commits)
    wanted: dict[str, None] = {}
    for c in commits:
        for p in co_authors(c):
            if p.key not in known:
                wanted[p.key] = None
    return list(wanted)


def _is_web_flow(person: Person, account: Account | None) -> bool:
    return (account is not None and account.login in WEB_FLOW_LOGINS) or person.key in WEB_FLOW_EMAILS


# The role of whoever opened the pull request: no commit of theirs needs to be in it.
OPENER = "opener"


def contributions(commits: Sequence[Commit], *, committer_required: bool,
                  resolved: Mapping[str, Account | None] = {},
                  opener: Account | None = None) -> list[Contribution]:
    """Every (commit, role, identity) whose owner must be covered, accounts filled in where known.

    ``resolved`` maps lower-cased co-author emails to accounts (or None) as the feature found them.
    ``opener``: the account that opened the pull request, see ``with_opener``.

    A commit's author and committer are the accounts GitHub resolved on that very commit
    (``author_account``/``committer_account``: login, type and id are the API's), never one found
    through the email text elsewhere (``known_accounts``: another commit, this commit's other
    role): GitHub links an email the same way on every commit, so an author it left unlinked
    where the text matches a linked identity wrote that text by hand (a bot's noreply address to
    pass as allowlisted, a signer's email to pass as signed). Unlinked, it must be fixed or
    covered like any other unlinked email. Co-author trailers are text GitHub never links: for
    them the PR's own links are the best evidence there is."""
    known = known_accounts(commits)

    out: list[Contribution] = []
    for c in commits:
        out.append(Contribution(c.sha, "author", c.author, c.author_account))
        if committer_required and not _is_web_flow(c.committer, c.committer_account):
            out.append(Contribution(c.sha, "committer", c.committer, c.committer_account))
        for p in co_authors(c):
            out.append(Contribution(c.sha, "co-author", p, known.get(p.key) or resolved.get(p.key)))
    return with_opener(out, opener)


def with_opener(items: Sequence[Contribution], opener: Account | None) -> list[Contribution]:
    """``items`` and, first, the pull request's opener, unless already among them.

    Commit identities are whatever the commits say: anyone may author a commit with a bot's or a
    signer's public email, and GitHub links it to that account. The sender of the pull request
    is the one account GitHub vouches for, so it must be covered too. Already among the
    contributions, it is covered as they are (an email domain included: GitHub linked that email
    to its account); otherwise as an account alone, with no email for a domain to allowlist."""
    if opener is None or any(c.account is not None and c.account.id == opener.id for c in items):
        return list(items)
    return [Contribution("", OPENER, Person("", ""), opener), *items]


@dataclass(frozen=True)
class Allowlist:
    bots: bool = True
    logins: frozenset[str] = frozenset()        # lower-case
    email_domains: tuple[str, ...] = ()         # lower-case, subdomains included
    member_ids: frozenset[int] = frozenset()    # resolved organisation / team members

    def reason(self, contribution: Contribution) -> str | None:
        """Why this contribution needs no signature, or None."""
        acc = contribution.account
        if acc is not None and self.bots and acc.is_bot:
            return "bot"
        if acc is not None and acc.login.lower() in self.logins:
            return "allowlisted login"
        domain = contribution.person.key.rpartition("@")[2]
        if domain and any(domain == d or domain.endswith("." + d) for d in self.email_domains):
            return "allowlisted email domain"
        if acc is not None and acc.id in self.member_ids:
            return "organisation member"
        return None


@dataclass(frozen=True)
class Signer:
    account: Account
    shas: tuple[str, ...]
    signed_version: str | None = None   # the version signed, if any (maybe an older one)
    opened: bool = False                # opened the pull request (``shas`` may then be empty)


@dataclass(frozen=True)
class Unlinked:
    sha: str
    role: str
    person: Person


@dataclass(frozen=True)
class DcoFailure:
    sha: str
    author: Person
    signoffs: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    mode: str                                  # cla | dco | both
    version: str
    signed: tuple[Signer, ...] = ()
    missing: tuple[Signer, ...] = ()
    unlinked: tuple[Unlinked, ...] = ()
    dco_failures: tuple[DcoFailure, ...] = ()
    allowlisted: tuple[tuple[str, str], ...] = ()   # (who, reason)
    commits: int = 0
    # Ids of the missing whose organisation/team membership was not asked (too many to ask).
    members_not_asked: tuple[int, ...] = ()

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unlinked or self.dco_failures)

    @property
    def conclusion(self) -> str:
        """success; action_required when signing is all that is left (no push needed);
        failure when commits must change (unlinked emails, missing sign-offs)."""
        if self.passed:
            return "success"
        return "failure" if self.unlinked or self.dco_failures else "action_required"

    @property
    def unlinked_emails(self) -> int:
        """Distinct unlinked emails (30 commits from one laptop are one email to fix)."""
        return len({u.person.key for u in self.unlinked})

    @property
    def missing_ids(self) -> tuple[int, ...]:
        return tuple(s.account.id for s in self.missing)


def _ordered_signers(items: Iterable[tuple[Account, str]]) -> list[tuple[Account, tuple[str, ...]]]:
    by_id: dict[int, tuple[Account, list[str]]] = {}
    for account, sha in items:
        entry = by_id.setdefault(account.id, (account, []))
        if sha and sha not in entry[1]:  # the opener's contribution has no commit
            entry[1].append(sha)
    return [(acc, tuple(shas)) for acc, shas in by_id.values()]


def dco_failures(commits: Sequence[Commit], allow: Allowlist) -> list[DcoFailure]:
    """Commits without a ``Signed-off-by`` whose email is the author's (case-insensitive).

    Merge commits are skipped (their content is already signed off in their parents) and so
    are bots when the allowlist lets bots through. The rest of the allowlist (logins, email
    domains, members) stands in for a CLA signature, not for the per-commit certificate of
    origin: a corporate CLA does not sign off a commit.

    A bot is the commit's author as GitHub resolved that very commit (``author_account``: its
    type and login are the API's), never an account found through the author's email text
    elsewhere (``known_accounts``: another commit's author, this commit's committer): anyone can
    write a bot's noreply address into a commit, and the sign-off is the one thing DCO asks."""
    out = []
    for c in commits:
        if c.parents > 1:
            continue
        if allow.bots and c.author_account is not None and c.author_account.is_bot:
            continue
        values = trailer_values(c.message, "Signed-off-by")
        emails = {p.key for p in map(parse_person, values) if p is not None}
        if c.author.key not in emails:
            out.append(DcoFailure(c.sha, c.author, tuple(values)))
    return out


@dataclass(frozen=True)
class Owed:
    """What a PR's contributions owe under an allowlist, before signatures count. The one place
    the allowlist excuses someone from signing: a PR's check and its verdict weighed again (a
    merge group's check) share it, so the two cannot disagree on who is exempt."""
    linked: tuple[Contribution, ...] = ()       # need a signature from their account
    unlinked: tuple[Contribution, ...] = ()     # no account that could sign
    allowlisted: tuple[tuple[str, str], ...] = ()   # (who, reason), the first reason per who

    @property
    def people(self) -> tuple[Account, ...]:
        """The accounts that must have signed, each once, in order."""
        return tuple({c.account.id: c.account for c in self.linked if c.account is not None}.values())

    @property
    def unlinked_emails(self) -> int:
        return len({c.person.key for c in self.unlinked})


def owed(items: Iterable[Contribution], allow: Allowlist) -> Owed:
    linked: list[Contribution] = []
    unlinked: list[Contribution] = []
    allowlisted: dict[str, str] = {}
    for item in items:
        reason = allow.reason(item)
        if reason is not None:
            allowlisted.setdefault(item.account.login if item.account else item.person.key, reason)
        elif item.account is None:
            unlinked.append(item)
        else:
            linked.append(item)
    return Owed(tuple(linked), tuple(unlinked), tuple(allowlisted.items()))


def evaluate(commits: Sequence[Commit], *, mode: str, version: str, committer_required: bool,
             allow: Allowlist, signatures: Mapping[int, str],
             resolved: Mapping[str, Account | None] = {}, opener: Account | None = None) -> Verdict:
    """The verdict for a PR. ``signatures``: user id -> latest CLA version that user signed;
    ``opener``: who opened it (see ``contributions``)."""
    version = str(version)
    signed: list[tuple[Account, str]] = []
    missing: list[tuple[Account, str]] = []
    # A dict keeps the order and finds repeats at once: a commit message may name thousands
    # of co-authors, and a list scan per item would be quadratic in them.
    unlinked: dict[Unlinked, None] = {}
    allowlisted: tuple[tuple[str, str], ...] = ()
    if mode in ("cla", "both"):
        due = owed(contributions(commits, committer_required=committer_required, resolved=resolved,
                                 opener=opener), allow)
        for item in due.linked:
            assert item.account is not None
            (signed if signatures.get(item.account.id) == version else missing).append((item.account, item.sha))
        unlinked = dict.fromkeys(Unlinked(item.sha, item.role, item.person) for item in due.unlinked)
        allowlisted = due.allowlisted
    failures = dco_failures(commits, allow) if mode in ("dco", "both") else []
    opener_id = opener.id if opener is not None else None
    return Verdict(
        mode=mode, version=version,
        signed=tuple(Signer(a, s, version, a.id == opener_id) for a, s in _ordered_signers(signed)),
        missing=tuple(Signer(a, s, signatures.get(a.id), a.id == opener_id)
                      for a, s in _ordered_signers(missing)),
        unlinked=tuple(unlinked), dco_failures=tuple(failures),
        allowlisted=allowlisted, commits=len(commits))


def signoffs_missing(commits: Sequence[Commit]) -> tuple[int, int]:
    """Commits without a matching sign-off: (by people, by bots). The DCO facts of a PR whatever
    the mode and ``allowlist.bots`` are, so a verdict can be weighed again after either changes:
    under ``bots`` only the first count fails, without it both do."""
    people = len(dco_failures(commits, Allowlist(bots=True)))
    return people, len(dco_failures(commits, Allowlist(bots=False))) - people


# --- a recorded verdict weighed again ---------------------------------------------------------

@dataclass(frozen=True)
class Standing:
    """A recorded verdict weighed again against the signatures now on record and the rules now
    in force, without reading the commits again (they cannot change for one head): who had to
    sign is known, only whether they (still) have signed the current version can change."""
    mode: str
    version: str
    must_sign: tuple[Signer, ...]     # had to sign and have not signed the current version
    covered: tuple[Account, ...]      # had to sign and have
    unlinked_emails: int
    dco_failures: int
    allowlisted: tuple[tuple[str, str], ...] = ()   # (who, reason): need no signature now

    @property
    def passed(self) -> bool:
        return not (self.must_sign or self.unlinked_emails or self.dco_failures)

    @property
    def conclusion(self) -> str:
        """As ``Verdict.conclusion``: action_required when signing is all that is left."""
        if self.passed:
            return "success"
        return "failure" if self.unlinked_emails or self.dco_failures else "action_required"


def weigh_again(*, mode: str, version: str, people: Sequence[Account], signatures: Mapping[int, str],
                unlinked_emails: int, dco_failures: int,
                allowlisted: Sequence[tuple[str, str]] = ()) -> Standing:
    """``people``: everyone who needs a signature (``Owed.people`` of what the verdict's check
    recorded, under the allowlist now in force); ``signatures``: user id -> latest version each
    signed. Unlinked emails and missing sign-offs are facts of the commits, counted as the
    caller found them; ``mode`` says which of them count."""
    version = str(version)
    must_sign: list[Signer] = []
    covered: list[Account] = []
    if mode in ("cla", "both"):
        for person in people:
            if signatures.get(person.id) == version:
                covered.append(person)
            else:
                must_sign.append(Signer(person, (), signatures.get(person.id)))
    signs = mode in ("cla", "both")
    return Standing(mode, version, tuple(must_sign), tuple(covered), int(unlinked_emails) if signs else 0,
                    int(dco_failures) if mode in ("dco", "both") else 0, tuple(allowlisted) if signs else ())


# --- the signing phrase ----------------------------------------------------------------------

_TRAILING_PUNCT = ".!,;:…"
_FENCE = re.compile(r"^\s*(```|~~~)")


def normalize_phrase(text: str) -> str:
    """Case, spacing, line breaks and trailing punctuation do not matter."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u200b", "")
    text = " ".join(text.split()).casefold()
    return text.rstrip(_TRAILING_PUNCT + " ")


def _own_words(body: str) -> str:
    """The comment without quoted lines and code blocks: quoting the bot's instructions (which
    contain the phrase) is not signing."""
    kept, in_fence = [], False
    for line in (body or "").replace("\r\n", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept)


def is_signature(body: str, phrase: str) -> bool:
    """Whether a comment signs: its own words are exactly the phrase, give or take case,
    spacing, line breaks and trailing punctuation. A comment that merely mentions the phrase
    among other text does not sign: a signature must be unambiguous."""
    wanted = normalize_phrase(phrase)
    return bool(wanted) and normalize_phrase(_own_words(body)) == wanted

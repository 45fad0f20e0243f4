"""Rendering a CLA/DCO verdict: check-run title and summary, the one PR comment, a status line.

Names and emails come from commits (anyone can write anything there), so they are neutralised
or put in unbreakable code spans; only logins the bot decided to ping become mentions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .cla import DcoFailure, Signer, Standing, Unlinked, Verdict, is_noreply
from .markdown import code, mention, neutralize

# Check-run summaries are capped at 65,535 characters; a 300-commit PR must not overflow.
MAX_LISTED = 50
# Mentioned in the comment besides whoever opened the pull request; the rest are named without a
# ping. Commits can name any real account (noreply addresses), who would be pinged by strangers.
MAX_PINGED = 10


@dataclass(frozen=True)
class Instructions:
    phrase: str
    document_url: str
    base_ref: str = "main"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _short(sha: str) -> str:
    return sha[:7]


def title(v: Verdict) -> str:
    return _title(v.mode, len(v.missing), v.unlinked_emails if v.unlinked else 0, len(v.dco_failures))


def _title(mode: str, missing: int, unlinked_emails: int, dco_failures: int) -> str:
    if not (missing or unlinked_emails or dco_failures):
        if mode == "dco":
            return "Every commit is signed off"
        if mode == "both":
            return "CLA signed and every commit signed off"
        return "Everyone has signed the CLA"
    parts = []
    if missing:
        parts.append(f"{_plural(missing, 'person needs', 'people need')} to sign the CLA")
    if unlinked_emails:
        parts.append(f"{_plural(unlinked_emails, 'commit email')} not linked to a GitHub account")
    if dco_failures:
        parts.append(f"{_plural(dco_failures, 'commit')} without a matching Signed-off-by")
    return "; ".join(parts)


def _commits_of(signer: Signer) -> str:
    shown = ", ".join(code(_short(s)) for s in signer.shas[:5])
    more = f" and {len(signer.shas) - 5} more" if len(signer.shas) > 5 else ""
    return f"{shown}{more}"


def _limited(lines: Sequence[str], total: int) -> list[str]:
    out = list(lines[:MAX_LISTED])
    if total > MAX_LISTED:
        out.append(f"- … and {total - MAX_LISTED} more")
    return out


def _missing_lines(v: Verdict, *, ping: bool) -> list[str]:
    lines = []
    pinged = 0
    not_asked = set(v.members_not_asked)
    for s in v.missing:
        if ping and (s.opened or pinged < MAX_PINGED):
            who = mention(s.account.login)
            pinged += 0 if s.opened else 1
        else:
            who = code(s.account.login)
        note = ""
        if s.signed_version is not None and s.signed_version != v.version:
            note = f" (signed version {neutralize(s.signed_version)}; the CLA is now version {neutralize(v.version)})"
        if s.account.id in not_asked:
            note += " (membership not asked)"
        # Whoever opened the pull request must sign whatever its commits say: said outright, since
        # their name may be on none of the commits listed.
        what = [*(["opened this pull request"] if s.opened else []),
                *([f"commits {_commits_of(s)}"] if s.shas else [])]
        lines.append(f"- {who}: {'; '.join(what)}{note}")
    return _limited(lines, len(v.missing))


def _sign_how(v: Verdict, ins: Instructions) -> list[str]:
    doc = f"[Contributor License Agreement]({ins.document_url})" if ins.document_url else \
        "Contributor License Agreement"
    return [
        f"Please read the {doc} (version {neutralize(v.version)}) and sign it by posting a comment "
        "on this pull request containing exactly:",
        "",
        "```text",
        ins.phrase.replace("```", "'''"),
        "```",
        "",
        "The check runs again by itself once you have signed; no new push is needed.",
    ]


def _unlinked_lines(items: Sequence[Unlinked]) -> list[str]:
    lines = []
    for u in items:
        name = neutralize(u.person.name, max_len=80) or "(no name)"
        lines.append(f"- commit {code(_short(u.sha))} ({u.role}): {name} {code(u.person.email)}")
    return _limited(lines, len(items))


_UNLINKED_HELP = [
    "GitHub cannot tell who these emails belong to, so nobody can sign for them yet. Either:",
    "1. add the email to your GitHub account (Settings → Emails; it may stay private), then "
    "comment `/cla recheck`; or",
    "2. amend the commit to use an email already on your account "
    "(`git commit --amend --reset-author`, or fix the `Co-authored-by:` line) and force-push.",
]


# Way 1 above cannot work for a noreply address: GitHub refuses to add one to an account.
_NOREPLY_HELP = (
    "A `users.noreply.github.com` address cannot be added to an account: GitHub links it by the "
    "account id before the `+` (by the login in the older form without one), and no account "
    "matches this one. Use the noreply address shown in your GitHub email settings "
    "(Settings → Emails) instead.")


def _unlinked_help(items: Sequence[Unlinked]) -> list[str]:
    if any(is_noreply(u.person.email) for u in items):
        return [*_UNLINKED_HELP, "", _NOREPLY_HELP]
    return list(_UNLINKED_HELP)


def _dco_lines(items: Sequence[DcoFailure]) -> list[str]:
    lines = []
    for f in items:
        found = "; found " + ", ".join(code(s) for s in f.signoffs[:3]) if f.signoffs else ""
        lines.append(f"- commit {code(_short(f.sha))}: expected "
                     f"{code(f'Signed-off-by: {f.author.name} <{f.author.email}>')}{found}")
    return _limited(lines, len(items))


def _dco_help(ins: Instructions) -> list[str]:
    return [
        "Every commit needs a `Signed-off-by:` line with its author's email "
        "([Developer Certificate of Origin](https://developercertificate.org/)). Add it with "
        f"{code('git rebase --signoff origin/' + ins.base_ref[:100])} (or "
        "`git commit --amend --signoff` for the last commit) and force-push.",
    ]


def _not_asked(v: Verdict) -> list[str]:
    n = len(v.members_not_asked)
    if not n:
        return []
    return [f"Whether {_plural(n, 'person', 'people')} marked \"membership not asked\" "
            f"{'is' if n == 1 else 'are'} covered as a member of an allowlisted organisation or team "
            "was not asked: the check asks GitHub a limited number of membership questions, and "
            "whoever they do not reach counts as no member. Signing covers them.", ""]


def _body(v: Verdict, ins: Instructions, *, ping: bool) -> list[str]:
    out: list[str] = []
    if v.missing:
        out += ["### Needs to sign the CLA", *_missing_lines(v, ping=ping), "", *_not_asked(v),
                *_sign_how(v, ins), ""]
    if v.unlinked:
        out += ["### Commit emails not linked to a GitHub account", *_unlinked_lines(v.unlinked), "",
                *_unlinked_help(v.unlinked), ""]
    if v.dco_failures:
        out += ["### Commits without a matching sign-off", *_dco_lines(v.dco_failures), "",
                *_dco_help(ins), ""]
    return out


def summary(v: Verdict, ins: Instructions) -> str:
    """The check run's summary: who is missing and how to fix it; who is covered."""
    out = _body(v, ins, ping=False)
    covered = [f"- {code(s.account.login)}" for s in v.signed]
    covered += [f"- {code(who)}: {reason}" for who, reason in v.allowlisted]
    if covered:
        out += [f"### Covered ({len(covered)})", *_limited(covered, len(covered)), ""]
    out.append(f"{_plural(v.commits, 'commit')} checked; mode {v.mode}"
               + (f", CLA version {neutralize(v.version)}." if v.mode != "dco" else "."))
    return "\n".join(out).strip()[:65_000]


def comment(v: Verdict, ins: Instructions) -> str:
    """The single bot comment on the PR (edited in place as things change)."""
    if v.passed:
        return "**CLA check passed.** Everyone whose work is in this pull request is covered. Thank you!"
    head = "**This pull request cannot be merged yet:** " + title(v) + "."
    return "\n".join([head, "", *_body(v, ins, ping=True)]).strip()[:65_000]


def status_line(state: str, missing_logins: Sequence[str], unlinked: int, dco: int) -> str:
    """One line for the PR context card (no mentions: the card must not ping)."""
    if state == "yes":
        return "CLA: ✅ everyone is covered"
    parts = []
    if missing_logins:
        shown = ", ".join(code(login) for login in missing_logins[:5])
        more = f" +{len(missing_logins) - 5}" if len(missing_logins) > 5 else ""
        parts.append(f"waiting for {shown}{more} to sign")
    if unlinked:
        parts.append(f"{_plural(unlinked, 'unlinked email')}")
    if dco:
        parts.append(f"{_plural(dco, 'commit')} not signed off")
    return "CLA: ❌ " + ("; ".join(parts) or "not passing")


def standing_title(s: Standing) -> str:
    return _title(s.mode, len(s.must_sign), s.unlinked_emails, s.dco_failures)


def standing_summary(s: Standing, *, number: int, head_sha: str, decided_version: str | None,
                     ins: Instructions) -> str:
    """The summary of a recorded verdict weighed again (a merge group's check): who must still
    sign and how; commits that must change are for the pull request's own check to list."""
    found = f"the check of #{number} at {code(_short(head_sha))}"
    if s.mode == "dco":
        first = f"As {found} found: sign-offs are facts of the commits."
    else:
        then = f"version {neutralize(decided_version)} then, " if decided_version else ""
        first = (f"Weighed again against the signatures on record: who had to sign is what {found} "
                 f"found (CLA {then}version {neutralize(s.version)} now).")
    out = [first]
    if s.must_sign:
        lines = []
        for signer in s.must_sign:
            note = ""
            if signer.signed_version is not None and signer.signed_version != s.version:
                note = f" (signed version {neutralize(signer.signed_version)})"
            lines.append(f"- {code(signer.account.login)}{note}")
        out += ["", "### Needs to sign the CLA", *_limited(lines, len(lines)), "",
                f"Sign by commenting on #{number} with exactly:", "", "```text",
                ins.phrase.replace("```", "'''"), "```"]
    if s.unlinked_emails or s.dco_failures:
        out += ["", f"The commits of #{number} must change ({standing_title(s)}): the pull "
                "request's own check lists them."]
    if s.covered:
        covered = [f"- {code(a.login)}" for a in s.covered]
        out += ["", f"### Covered ({len(covered)})", *_limited(covered, len(covered))]
    return "\n".join(out).strip()[:65_000]

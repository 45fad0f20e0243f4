"""Merge-queue groups without I/O: which pull request a group is for, and what each of the
bot's checks says on the group's commit.

GitHub's merge queue builds a commit per queued pull request (on the branch
``gh-readonly-queue/<base>/pr-<number>-<sha>``, where ``<sha>`` is the commit the group is
stacked on, not the pull request's head) and waits for every required check on it. The bot's
checks are verdicts about a pull request's head: the group gets the verdict the bot holds for the
queued pull request's head, under the same name, or a failure saying why it has none; it is never
left waiting. A group stacked on another group's commit holds the pull requests ahead of it too,
and GitHub may merge them with it on its checks alone ("only merge non-failing pull requests"
off): while the group ahead does not pass a check, this one waits for it (``behind``).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from .actions import Action
from .cla import Account
from .markdown import code, neutralize

QUEUE_PREFIX = "refs/heads/gh-readonly-queue/"
_QUEUE_REF = re.compile(r"(?P<base>.+)/pr-(?P<number>[1-9][0-9]{0,9})-(?P<sha>[0-9a-f]{40})")

COMPLETED = "completed"
# Conclusions a required check passes with.
PASSING = frozenset({"success", "neutral", "skipped"})


@dataclass(frozen=True)
class QueueRef:
    """What a merge group's ``head_ref`` says: the base branch, the queued pull request and the
    commit the group is stacked on (the base branch's head or the group ahead of it)."""
    base: str
    number: int
    stacked_on: str


def parse_queue_ref(head_ref: str) -> QueueRef | None:
    """``refs/heads/gh-readonly-queue/<base>/pr-<number>-<sha>`` (a base may hold slashes:
    ``release/1.x``), else None."""
    ref = str(head_ref or "")
    if not ref.startswith(QUEUE_PREFIX):
        return None
    m = _QUEUE_REF.fullmatch(ref[len(QUEUE_PREFIX):])
    return QueueRef(m.group("base"), int(m.group("number")), m.group("sha")) if m else None


def branch_of(ref: str) -> str:
    return ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref


def is_queue_branch(name: str | None) -> bool:
    """Whether a branch (``head_branch`` of a check suite) or ref is a merge group's."""
    return branch_of(str(name or "")).startswith(QUEUE_PREFIX[len("refs/heads/"):])


@dataclass(frozen=True)
class HeldCheck:
    """A check's verdict as the feature owning it holds it now. ``head_sha`` is the pull-request
    head it was decided for; None when it was decided for the merge group's commit itself."""
    head_sha: str | None
    status: str = COMPLETED          # completed | in_progress | queued
    conclusion: str | None = None    # set when completed
    title: str = ""
    summary: str = ""
    # What deciding it learned that must outlive the decision (Records, e.g. GitHub's answers a
    # later decision without GitHub must agree with): returned with the group's checks.
    records: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Pull:
    """The queued pull request as GitHub describes it now."""
    number: int
    head_sha: str
    state: str = "open"
    base_ref: str = ""
    merged: bool = False
    # Who opened it (``user``), when read from GitHub: a feature whose verdict was recorded
    # without them may need them (the CLA's, see features/cla/standing.py).
    opener: Account | None = None


@dataclass(frozen=True)
class Ahead:
    """What was last reported under one check's name on the group this one is stacked on
    (itself already combined with the groups ahead of it)."""
    number: int | None
    status: str
    conclusion: str | None
    title: str


@dataclass(frozen=True)
class GroupCheck:
    """One check run to report on the merge group's commit."""
    name: str
    status: str
    conclusion: str | None
    title: str
    summary: str

    @property
    def digest(self) -> str:
        """What was reported, to tell whether a later decision changes anything."""
        raw = json.dumps([self.name, self.status, self.conclusion, self.title, self.summary])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _short(sha: str) -> str:
    return sha[:7]


def _failure(name: str, title: str, summary: str) -> GroupCheck:
    return GroupCheck(name, COMPLETED, "failure", title, summary)


def unidentified(names: Sequence[str], head_ref: str) -> list[GroupCheck]:
    """The group's branch names no pull request: no verdict can be chosen, so every check the
    bot could owe it fails rather than leaving the queue to time out."""
    summary = (f"The merge group's branch {code(head_ref or '(none)')} is not a merge-queue branch "
               f"naming a pull request ({code('gh-readonly-queue/<base>/pr-<number>-<sha>')}), so the "
               "bot cannot tell whose verdict to report here.")
    return [_failure(n, "Merge group not tied to a pull request", summary) for n in names]


def unusable_pull(names: Sequence[str], number: int, pull: Pull | None, base: str) -> list[GroupCheck] | None:
    """Failures when the queued pull request cannot carry its verdicts onto the group: gone,
    closed, or aimed at another branch. None when it can."""
    if pull is None:
        title, why = f"Pull request #{number} not found", "GitHub does not know it in this repository"
    elif pull.state != "open":
        title, why = f"Pull request #{number} is {pull.state}", "only an open pull request can be merged"
    elif base and pull.base_ref and pull.base_ref != base:
        title = f"Pull request #{number} targets another branch"
        why = f"it targets {code(pull.base_ref)}, this merge group {code(base)}"
    else:
        return None
    summary = f"This merge group was built for #{number}, but {why}: the bot has no verdict to report."
    return [_failure(n, title, summary) for n in names]


def mirror(name: str, pull: Pull, held: HeldCheck | None, *, followed: bool) -> GroupCheck:
    """The verdict held for the queued head, or a failure saying why there is none for it."""
    head = pull.head_sha
    if held is None or (held.head_sha is not None and held.head_sha != head):
        if held is None:
            why = f"the bot holds no {code(name)} verdict for #{pull.number}"
        else:
            why = (f"the {code(name)} verdict the bot holds for #{pull.number} is for "
                   f"{code(_short(held.head_sha or ''))}, not for the queued head {code(_short(head))}")
        return _failure(name, "No verdict for the queued head", (
            f"This merge group was built from #{pull.number} at {code(_short(head))}, but {why}. "
            "Let the check run on the pull request again (a push, or its re-run), then queue it again."))
    where = ("decided again for this merge group's commit" if held.head_sha is None
             else f"as the bot holds it for #{pull.number} at {code(_short(head))}")
    lines = [f"The {code(name)} verdict for the queued pull request, {where}."]
    if followed:
        lines.append("Should that verdict change while the group is queued, this check follows it.")
    if held.summary:
        lines += ["", held.summary]
    status = held.status if held.status in ("queued", "in_progress", COMPLETED) else COMPLETED
    conclusion = held.conclusion if status == COMPLETED else None
    if status == COMPLETED and not conclusion:
        conclusion = "failure"  # a completed verdict without a conclusion is none: never pass it
    return GroupCheck(name, status, conclusion, held.title or name, "\n".join(lines))


def decide(pull: Pull, found: Mapping[str, HeldCheck | None], followed: frozenset[str]) -> list[GroupCheck]:
    """Group checks for an identified, usable pull request. ``found`` has an entry for each
    check the bot reported on that pull request (the held verdict, or None when it holds none
    any more); a check never reported there has none and is not reported on the group."""
    return [mirror(name, pull, held, followed=name in followed) for name, held in found.items()]


def behind(check: GroupCheck, ahead: Ahead | None, number: int) -> GroupCheck:
    """``check`` of a group stacked on the group that reported ``ahead`` under the same name:
    this group's commit holds that group's pull requests too, and GitHub may merge them on this
    group's checks alone. So it passes only once it passes ahead too; until then it waits
    (in progress) rather than fails: failing it could take this pull request out of the queue
    for another's verdict, while a failure ahead takes that one out and GitHub builds this group
    again without it. Its own failure stands as it is."""
    if ahead is None or (ahead.status == COMPLETED and ahead.conclusion in PASSING):
        return check
    if check.status == COMPLETED and check.conclusion not in PASSING:
        return check
    who = f"#{ahead.number}" if ahead.number else "the pull request ahead"
    named = f"#{ahead.number} ahead" if ahead.number else "the pull request ahead"
    state = "fails" if ahead.status == COMPLETED else "is still running"
    summary = (f"This merge group's commit also holds {who}, ahead of #{number} in the queue, and GitHub "
               f"may merge them together on this group's checks. {who[0].upper() + who[1:]}'s "
               f"{code(check.name)} check {state} on its own group ({neutralize(ahead.title, max_len=200)}), "
               "so this one waits for it; should it leave the queue, GitHub builds this group again without it.")
    return GroupCheck(check.name, "in_progress", None, f"Waiting for {named} in this group: {ahead.title}"[:200],
                      f"{summary}\n\nFor #{number} itself: {neutralize(check.title, max_len=200)}.\n\n{check.summary}")

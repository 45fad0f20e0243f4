"""Patches that reach a branch by a direct push rather than a pull request (rules
``push_branches``): e.g. ``git subtree push --prefix=go/ ... go`` syncing a patch queue onto
the ``go`` branch, after which CI builds whatever the branch holds. Here: which pushes are
gated, and which patches each one brings. Deciding is the gate's, as for a pull request.

The files come from the payload's commits (added, modified, removed) when it lists them all
and the push continues from the head the bot last decided for the branch (``branch``: with the
patches still owed a passing pipeline, carried to each new head). Otherwise (the branch's first
push, a delivery lost or delivered out of order, a force-push) the tree at the pushed commit is
read, which holds whatever the pushes in between brought. The payload does not always list
them all either: a new branch's commits are those since the default branch's head, not since
the branch began (a patch from an older commit would slip through); GitHub lists 2,048 commits
at most, and 3,000 changed files per commit; a push of commits already in the repository lists
none. The patches are then those of the tree at the pushed commit: only the directories the
patch globs name are listed (a kernel tree is far past what GitHub lists of a tree in one
answer; its patch directory is not), the whole tree only for a glob without a leading
directory. A listing GitHub gives only in part fails the gate rather than passing what it left
out, unless walking that directory one level at a time completes it (lookups.tree_listing). The
listing names each file by its blob SHA: the patches verified before with those very bytes are
not read again (remembered).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile
from typing import Any, Iterable, Mapping

from ...context import GitHubReader
from ...core import pipeline as P
from ...core.impact import compile_glob
from ...store.db import Database
from . import lookups, store
from .verification import touched_patches

BRANCH_REF = "refs/heads/"
# The merge queue's group branches: their commits get the pull requests' checks (merge_queue).
MERGE_QUEUE_PREFIX = "gh-readonly-queue/"
# GitHub's caps on what a push payload lists: commits, and changed files of one commit.
MAX_PUSH_COMMITS = 2048
MAX_COMMIT_FILES = 3000
# A glob segment with any of these is no literal directory name (a backslash escapes one).
GLOB_SPECIALS = re.compile(r"[*?\[\\]")


@dataclass(frozen=True)
class Push:
    branch: str
    before: str
    after: str
    # The files the payload says the push changed; None when it cannot be trusted to list them.
    files: tuple[str, ...] | None
    # Of those, the ones its last commit touching them removed: gone from the branch.
    removed: tuple[str, ...] = ()


@lru_cache(maxsize=256)
def _branch_regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if piece == "**" else "[^/]*" if piece == "*" else re.escape(piece)
             for piece in re.split(r"(\*\*|\*)", pattern) if piece]
    return re.compile("".join(parts))


def branch_matches(pattern: str, branch: str) -> bool:
    """A ``push_branches`` glob: ``*`` stands for any characters but ``/``, ``**`` for any at
    all (as in a workflow's ``branches:`` filter); everything else is literal."""
    return _branch_regex(pattern).fullmatch(branch) is not None


def gated_branch(section: Mapping[str, Any], branch: str) -> bool:
    if branch.startswith(MERGE_QUEUE_PREFIX):
        return False
    return any(branch_matches(g, branch) for g in section.get("push_branches") or ())


def _gated_ref(section: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """The gated branch a push's ref names, None for a tag or a branch not listed."""
    ref = str(payload.get("ref") or "")
    branch = ref[len(BRANCH_REF):] if ref.startswith(BRANCH_REF) else None
    return branch if branch is not None and gated_branch(section, branch) else None


def deleted_branch(section: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """The gated branch a push deletes, if it does."""
    return _gated_ref(section, payload) if payload.get("deleted") else None


def gated_push(section: Mapping[str, Any], payload: Mapping[str, Any]) -> Push | None:
    """The push to gate, or None: a tag, a deleted branch, a branch not listed."""
    after = str(payload.get("after") or "")
    branch = _gated_ref(section, payload)
    if branch is None or payload.get("deleted") or after.strip("0") == "":
        return None
    files = pushed_files(payload)
    return Push(branch, str(payload.get("before") or ""), after, files,
                removed_files(payload) if files else ())


def pushed_files(payload: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The union of the commits' added, modified and removed files, or None (see above). A
    payload not shaped as GitHub's (a commit that is no object, a file list that is no list of
    names) lists nothing it can be trusted for: the tree is read instead of taking it as "no
    files", which would let the push through unchecked."""
    before, after = str(payload.get("before") or ""), str(payload.get("after") or "")
    commits = payload.get("commits")
    if before == after:
        return ()
    if (before.strip("0") == "" or not isinstance(commits, list) or not commits
            or len(commits) >= MAX_PUSH_COMMITS):
        return None
    changed: list[list[str]] = []
    for c in commits:
        lists = [c.get(key) for key in ("added", "modified", "removed")] if isinstance(c, dict) else [None]
        if not all(isinstance(names, list) and all(isinstance(n, str) for n in names) for names in lists):
            return None
        changed.append([name for names in lists for name in names])
    if any(len(names) >= MAX_COMMIT_FILES for names in changed):
        return None
    return tuple(sorted({name for names in changed for name in names}))


def removed_files(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The files a well-formed push (pushed_files) leaves removed: its last commit touching each
    removed it. The commits are listed oldest first."""
    last: dict[str, bool] = {}
    for c in payload["commits"]:
        for key in ("added", "modified", "removed"):
            for name in c[key]:
                last[name] = key == "removed"
    return tuple(sorted(name for name, gone in last.items() if gone))


def glob_directory(pattern: str) -> str | None:
    """The directory holding every path a patch glob can match: its segments before the first
    with a wildcard. "" (the whole tree) when that is the first, or when the glob has no "/"
    but a trailing one: gitignore matches it at any depth. None for a malformed glob, which
    matches nothing. A glob without wildcards names a file or a directory: tree_listing takes
    either."""
    if compile_glob(pattern).problem:
        return None
    body = pattern.strip().rstrip("/")  # as compile_glob reads it
    if "/" not in body:
        return ""
    return "/".join(takewhile(lambda s: not GLOB_SPECIALS.search(s), body.lstrip("/").split("/")))


def patch_directories(patterns: Iterable[str]) -> list[str]:
    """The directories to list for the patches, each once: one inside another is left to it."""
    kept: list[str] = []
    for d in sorted({d for d in map(glob_directory, patterns) if d is not None},
                    key=lambda d: (d.count("/") if d else -1, d)):
        if not any(lookups.inside(d, k) for k in kept):
            kept.append(d)
    return kept


def signature_directories(section: Mapping[str, Any]) -> list[str]:
    """The directories holding the patches' signature files, where a signature template keeps
    them apart from the patches (``sigs/{path}.bundle``); none that a patch directory holds."""
    templates = (section["signatures"]["bundle"], section["signatures"]["signature"])
    patch_dirs = patch_directories(section["patches"])
    return [d for d in patch_directories(t.replace("{path}", g) for t in templates for g in section["patches"])
            if not any(lookups.inside(d, k) for k in patch_dirs)]


async def list_patch_directories(gh: GitHubReader, repo: str, section: Mapping[str, Any],
                                 sha: str) -> lookups.Listing:
    """The patch directories at commit ``sha``, listed whole (raises lookups.TreeTruncated), and,
    as far as GitHub lists them, the signature directories apart from them: they only say which
    signature files a patch verified before still has (remembered); one left out means its
    patches are read and verified again, never that they are refused."""
    return await lookups.tree_listing(gh, repo, sha, patch_directories(section["patches"]),
                                      best_effort=signature_directories(section))


@dataclass(frozen=True)
class TreePatches:
    """The patches of a commit's tree, or (``unlisted``) why they could not be listed."""
    patches: list[str]
    unlisted: str | None = None
    listing: lookups.Listing | None = None


async def tree_patches(gh: GitHubReader, repo: str, section: Mapping[str, Any], sha: str) -> TreePatches:
    try:
        listing = await list_patch_directories(gh, repo, section, sha)
    except lookups.TreeTruncated as exc:
        return TreePatches([], unlisted_reason(section, exc))
    # A signature kept without its patch names a patch that is not there: nothing to verify.
    return TreePatches([p for p in touched_patches(section, listing.entries) if p in listing.entries],
                       listing=listing)


def unlisted_reason(section: Mapping[str, Any], exc: lookups.TreeTruncated) -> str:
    short, where = exc.sha[:7], f"{exc.directory}/" if exc.directory else "the tree"
    cut = "only in part (over 100,000 entries or 7 MB)"
    if exc.over_budget and exc.partial:
        why = (f"GitHub lists {where} at {short} {cut}, and walking it one directory at a time "
               f"would take over {lookups.MAX_TREE_REQUESTS} requests")
    elif exc.over_budget:
        why = (f"listing the patch directories at {short} would take over "
               f"{lookups.MAX_TREE_REQUESTS} requests (stopped at {where})")
    elif exc.directory:
        why = f"GitHub lists {where} at {short} {cut}"
    else:
        glob = next((g for g in section["patches"] if glob_directory(g) == ""), "")
        why = (f"GitHub lists the tree of {short} {cut} (listed whole: the patch glob {glob!r} "
               "names no leading directory)")
    return f"the patches could not be listed: {why}, and a patch left out would go unverified"


@dataclass(frozen=True)
class Branch:
    """What the bot knows of a gated branch (store.branch_state)."""
    head_sha: str | None = None  # the head it last decided; None before the first decision
    # Patches pushed since a pipeline last passed with them all: the next head's pipeline owes them.
    pending: tuple[str, ...] = ()
    # What is pending is unknown, so the tree is read: the last decision could not list its
    # patches, or it was made under other patch rules (a file that was no patch then may be one
    # now, and nothing owes it).
    unknown: bool = False


def patch_rules(section: Mapping[str, Any]) -> str:
    """What decides which files are patches (and which their signatures): when it changes, a file
    pushed earlier as no patch may be one now, and nothing owes it: the tree is read."""
    return hashlib.sha256(json.dumps([section["patches"], section.get("signatures")], sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]


async def branch(db: Database, repo: str, section: Mapping[str, Any], name: str) -> Branch:
    """The branch as last decided. Its pending patches are owed no more once the pipeline of that
    head passed with all of them: whoever decided the head (a pull request's "Re-run" checks only
    the pull request's patches), only a pass with the branch's own patches clears them."""
    row = await store.branch_state(db, repo, name)
    if row is None:
        return Branch()
    pending = touched_patches(section, json.loads(row["pending"] or "[]"))
    found = await store.run_for_head(db, repo, str(row["head_sha"])) if pending else None
    if found is not None and passed(found[0]) and set(pending) <= set(recorded_patches(section, found[0])):
        pending = []
    return Branch(str(row["head_sha"]), tuple(pending),
                  bool(row["unlisted"]) or str(row["rules"] or "") != patch_rules(section))


def passed(row: Mapping[str, Any]) -> bool:
    return row["status"] == P.COMPLETED and row["conclusion"] == P.SUCCESS


def recorded_patches(section: Mapping[str, Any], row: Mapping[str, Any]) -> list[str]:
    """The patches a decision checked (a refusal that could not list them recorded none)."""
    return touched_patches(section, json.loads(row["patches"] or "[]"))


def stands_for(section: Mapping[str, Any], row: Mapping[str, Any], patches: Iterable[str]) -> bool:
    """Whether a head's decision made elsewhere (a pull request's, another branch's) stands for a
    branch owing ``patches``: it checked them all and its pipeline runs or passed (a refused,
    superseded or failed one leaves them unchecked, or not passed, for this branch)."""
    if not (row["status"] in store.LIVE or passed(row)):
        return False
    return set(touched_patches(section, patches)) <= set(recorded_patches(section, row))

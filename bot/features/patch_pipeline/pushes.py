"""Patches that reach a branch by a direct push rather than a pull request (rules
``push_branches``): e.g. ``git subtree push --prefix=go/ ... go`` syncing a patch queue onto
the ``go`` branch, after which CI builds whatever the branch holds. Here: which pushes are
gated, and which patches each one brings. Deciding is the gate's, as for a pull request.

The files come from the payload's commits (added, modified, removed) when it lists them all.
It does not always: a new branch's commits are those since the default branch's head, not since
the branch began (a patch from an older commit would slip through); GitHub lists 2,048 commits
at most, and 3,000 changed files per commit; a push of commits already in the repository lists
none. The patches are then those of the tree at the pushed commit, and a tree GitHub lists only
in part fails the gate rather than passing what it left out.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from ...context import GitHubReader
from ...core import pipeline as P
from ...store.db import Database
from . import lookups, store
from .verification import touched_patches

BRANCH_REF = "refs/heads/"
# The merge queue's group branches: their commits get the pull requests' checks (merge_queue).
MERGE_QUEUE_PREFIX = "gh-readonly-queue/"
# GitHub's caps on what a push payload lists: commits, and changed files of one commit.
MAX_PUSH_COMMITS = 2048
MAX_COMMIT_FILES = 3000


@dataclass(frozen=True)
class Push:
    branch: str
    after: str
    # The files the payload says the push changed; None when it cannot be trusted to list them.
    files: tuple[str, ...] | None


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


def gated_push(section: Mapping[str, Any], payload: Mapping[str, Any]) -> Push | None:
    """The push to gate, or None: a tag, a deleted branch, a branch not listed."""
    ref, after = str(payload.get("ref") or ""), str(payload.get("after") or "")
    if not ref.startswith(BRANCH_REF) or payload.get("deleted") or after.strip("0") == "":
        return None
    branch = ref[len(BRANCH_REF):]
    if not gated_branch(section, branch):
        return None
    return Push(branch, after, pushed_files(payload))


def pushed_files(payload: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The union of the commits' added, modified and removed files, or None (see above)."""
    before, after = str(payload.get("before") or ""), str(payload.get("after") or "")
    commits = payload.get("commits") or []
    if before == after:
        return ()
    if before.strip("0") == "" or not commits or len(commits) >= MAX_PUSH_COMMITS:
        return None
    changed = [[str(name) for key in ("added", "modified", "removed") for name in c.get(key) or ()]
               for c in commits]
    if any(len(names) >= MAX_COMMIT_FILES for names in changed):
        return None
    return tuple(sorted({name for names in changed for name in names}))


async def tree_patches(gh: GitHubReader, repo: str, section: Mapping[str, Any],
                       sha: str) -> tuple[list[str], str | None]:
    """The patches at commit ``sha`` and None, or none and why they could not be listed."""
    try:
        paths = await lookups.tree_paths(gh, repo, sha)
    except lookups.TreeTruncated:
        return [], (f"the patches could not be listed: GitHub lists the tree of {sha[:7]} only in part "
                    "(over 100,000 entries or 7 MB), and a patch left out would go unverified")
    present = set(paths)
    # A signature kept without its patch names a patch that is not there: nothing to verify.
    return [p for p in touched_patches(section, paths) if p in present], None


async def pending_patches(db: Database, repo: str, section: Mapping[str, Any], branch: str) -> list[str]:
    """Patches an earlier push brought to ``branch`` that its head still has to pass with: those
    of the branch's latest decision unless its pipeline passed. Its pipeline is superseded (or it
    was refused, or failed), and they are still on the branch unless this push removed them; that
    decision carried its own predecessors' the same way."""
    row = await store.latest_for_branch(db, repo, branch)
    if row is None or (row["status"] == P.COMPLETED and row["conclusion"] == P.SUCCESS):
        return []
    return recorded_patches(section, row)


def recorded_patches(section: Mapping[str, Any], row: Mapping[str, Any]) -> list[str]:
    """The patches a decision checked (a refusal that could not list them recorded none)."""
    return touched_patches(section, json.loads(row["patches"] or "[]"))

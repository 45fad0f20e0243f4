"""What the feature reads from GitHub: the PR's files, files at the head SHA, and for a direct
push the directories of the tree at the pushed commit that can hold patches, and the branch's
head."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ...context import GitHubReader
from ...github.errors import PermanentGitHubError
from ...github.urls import file_path

CONTENTS = "/repos/{owner}/{repo}/contents/{+path}{?ref}"
BLOB = "/repos/{owner}/{repo}/git/blobs/{file_sha}"
PR_FILES = "/repos/{owner}/{repo}/pulls/{number}/files?per_page=100"
PULL = "/repos/{owner}/{repo}/pulls/{number}"
WORKFLOW_RUN = "/repos/{owner}/{repo}/actions/runs/{run_id}"
RUN_JOBS = "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs?per_page=100"
# GitHub reads ``recursive`` as on whatever its value; a commit SHA names that commit's tree.
TREE = "/repos/{owner}/{repo}/git/trees/{tree_sha}?recursive=1"
# One level: the entries directly in the tree, subtrees with the SHA to list them by.
TREE_LEVEL = "/repos/{owner}/{repo}/git/trees/{tree_sha}"
# Tree requests one listing may make (walking down to directories, listing them, and walking
# a directory GitHub lists only in part one level at a time): past it, it fails closed.
MAX_TREE_REQUESTS = 50
BRANCH = "/repos/{owner}/{repo}/branches/{branch}"


def split(repo: str) -> dict[str, str]:
    owner, name = repo.split("/", 1)
    return {"owner": owner, "repo": name}


async def pr_files(gh: GitHubReader, repo: str, number: int) -> list[Mapping[str, Any]]:
    """Every file of the PR (GitHub lists at most 3,000)."""
    return [f async for f in gh.getiter(PR_FILES, {**split(repo), "number": number})]


async def get_pull(gh: GitHubReader, repo: str, number: int) -> Mapping[str, Any]:
    return await gh.getitem(PULL, {**split(repo), "number": number})


class NotAFile(Exception):
    """The path holds a directory, symlink or submodule at that ref."""


async def file_at(gh: GitHubReader, repo: str, path: str, ref: str, *, strict: bool = False) -> bytes | None:
    """A file's bytes at ``ref``, None when it does not exist there. The contents API
    leaves ``content`` empty above 1 MB; the blob API then gives it (up to 100 MB).
    With ``strict`` a path that exists but is no regular file raises NotAFile."""
    # The path is the contributor's file name: see file_path.
    try:
        item = await gh.getitem(CONTENTS, {**split(repo), "path": file_path(path), "ref": ref})
    except PermanentGitHubError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(item, Mapping) or item.get("type", "file") != "file":
        if strict:
            kind = item.get("type") if isinstance(item, Mapping) else "dir"
            raise NotAFile(f"{path} is a {kind}, not a regular file")
        return None  # a directory, symlink or submodule is not a signature
    if item.get("encoding") == "base64" and item.get("content"):
        return base64.b64decode(item["content"])
    if item.get("size", 0) == 0:
        return b""
    blob = await gh.getitem(BLOB, {**split(repo), "file_sha": item["sha"]})
    return base64.b64decode(blob.get("content") or "")


async def workflow_run(gh: GitHubReader, repo: str, run_id: int) -> Mapping[str, Any] | None:
    try:
        return await gh.getitem(WORKFLOW_RUN, {**split(repo), "run_id": run_id})
    except PermanentGitHubError as exc:
        if exc.status == 404:
            return None
        raise


async def run_jobs(gh: GitHubReader, repo: str, run_id: int) -> list[Mapping[str, Any]]:
    return [j async for j in gh.getiter(RUN_JOBS, {**split(repo), "run_id": run_id}, iterable_key="jobs")]


class TreeTruncated(Exception):
    """GitHub did not list the whole of ``directory`` ("" the whole tree) at commit ``sha``:
    over 100,000 entries or 7 MB recursively, or (``over_budget``) more than
    MAX_TREE_REQUESTS tree requests would have been needed to walk it one level at a time."""

    def __init__(self, sha: str, directory: str = "", *, over_budget: bool = False,
                 partial: bool = True) -> None:
        super().__init__(sha, directory, over_budget)
        self.sha, self.directory, self.over_budget = sha, directory, over_budget
        self.partial = partial  # False: over budget without GitHub cutting any listing short


def inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or lies in it ("" the whole tree)."""
    return directory == "" or path == directory or path.startswith(directory + "/")


@dataclass(frozen=True)
class Listing:
    """Directories of one commit's tree, listed whole: every entry in them but directories
    (files, symlinks, submodules), by path, as GitHub lists it (``type``, ``mode``, ``sha``)."""
    sha: str
    directories: tuple[str, ...]
    entries: Mapping[str, Mapping[str, Any]]

    def covers(self, path: str) -> bool:
        """Whether ``path`` lies in a listed directory: if it is not among the entries, it is
        no file at this commit (a directory at most)."""
        return any(inside(path, d) for d in self.directories)


async def tree_listing(gh: GitHubReader, repo: str, sha: str, under: Sequence[str] = ("",), *,
                       best_effort: Sequence[str] = ()) -> Listing:
    """The entries at commit ``sha`` inside the directories ``under`` ("" the whole tree; none
    inside another). A directory missing, or not a directory, holds none; one naming a file
    gives that file. Raises TreeTruncated rather than return a partial list, which would pass
    for a whole one. The directories ``best_effort`` are listed too (the tree requests they
    share with ``under`` are made once), except those that cannot be listed whole, which the
    listing then does not cover."""
    lister = _TreeLister(gh, repo, sha)
    entries: dict[str, Mapping[str, Any]] = {}
    for directory in under:
        entries.update(await lister.entries_under(directory))
    listed = list(under)
    for directory in best_effort:
        try:
            found = await lister.entries_under(directory)
        except (TreeTruncated, PermanentGitHubError):
            continue
        entries.update(found)
        listed.append(directory)
    return Listing(sha, tuple(listed), entries)


class _TreeLister:
    """Lists parts of one commit's tree: walks down to a directory one level at a time, then
    lists it recursively. A directory that GitHub lists only in part is walked one level at a
    time, each subdirectory listed recursively again; the whole tree is not (most of it is
    not what the patch globs name, and walking it would exceed the request budget)."""

    def __init__(self, gh: GitHubReader, repo: str, sha: str) -> None:
        self.gh, self.repo, self.sha = gh, repo, sha
        self.requests = 0
        self.partial = False  # a recursive listing came back truncated
        self.levels: dict[str, list[Mapping[str, Any]]] = {}  # tree SHA -> its entries

    async def _get(self, url: str, tree_sha: str, directory: str) -> Mapping[str, Any]:
        if self.requests >= MAX_TREE_REQUESTS:
            raise TreeTruncated(self.sha, directory, over_budget=True, partial=self.partial)
        self.requests += 1
        return await self.gh.getitem(url, {**split(self.repo), "tree_sha": tree_sha})

    async def _level(self, tree_sha: str, directory: str) -> list[Mapping[str, Any]]:
        if tree_sha not in self.levels:
            tree = await self._get(TREE_LEVEL, tree_sha, directory)
            if tree.get("truncated"):
                raise TreeTruncated(self.sha, directory)
            self.levels[tree_sha] = list(tree.get("tree") or ())
        return self.levels[tree_sha]

    async def entries_under(self, directory: str) -> dict[str, Mapping[str, Any]]:
        if not directory:
            tree = await self._get(TREE, self.sha, "")
            if tree.get("truncated"):
                raise TreeTruncated(self.sha, "")
            return _blobs(tree, "")
        tree_sha, walked = self.sha, ""
        for name in directory.split("/"):
            entry = next((e for e in await self._level(tree_sha, directory)
                          if e.get("path") == name), None)
            walked = f"{walked}/{name}" if walked else name
            if entry is None:
                return {}  # no such directory: no patches there
            if entry.get("type") != "tree":
                return {walked: entry} if walked == directory else {}
            tree_sha = str(entry["sha"])
        return await self._recursive(tree_sha, directory, directory)

    async def _recursive(self, tree_sha: str, path: str, directory: str) -> dict[str, Mapping[str, Any]]:
        """The entries in the tree ``tree_sha`` at ``path`` (inside ``directory``, the one asked for)."""
        tree = await self._get(TREE, tree_sha, directory)
        if not tree.get("truncated"):
            return _blobs(tree, path)
        self.partial = True
        found: dict[str, Mapping[str, Any]] = {}
        for entry in await self._level(tree_sha, directory):
            inner = f"{path}/{entry['path']}"
            if entry.get("type") == "tree":
                found.update(await self._recursive(str(entry["sha"]), inner, directory))
            else:
                found[inner] = entry
        return found


def _blobs(tree: Mapping[str, Any], prefix: str) -> dict[str, Mapping[str, Any]]:
    return {f"{prefix}/{e['path']}" if prefix else str(e["path"]): e
            for e in tree.get("tree") or () if e.get("type") != "tree"}


async def branch_head(gh: GitHubReader, repo: str, branch: str) -> str | None:
    """The commit a branch points at now, None when there is no such branch."""
    # The simple expansion escapes a "/" in the name (linux-next/go): GitHub reads it decoded.
    try:
        found = await gh.getitem(BRANCH, {**split(repo), "branch": branch})
    except PermanentGitHubError as exc:
        if exc.status == 404:
            return None
        raise
    return str((found.get("commit") or {}).get("sha") or "") or None

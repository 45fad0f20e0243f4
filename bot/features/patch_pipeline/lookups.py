"""What the feature reads from GitHub: the PR's files, files at the head SHA, and for a direct
push the tree at the pushed commit and the branch's head."""
from __future__ import annotations

import base64
from typing import Any, Mapping

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
    """GitHub did not list the whole tree (over 100,000 entries or 7 MB)."""


async def tree_paths(gh: GitHubReader, repo: str, sha: str) -> list[str]:
    """Every path at commit ``sha`` but directories (files, symlinks, submodules). Raises
    TreeTruncated when GitHub's answer leaves entries out: a partial list would pass for a
    whole one."""
    tree = await gh.getitem(TREE, {**split(repo), "tree_sha": sha})
    if tree.get("truncated"):
        raise TreeTruncated(sha)
    return [str(e["path"]) for e in tree.get("tree") or () if e.get("type") != "tree"]


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

"""Pieces of GitHub API URLs: what the bot puts into a URL template, and what it reads back
from one."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote


def file_path(path: str) -> str:
    """A repository file's path for the contents API's ``{+path}``. Reserved expansion keeps
    the slashes, but would keep a ``#``, ``?`` or ``%`` as well, which end the path or name
    another file (a contributor chooses file names): those are escaped, so GitHub reads
    exactly this file at the ref asked for."""
    return quote(path, safe="/")


def is_repo_url(url: object, repo: str) -> bool:
    """Whether an API URL (an item's ``repository_url``, a base repository's ``url``) is
    that of ``repo`` (``owner/name``): by its whole name, so ``o/r-docs`` is not ``o/r``, and
    ignoring case, as GitHub does."""
    text = str(url or "").casefold().rstrip("/")
    return bool(text) and text.endswith("/repos/" + repo.casefold())


def based_here(pr_ref: Mapping[str, Any], repository: Mapping[str, Any]) -> bool:
    """Whether a ``check_run.pull_requests`` entry is a PR of this repository. GitHub lists
    every open PR whose head matches the commit, including PRs of forks and other
    repositories: their numbers mean nothing here."""
    base = (pr_ref.get("base") or {}).get("repo") or {}
    if base.get("id") is not None and repository.get("id") is not None:
        return int(base["id"]) == int(repository["id"])
    if base.get("url") and repository.get("full_name"):
        return is_repo_url(base["url"], str(repository["full_name"]))
    return True  # nothing says otherwise

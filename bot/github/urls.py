"""Pieces of GitHub API URLs: what the bot puts into a URL template, and what it reads back
from one."""
from __future__ import annotations

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

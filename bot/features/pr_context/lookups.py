"""GitHub reads the card needs: the PR's changed files, the CODEOWNERS file, and the
open PRs that contain a commit."""
from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any

from bot.core.impact import ChangedFile, CodeOwners, parse_codeowners
from bot.github.urls import file_path

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context

log = logging.getLogger("bot.features.pr_context")

# Where GitHub looks for CODEOWNERS, in its order; the first file found is the only one used.
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
# GitHub does not load a CODEOWNERS file of 3 MB or more (it then requests no code owner).
CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024
CODEOWNERS_TOO_LARGE = ("The CODEOWNERS file is over 3 MB, so GitHub ignores it, and so does this card: "
                        "no owner comes from it.")
BLOB = "/repos/{owner}/{repo}/git/blobs/{file_sha}"


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status", None) or getattr(exc, "status_code", None)


async def changed_files(ctx: "Context", number: int) -> list[ChangedFile]:
    """Every page of the files API (GitHub stops listing at 3,000 files)."""
    owner, name = ctx.repo.split("/", 1)
    files: list[ChangedFile] = []
    async for f in ctx.gh.getiter("/repos/{owner}/{repo}/pulls/{pull_number}/files{?per_page}",
                                  {"owner": owner, "repo": name, "pull_number": number, "per_page": 100}):
        files.append(ChangedFile(path=str(f.get("filename") or ""), status=str(f.get("status") or ""),
                                 previous_path=f.get("previous_filename")))
    return files


async def codeowners(ctx: "Context", ref: str) -> CodeOwners | None:
    """The CODEOWNERS of the base branch (the one GitHub applies to the PR), or None."""
    owner, name = ctx.repo.split("/", 1)

    async def load() -> CodeOwners | None:
        for path in CODEOWNERS_PATHS:
            try:
                item: Any = await ctx.gh.getitem("/repos/{owner}/{repo}/contents/{+path}{?ref}",
                                                 {"owner": owner, "repo": name, "path": file_path(path), "ref": ref})
            except Exception as exc:
                status = _status(exc)
                if status == 404:
                    continue
                if status is None or status >= 500 or status == 429:
                    raise  # transient: the delivery is retried
                # e.g. 403 without the contents permission: a card without CODEOWNERS beats none
                log.warning("CODEOWNERS unreadable in %s: %s", ctx.repo, exc)
                return None
            if not isinstance(item, dict) or item.get("type") != "file":
                continue
            size = int(item.get("size") or 0)
            if size >= CODEOWNERS_MAX_BYTES:
                log.warning("CODEOWNERS in %s is %d bytes: GitHub ignores one of 3 MB or more", ctx.repo, size)
                return CodeOwners(problems=(CODEOWNERS_TOO_LARGE,))
            content = item.get("content") or ""
            if not content and size:
                # From 1 MB the contents API sends no content (encoding "none"): the blob API does.
                try:
                    blob: Any = await ctx.gh.getitem(BLOB, {"owner": owner, "repo": name, "file_sha": item["sha"]})
                except Exception as exc:
                    status = _status(exc)
                    if status is None or status >= 500 or status == 429:
                        raise  # transient: the delivery is retried
                    log.warning("CODEOWNERS blob unreadable in %s: %s", ctx.repo, exc)
                    return None
                content = blob.get("content") or ""
            try:
                text = base64.b64decode(content).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return None
            return parse_codeowners(text)
        return None

    return await ctx.cached(f"pr_context:codeowners:{ctx.repo}@{ref}", load)


async def open_prs_with_commit(ctx: "Context", sha: str) -> list[int]:
    """Open PRs of this repository containing commit ``sha``, by a search (GitHub's
    /commits/{sha}/pulls finds none for a commit that lives in a fork). The caller checks
    which of them has it as head. A refused search (rate limit) finds nothing."""
    query = f"{sha} repo:{ctx.repo} is:pr is:open"
    try:
        found: Any = await ctx.gh.getitem("/search/issues{?q,per_page}", {"q": query, "per_page": 10})
    except Exception as exc:
        status = _status(exc)
        if status is None or status >= 500 or status == 429:
            raise  # transient: the delivery is retried
        log.warning("search for the PRs of %s in %s failed: %s", sha, ctx.repo, exc)
        return []
    return [int(item["number"]) for item in found.get("items") or () if item.get("number")]

"""Tells a repository when its .github/contributor-flow.yml is broken.

A broken override never silences the bot (the last good rules stay in force); this
feature says why, where people look: a check run on the commit or pull request that
changed the file. A push to the default branch also drops the cached rules so the
new file applies at once.
"""
from __future__ import annotations

from typing import Any, Sequence

from ..context import Context, GitHubReader
from ..core.actions import Action, UpsertCheckRun
from ..core.events import Event
from ..core.markdown import code
from ..core.merge_group import HeldCheck
from ..github.urls import file_path
from ..rules.loader import merge_repo_override
from ..rules.registry import sections_of
from ..rules.repo import decode_contents
from ..rules.schema import Problem
from .base import Feature

CHECK_NAME = "contributor-flow/config"


def _touched(paths: list[str], config_path: str) -> bool:
    return config_path in paths


async def _read(ctx: Context, path: str, ref: str) -> tuple[str | None, list[Problem]]:
    return await _read_file(ctx.gh, ctx.repo, path, ref)


async def _read_file(gh: GitHubReader, full_name: str, path: str, ref: str
                     ) -> tuple[str | None, list[Problem]]:
    """The file's text (None: there is none) and why the bot could not read it, as the bot
    itself reads it (``decode_contents``): a check that read it more leniently would call
    "valid" a file the bot refuses."""
    owner, repo = full_name.split("/", 1)
    try:
        data = await gh.getitem("/repos/{owner}/{repo}/contents/{+path}{?ref}",
                                {"owner": owner, "repo": repo, "path": file_path(path), "ref": ref})
    except Exception as exc:
        if getattr(exc, "status", None) == 404:
            return None, []
        raise
    text, _, problems = decode_contents(data, path)
    return text, problems


def verdict(path: str, text: str | None, unread: Sequence[Problem] = ()) -> tuple[str, str, str]:
    """(conclusion, title, summary) for the file ``path`` holding ``text`` (None: removed);
    ``unread``: why it could not be read at all (then ``text`` says nothing)."""
    from . import all_features

    if text is None and not unread:
        return "neutral", "No configuration file", f"{code(path)} was removed: the bundled rules apply."
    from ..rules.loader import Rules

    sections = sections_of(all_features())
    problems = list(unread)
    if not problems:
        _, problems = merge_repo_override(Rules.defaults(sections), text or "", path, sections)
    if not problems:
        return "success", "Configuration is valid", f"{code(path)} validates."
    lines = "\n".join(f"- {code(str(p))}" for p in problems[:50])
    return ("failure", f"{len(problems)} problem(s) in {path}",
            f"{code(path)} does not validate, so the bot keeps using the last good "
            f"configuration until it is fixed.\n\n{lines}")


def report(sha: str, repo: str, path: str, text: str | None,
           unread: Sequence[Problem] = ()) -> list[Action]:
    conclusion, title, summary = verdict(path, text, unread)
    return [UpsertCheckRun(repo=repo, name=CHECK_NAME, head_sha=sha, conclusion=conclusion,
                           title=title, summary=summary)]


def check_names(rules: Any) -> tuple[str, ...]:
    """The check this feature reports on pull requests that change the configuration file."""
    return (CHECK_NAME,)


async def held_at(gh: GitHubReader, repo: str, path: str, sha: str) -> HeldCheck:
    """The verdict on the configuration file as it is at commit ``sha`` (a merge group's commit:
    the file that would land, with whatever was merged ahead of it), decided now."""
    conclusion, title, summary = verdict(path, *await _read_file(gh, repo, path, sha))
    return HeldCheck(None, conclusion=conclusion, title=title, summary=summary)


async def on_push(event: Event, ctx: Context) -> list[Action]:
    payload = event.payload
    repo = payload.get("repository") or {}
    if payload.get("ref") != f"refs/heads/{repo.get('default_branch')}" or payload.get("deleted"):
        return []
    path = ctx.rules.section("core")["config_path"]
    paths = [p for c in payload.get("commits") or []
             for p in (*c.get("added", []), *c.get("modified", []), *c.get("removed", []))]
    if not _touched(paths, path):
        return []
    sha = payload.get("after") or ""
    return report(sha, ctx.repo, path, *await _read(ctx, path, sha))


async def on_pull_request(event: Event, ctx: Context) -> list[Action]:
    pr: dict[str, Any] = event.payload.get("pull_request") or {}
    path = ctx.rules.section("core")["config_path"]
    if event.number is None:  # a malformed payload: no request to a URL without a number
        return []
    owner, repo = ctx.repo.split("/", 1)
    files = [f["filename"] async for f in ctx.gh.getiter(
        "/repos/{owner}/{repo}/pulls/{pull_number}/files",
        {"owner": owner, "repo": repo, "pull_number": event.number})]
    if not _touched(files, path):
        return []
    sha = pr["head"]["sha"]
    return report(sha, ctx.repo, path, *await _read(ctx, path, sha))


FEATURE = Feature(
    name="config_check",
    handlers={
        "push": [on_push],
        "pull_request.opened": [on_pull_request],
        "pull_request.synchronize": [on_pull_request],
        "pull_request.reopened": [on_pull_request],
    },
)

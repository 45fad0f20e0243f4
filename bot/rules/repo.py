"""The rules in effect for one repository: bundled rules + its ``.github/contributor-flow.yml``.

Why a broken override does not simply fall back to the bundled rules: a maintainer who
pushes a typo would silently turn features back on (or off) for everyone. So the last
override that validated is kept, in memory and in the store (a restart must not lose
it), and the problems are returned for the caller to report to the repository.

Results are cached for a short TTL; revalidation is cheap because the GitHub client
sends the ETag and a 304 costs no rate limit. An unchanged blob sha skips re-parsing.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Literal, Mapping, Protocol

from ..github.errors import InstallationUnavailable
from ..github.urls import file_path
from .loader import Rules, merge_repo_override
from .registry import Section
from .schema import Problem

log = logging.getLogger(__name__)

# `{+path}`: reserved expansion keeps the slashes of `.github/...` instead of sending `%2F`.
CONTENTS_URL = "/repos/{owner}/{repo}/contents/{+path}"
Origin = Literal["bundled", "override", "last-good"]


class LastGoodStore(Protocol):
    """Persistence of the last override text that validated, per repository."""

    async def load_last_good(self, repo: str) -> str | None: ...

    async def save_last_good(self, repo: str, text: str, sha: str) -> None: ...


class ContentsReader(Protocol):
    """The one GitHub call this service makes (an installation client satisfies it)."""

    async def getitem(self, url: str, url_vars: Mapping[str, Any] | None = None) -> Any: ...


class MemoryLastGoodStore:
    """LastGoodStore in a dict: for tests and for runs without a database."""

    def __init__(self) -> None:
        self.saved: dict[str, tuple[str, str]] = {}

    async def load_last_good(self, repo: str) -> str | None:
        return self.saved[repo][0] if repo in self.saved else None

    async def save_last_good(self, repo: str, text: str, sha: str) -> None:
        self.saved[repo] = (text, sha)


@dataclass(frozen=True)
class RepoRulesResult:
    rules: Rules
    problems: tuple[Problem, ...] = ()  # non-empty: the override is broken and was not applied
    source_sha: str | None = None       # blob sha of the override read now; None: no override
    origin: Origin = "bundled"          # where ``rules`` came from


@dataclass
class _Entry:
    result: RepoRulesResult
    expires_at: float
    good: Rules | None = None       # rules from the last override that validated
    good_sha: str | None = None     # its blob sha, once saved to the store
    generation: Hashable = None     # the repository's access generation when read (see get)


class RepoRules:
    def __init__(self, bundled: Rules, sections: Iterable[Section], store: LastGoodStore, *,
                 ttl: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_repos: int = 10_000) -> None:
        self._bundled = bundled
        self._sections = list(sections)
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._max_repos = max_repos
        self._path: str = bundled["core"]["config_path"]
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[RepoRulesResult]] = {}

    @property
    def config_path(self) -> str:
        return self._path

    def invalidate(self, repo: str) -> None:
        """Forget the cached result (e.g. on a push that touched the config file); the last
        good rules are kept."""
        entry = self._entries.get(repo)
        if entry is not None:
            entry.expires_at = float("-inf")

    def known(self, repo: str) -> Rules | None:
        """The rules last read for ``repo`` (even when due for revalidation), without a request:
        for decisions that must not wait on GitHub, such as how often a delivery is tried."""
        entry = self._entries.get(repo)
        return entry.result.rules if entry is not None else None

    async def fallback(self, repo: str) -> Rules | None:
        """The rules to go on with when ``get`` cannot answer now (GitHub down, no token):
        those last read for ``repo``, else its last good override from the store; None
        when neither is known."""
        known = self.known(repo)
        if known is not None:
            return known
        try:
            return await self._last_good(repo, None)
        except Exception:
            log.exception("could not load the last good rules of %s", repo)
            return None

    async def get(self, repo: str, api: ContentsReader, *, generation: Hashable = None) -> RepoRulesResult:
        """``generation``: the repository's access generation as the caller read it from the
        store (core/access.py); a push changing the rules moves it, so rules cached under
        another one are read again at once, also on a replica the push never reached. None
        (a job, a page): the cache's time alone decides."""
        entry = self._entries.get(repo)
        if entry is not None and entry.expires_at > self._clock() and (
                generation is None or entry.generation == generation):
            return entry.result
        # One fetch per repository at a time: a burst of events must not mean a burst of reads.
        pending = self._inflight.get(repo)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise  # this caller is the one being cancelled
                # The read it waited on was cancelled with the caller that made it (a
                # delivery stopped at shutdown): that says nothing about this one, which
                # reads for itself rather than dying of someone else's cancellation.
                return await self.get(repo, api)
        future: asyncio.Future[RepoRulesResult] = asyncio.get_running_loop().create_future()
        self._inflight[repo] = future
        try:
            result = await self._refresh(repo, api, generation)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting, and that is fine
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[repo]

    async def _refresh(self, repo: str, api: ContentsReader, generation: Hashable = None) -> RepoRulesResult:
        entry = self._entries.get(repo)
        owner, _, name = repo.partition("/")
        try:
            data = await api.getitem(CONTENTS_URL, {"owner": owner, "repo": name, "path": file_path(self._path)})
        except Exception as exc:
            if isinstance(exc, InstallationUnavailable):
                raise  # uninstalled or suspended: not a read to ride out on cached rules
            if getattr(exc, "status", None) == 404:
                return self._remember(repo, RepoRulesResult(self._bundled), entry,
                                      generation=generation).result
            if entry is not None:  # GitHub trouble: what we had beats failing the event
                log.warning("reading %s of %s failed (%s); using the cached rules", self._path, repo, exc)
                return entry.result
            raise
        text, sha, problems = decode_contents(data, self._path)
        if entry is not None and sha is not None and entry.result.source_sha == sha:
            entry = self._remember(repo, entry.result, entry, generation=generation)  # same blob: same answer
            if entry.result.origin == "override":
                await self._save(repo, text, sha, entry)  # only if an earlier save failed
            return entry.result
        if not problems:
            rules, problems = _merge(self._bundled, text, self._path, self._sections, repo)
        if not problems:
            entry = self._remember(repo, RepoRulesResult(rules, (), sha, "override"), entry, good=rules,
                                   generation=generation)
            await self._save(repo, text, sha, entry)
            return entry.result
        fallback = await self._last_good(repo, entry)
        result = RepoRulesResult(fallback or self._bundled, tuple(problems), sha,
                                 "last-good" if fallback is not None else "bundled")
        # Logged here, once per version of the file read (the same blob is answered from the
        # entry above), not by every event while it stays broken. The repository itself is
        # told by the config check on the commit that changed the file.
        log.warning("rules of %s are broken, using the %s ones: %s", repo,
                    "last good" if fallback is not None else "bundled",
                    "; ".join(str(p) for p in problems))
        return self._remember(repo, result, entry, good=fallback, generation=generation).result

    def _remember(self, repo: str, result: RepoRulesResult, entry: _Entry | None,
                  good: Rules | None = None, generation: Hashable = None) -> _Entry:
        expires_at = self._clock() + self._ttl
        if entry is None:
            entry = _Entry(result, expires_at)
        entry.result, entry.expires_at = result, expires_at
        if good is not None:
            entry.good = good
        if generation is not None:  # read now: current for this generation (a job's None keeps it)
            entry.generation = generation
        self._entries[repo] = entry
        self._entries.move_to_end(repo)
        while len(self._entries) > self._max_repos:
            self._entries.popitem(last=False)
        return entry

    async def _save(self, repo: str, text: str, sha: str | None, entry: _Entry) -> None:
        if sha is not None and entry.good_sha == sha:
            return
        try:
            await self._store.save_last_good(repo, text, sha or "")
        except Exception:  # the rules are valid either way; try to persist again next time
            log.exception("could not save the last good rules of %s", repo)
            return
        entry.good_sha = sha

    async def _last_good(self, repo: str, entry: _Entry | None) -> Rules | None:
        if entry is not None and entry.good is not None:
            return entry.good
        text = await self._store.load_last_good(repo)
        if text is None:
            return None
        rules, problems = _merge(self._bundled, text, f"{self._path} (last good)", self._sections, repo)
        if problems:  # valid once, not under today's schemas: the bundled rules it is
            log.warning("the last good rules of %s no longer validate: %s", repo, problems[0])
            return None
        return rules


def _merge(bundled: Rules, text: str, source: str, sections: list[Section],
           repo: str) -> tuple[Rules, list[Problem]]:
    """``merge_repo_override``, where even a failure of the bot's own (a bug, an input no
    check foresaw) is one more reason the file is not applied: the last good rules stay
    and the repository is told, instead of every event of the repository failing."""
    try:
        return merge_repo_override(bundled, text, source, sections)
    except Exception as exc:
        log.exception("could not read %s of %s", source, repo)
        return bundled, [Problem(source, "", None, f"could not be read ({type(exc).__name__}); "
                                                   "the last good configuration stays in force")]


def decode_contents(data: Any, path: str) -> tuple[str, str | None, list[Problem]]:
    """(text, blob sha, problems) from a contents API answer. The config check reads the file
    through this too, so it reports the file broken exactly when the bot will not apply it."""
    if not isinstance(data, dict) or data.get("type", "file") != "file":
        return "", None, [Problem(path, "", None, "expected a file, found a directory or a link")]
    sha = data.get("sha")
    if data.get("encoding") != "base64":  # "none": the file is over 1 MB
        return "", sha, [Problem(path, "", None, "file too large to read (over 1 MB)")]
    try:
        return base64.b64decode(data.get("content") or "").decode("utf-8"), sha, []
    except (binascii.Error, UnicodeDecodeError):
        return "", sha, [Problem(path, "", None, "not UTF-8 text")]

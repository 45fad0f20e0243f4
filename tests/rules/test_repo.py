"""RepoRules: the override from the default branch, its cache, and the last good rules."""
from __future__ import annotations

import asyncio
import base64
from typing import Any, Mapping

import aiohttp
import gidgethub
import gidgethub.aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.github.errors import PermanentGitHubError, TransientGitHubError
from bot.rules.loader import Rules
from bot.rules.registry import Section
from bot.rules.repo import MemoryLastGoodStore, RepoRules
from bot.rules.schema import Field, List, Obj, Str

CLA = Section("cla", Obj({"phrase": Field(Str(), default="I agree"),
                          "exempt": Field(List(Str()), default=[])}))
SECTIONS = [CLA]
BUNDLED = Rules.defaults(SECTIONS)
REPO = "octo/widgets"
GOOD = "cla:\n  phrase: I have read the CLA\n"
BROKEN = "cla:\n  phrase: [oops]\n"


def contents(text: str, sha: str) -> dict[str, Any]:
    encoded = base64.encodebytes(text.encode()).decode()  # GitHub wraps base64 at 60 columns
    return {"type": "file", "encoding": "base64", "content": encoded, "sha": sha,
            "path": ".github/contributor-flow.yml"}


class ContentsAPI:
    """The one call RepoRules makes; records every call."""

    def __init__(self) -> None:
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, Mapping[str, Any]]] = []
        self.error: Exception | None = None
        self.release: asyncio.Event | None = None
        self.started = asyncio.Event()

    def put(self, repo: str, text: str, sha: str) -> None:
        self.files[repo] = contents(text, sha)

    async def getitem(self, url: str, url_vars: Mapping[str, Any] | None = None) -> Any:
        self.calls.append((url, dict(url_vars or {})))
        self.started.set()
        if self.release is not None:
            await self.release.wait()
        if self.error is not None:
            raise self.error
        repo = f"{url_vars['owner']}/{url_vars['repo']}"
        if repo not in self.files:
            raise PermanentGitHubError("Not Found", status=404)
        return self.files[repo]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api() -> ContentsAPI:
    return ContentsAPI()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryLastGoodStore:
    return MemoryLastGoodStore()


def service(store, clock) -> RepoRules:
    return RepoRules(BUNDLED, SECTIONS, store, ttl=60, clock=clock)


async def test_no_override_means_the_bundled_rules(api, store, clock):
    result = await service(store, clock).get(REPO, api)
    assert (result.rules, result.problems, result.source_sha, result.origin) == (BUNDLED, (), None, "bundled")
    assert api.calls == [("/repos/{owner}/{repo}/contents/{+path}",
                          {"owner": "octo", "repo": "widgets", "path": ".github/contributor-flow.yml"})]


async def test_a_valid_override_is_merged_cached_and_saved(api, store, clock):
    api.put(REPO, GOOD, "sha1")
    repo_rules = service(store, clock)
    result = await repo_rules.get(REPO, api)
    assert result.origin == "override" and result.source_sha == "sha1" and result.problems == ()
    assert result.rules.section("cla") == {"enabled": True, "phrase": "I have read the CLA", "exempt": []}
    assert store.saved == {REPO: (GOOD, "sha1")}

    assert await repo_rules.get(REPO, api) is result
    assert len(api.calls) == 1  # within the TTL nothing is fetched
    clock.now += 61
    assert (await repo_rules.get(REPO, api)).rules == result.rules
    assert len(api.calls) == 2


async def test_another_access_generation_reads_the_rules_again_within_the_ttl(api, store, clock):
    """A push changing the file moves the repository's access generation in the store: a
    replica the push never reached reads the rules again at its next delivery."""
    repo_rules = service(store, clock)
    api.put(REPO, GOOD, "sha1")
    first = await repo_rules.get(REPO, api, generation=(0, 0))
    assert await repo_rules.get(REPO, api, generation=(0, 0)) is first
    assert await repo_rules.get(REPO, api) is first  # a job's None: the TTL alone decides
    assert len(api.calls) == 1
    api.put(REPO, "cla:\n  phrase: I agree to the new CLA\n", "sha2")
    changed = await repo_rules.get(REPO, api, generation=(1, 0))
    assert changed.rules.section("cla")["phrase"] == "I agree to the new CLA"
    assert await repo_rules.get(REPO, api, generation=(1, 0)) is changed
    assert len(api.calls) == 2
    # GitHub cannot answer: the rules read before are used, and asked for again next time.
    api.error = TransientGitHubError("Bad Gateway", status=502)
    assert await repo_rules.get(REPO, api, generation=(2, 0)) is changed
    api.error = None
    await repo_rules.get(REPO, api, generation=(2, 0))
    assert len(api.calls) == 4


async def test_a_broken_override_keeps_the_last_good_rules_and_says_why(api, store, clock):
    repo_rules = service(store, clock)
    api.put(REPO, GOOD, "sha1")
    good = await repo_rules.get(REPO, api)
    api.put(REPO, BROKEN, "sha2")
    repo_rules.invalidate(REPO)
    result = await repo_rules.get(REPO, api)
    assert result.rules == good.rules
    assert result.origin == "last-good" and result.source_sha == "sha2"
    assert [str(p) for p in result.problems] == [
        ".github/contributor-flow.yml:2: cla.phrase: expected a string, got a list"]
    assert store.saved == {REPO: (GOOD, "sha1")}  # the broken text is never saved


async def test_a_restart_with_a_broken_file_uses_the_persisted_last_good(api, store, clock):
    api.put(REPO, GOOD, "sha1")
    await service(store, clock).get(REPO, api)
    api.put(REPO, BROKEN, "sha2")
    after_restart = service(store, clock)
    result = await after_restart.get(REPO, api)
    assert result.origin == "last-good"
    assert result.rules.section("cla")["phrase"] == "I have read the CLA"
    assert len(result.problems) == 1


async def test_a_broken_file_without_any_good_one_means_bundled(api, store, clock):
    api.put(REPO, "cla: {phrase: ok}\nunknown: 1\n", "sha1")
    result = await service(store, clock).get(REPO, api)
    assert (result.rules, result.origin) == (BUNDLED, "bundled")
    assert [p.path for p in result.problems] == ["unknown"]


async def test_files_it_cannot_read_are_problems(api, store, clock):
    api.files[REPO] = {"type": "file", "encoding": "none", "content": "", "sha": "big"}
    result = await service(store, clock).get(REPO, api)
    assert [str(p) for p in result.problems] == [
        ".github/contributor-flow.yml: file too large to read (over 1 MB)"]
    assert result.rules == BUNDLED


async def test_github_trouble_uses_the_cached_rules_or_raises(api, store, clock):
    repo_rules = service(store, clock)
    api.error = TransientGitHubError("Bad Gateway", status=502)
    with pytest.raises(TransientGitHubError):
        await repo_rules.get(REPO, api)
    api.error = None
    api.put(REPO, GOOD, "sha1")
    good = await repo_rules.get(REPO, api)
    clock.now += 61
    api.error = TransientGitHubError("Bad Gateway", status=502)
    assert await repo_rules.get(REPO, api) is good


async def test_concurrent_requests_for_one_repo_fetch_once(api, store, clock):
    api.put(REPO, GOOD, "sha1")
    api.release = asyncio.Event()
    repo_rules = service(store, clock)
    first = asyncio.create_task(repo_rules.get(REPO, api))
    second = asyncio.create_task(repo_rules.get(REPO, api))
    await api.started.wait()
    api.release.set()
    assert (await first) is (await second)
    assert len(api.calls) == 1


async def test_a_failing_store_does_not_fail_the_rules(api, clock):
    class DownStore(MemoryLastGoodStore):
        async def save_last_good(self, repo: str, text: str, sha: str) -> None:
            raise ConnectionError("database is down")

    api.put(REPO, GOOD, "sha1")
    result = await RepoRules(BUNDLED, SECTIONS, DownStore(), clock=clock).get(REPO, api)
    assert result.origin == "override"


class NotFoundAware(gidgethub.aiohttp.GitHubAPI):
    """gidgethub over real HTTP, with 404 translated the way bot.github's client does."""

    async def getitem(self, url: str, url_vars: Mapping[str, Any] | None = None) -> Any:
        try:
            return await super().getitem(url, url_vars or {})
        except gidgethub.BadRequest as exc:
            raise PermanentGitHubError(str(exc), status=int(exc.status_code)) from exc


async def test_over_real_http_the_path_keeps_its_slashes(store, clock):
    seen: list[str] = []

    async def contents_route(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        if request.match_info["repo"] != "widgets":
            return web.json_response({"message": "Not Found"}, status=404)
        return web.json_response(contents(GOOD, "sha1"))

    app = web.Application()
    app.router.add_get("/repos/{owner}/{repo}/contents/.github/contributor-flow.yml", contents_route)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        gh = NotFoundAware(session, "test", base_url=str(server.make_url("")))
        repo_rules = service(store, clock)
        result = await repo_rules.get(REPO, gh)
        missing = await repo_rules.get("octo/gadgets", gh)
    assert result.rules.section("cla")["phrase"] == "I have read the CLA"
    assert missing.origin == "bundled"
    assert seen == ["/repos/octo/widgets/contents/.github/contributor-flow.yml",
                    "/repos/octo/gadgets/contents/.github/contributor-flow.yml"]


DEEP = "cla:\n  exempt: " + "[" * 1000 + "]" * 1000 + "\n"


async def test_a_file_nested_too_deep_keeps_the_last_good_rules_and_says_why(api, store, clock):
    repo_rules = service(store, clock)
    api.put(REPO, GOOD, "sha1")
    good = await repo_rules.get(REPO, api)
    api.put(REPO, DEEP, "sha2")
    repo_rules.invalidate(REPO)
    result = await repo_rules.get(REPO, api)
    assert result.rules == good.rules and result.origin == "last-good"
    assert [str(p) for p in result.problems] == [
        ".github/contributor-flow.yml:2: invalid YAML: nested more than 50 levels deep"]


async def test_an_unexpected_failure_reading_a_file_is_a_problem_too(api, store, clock, monkeypatch):
    import bot.rules.repo as repo_module

    repo_rules = service(store, clock)
    api.put(REPO, GOOD, "sha1")
    good = await repo_rules.get(REPO, api)

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(repo_module, "merge_repo_override", broken)
    api.put(REPO, "cla:\n  phrase: new\n", "sha2")
    repo_rules.invalidate(REPO)
    result = await repo_rules.get(REPO, api)
    assert result.rules == good.rules and result.origin == "last-good"
    assert [p.message for p in result.problems] == [
        "could not be read (RecursionError); the last good configuration stays in force"]


async def test_fallback_is_what_was_last_read_else_the_stored_last_good(api, store, clock):
    api.put(REPO, GOOD, "sha1")
    good = await service(store, clock).get(REPO, api)
    after_restart = service(store, clock)
    assert (await after_restart.fallback(REPO)) == good.rules  # from the store
    assert await after_restart.fallback("octo/other") is None


async def test_a_cancelled_reader_does_not_cancel_the_others_waiting_on_its_read(api, store, clock):
    api.put(REPO, GOOD, "sha1")
    api.release = asyncio.Event()
    repo_rules = service(store, clock)
    first = asyncio.create_task(repo_rules.get(REPO, api))
    await api.started.wait()
    second = asyncio.create_task(repo_rules.get(REPO, api))   # waits on the first one's read
    await asyncio.sleep(0)
    first.cancel()                                            # e.g. its delivery stopped at shutdown
    with pytest.raises(asyncio.CancelledError):
        await first
    api.release.set()
    result = await second                                     # reads for itself instead
    assert result.origin == "override" and len(api.calls) == 2
    # A waiter that is itself cancelled still stops.
    repo_rules = service(store, clock)
    api.release = asyncio.Event()
    api.started.clear()
    first = asyncio.create_task(repo_rules.get(REPO, api))
    await api.started.wait()
    second = asyncio.create_task(repo_rules.get(REPO, api))
    await asyncio.sleep(0)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    api.release.set()
    assert (await first).origin == "override"

"""The dashboard's window (read like the CLI's) and its overview (each repository under its
own rules), from handlers called in-process; tests/e2e/test_dashboard_browser.py draws the
pages in Chromium."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.features.funnel import store
from bot.features.funnel.cli import _instant, _until
from bot.features.funnel.dashboard import _window, index_page, repo_page
from bot.features.funnel.extract import COMMENT, object_key
from bot import runtime
from bot.store import state
from bot.web.app import RUNTIME
from tests.helpers import bundled_rules

UTC = timezone.utc


def window(query: str) -> tuple[datetime, datetime]:
    return _window(make_mocked_request("GET", f"/dashboard/o/r?{query}"))


@pytest.mark.parametrize("query, since, until", [
    # A bare until date counts whole, as on the command line.
    ("since=2026-01-01&until=2026-01-31", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    # Offsets are converted to UTC, not replaced by it.
    ("since=2026-01-01T00:00%2B05:00&until=2026-01-02T00:00-03:00",
     datetime(2025, 12, 31, 19, tzinfo=UTC), datetime(2026, 1, 2, 3, tzinfo=UTC)),
    ("since=2026-01-01T10:00Z&until=2026-01-01T12:30", datetime(2026, 1, 1, 10, tzinfo=UTC),
     datetime(2026, 1, 1, 12, 30, tzinfo=UTC)),
])
def test_window_is_read_like_the_cli(query, since, until):
    assert window(query) == (since, until)
    args = dict(p.split("=") for p in query.replace("%2B", "+").split("&"))
    assert (_instant(args["since"]), _until(args["until"])) == (since, until)


@pytest.mark.parametrize("query", ["since=yesterday", "until=2026-02-30", "since=2026-02-01&until=2026-01-31"])
def test_bad_windows_are_refused(query):
    with pytest.raises(web.HTTPBadRequest):
        window(query)


def test_default_window_is_the_last_six_months():
    since, until = window("")
    assert timedelta(days=181) <= until - since <= timedelta(days=184)


def at(day: datetime) -> int:
    return int(day.timestamp())


def comment(n: int, uid: int, login: str, when: datetime, is_bot: bool = False) -> list:
    return [object_key(n, COMMENT), COMMENT, uid, login, is_bot, at(when)]


class Runtime:
    """What the pages use of the runtime: the database, the rules of each repository (or
    none when GitHub cannot be asked), and the last good rules held for each."""

    def __init__(self, db, rules: dict, *, offline: bool = False, held: dict | None = None,
                 token: str | None = None) -> None:
        self.db, self.bundled, self.rules, self.offline = db, bundled_rules(), rules, offline
        self.settings = SimpleNamespace(dashboard_token=token)
        self.repo_rules = SimpleNamespace(fallback=self._held)
        self.held = held or {}

    async def rules_for(self, repo, installation_id):
        if self.offline:
            raise ConnectionError("GitHub unreachable")
        return SimpleNamespace(rules=self.rules.get(repo, self.bundled))

    async def _held(self, repo):
        return self.held.get(repo)

    rules_or_last_good = runtime.Runtime.rules_or_last_good     # the real fallback, on these parts


async def page(handler, runtime, path: str, owner: str = "", repo: str = "") -> str:
    app = web.Application()
    app[RUNTIME] = runtime
    response = await handler(make_mocked_request("GET", path, app=app, match_info={"owner": owner, "repo": repo}))
    assert response.status == 200
    return response.text


def first_contact(html: str) -> int:
    return int(re.search(r"<td>First contact</td><td>(\d+)</td>", html).group(1))


async def test_a_bare_until_day_counts_whole_on_the_page(db):
    await state.remember_installation(db, "o/r", 1, private=False)
    await store.record_acts(db, repo_id=1, repo="o/r", acts=[
        comment(1, 5, "jan31", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        comment(2, 6, "feb1", datetime(2026, 2, 1, 0, tzinfo=UTC))])
    html = await page(repo_page, Runtime(db, {}), "/dashboard/o/r?since=2026-01-01&until=2026-01-31", "o", "r")
    assert first_contact(html) == 1                            # 31 January in, 1 February out
    assert "first seen from 2026-01-01 to 2026-01-31 (UTC)" in html


async def test_overview_counts_each_repository_under_its_own_rules(db):
    when = datetime(2026, 1, 10, tzinfo=UTC)
    for repo_id, repo in ((1, "o/r"), (2, "o/s")):
        await state.remember_installation(db, repo, 1, private=False)
    await store.record_acts(db, repo_id=1, repo="o/r", acts=[
        comment(1, 5, "alice", when), comment(2, 6, "ci-robot", when), comment(3, 7, "helper[bot]", when, True)])
    await store.record_acts(db, repo_id=2, repo="o/s", acts=[
        comment(4, 8, "bob", when), comment(5, 7, "helper[bot]", when, True)])
    rules = {"o/r": bundled_rules({"funnel": {"bots": {"deny": ["ci-robot"]}}}),
             "o/s": bundled_rules({"funnel": {"bots": {"allow": ["helper[bot]"]}}})}
    query = "?since=2026-01-01&until=2026-01-31"
    assert first_contact(await page(repo_page, Runtime(db, rules), f"/dashboard/o/r{query}", "o", "r")) == 1
    assert first_contact(await page(repo_page, Runtime(db, rules), f"/dashboard/o/s{query}", "o", "s")) == 2
    # alice and bob; ci-robot is a bot in o/r; helper[bot] counts through o/s's allow-list.
    overview = await page(index_page, Runtime(db, rules), f"/dashboard{query}")
    assert first_contact(overview) == 3
    # GitHub unreachable: the last good rules held for each repository, else the bundled ones.
    offline = Runtime(db, {}, offline=True, held={"o/r": rules["o/r"]})
    assert first_contact(await page(index_page, offline, f"/dashboard{query}")) == 2   # alice, bob
    assert first_contact(await page(repo_page, offline, f"/dashboard/o/r{query}", "o", "r")) == 1


@pytest.mark.parametrize("query", ["until=9999-12-31", "until=0001-01-01T00:00",
                                   "until=0001-01-01T00:00%2B01:00", "since=0001-01-01T00:00%2B01:00"])
def test_dates_out_of_range_are_refused_not_a_server_error(query):
    with pytest.raises(web.HTTPBadRequest):
        window(query)


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01T00:00+01:00"])
def test_dates_out_of_range_are_a_usage_error_on_the_command_line(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        _until(text)


def test_a_window_of_centuries_is_refused_before_any_work():
    # One cohort per month: 0001 to 9999 would be 120,000 cohorts, seconds of drawing on the
    # event loop that also answers GitHub's webhooks, and a page of 65 MB.
    with pytest.raises(web.HTTPBadRequest):
        window("since=0001-01-01&until=9999-12-30")
    since, until = window("since=2008-01-01&until=2027-12-31")  # all of GitHub's history fits
    assert (since.year, until.year) == (2008, 2028)


async def test_pages_read_only_who_can_be_new_and_count_off_the_loop(db, monkeypatch):
    import threading

    from bot.features.funnel import dashboard, query

    when = datetime(2026, 1, 10, tzinfo=UTC)
    for repo_id, repo in ((1, "o/r"), (2, "o/s")):
        await state.remember_installation(db, repo, 1, private=False)
        await store.record_acts(db, repo_id=repo_id, repo=repo, acts=[comment(repo_id, 5, "alice", when)])
    reads, threads = [], []
    real_read, real_compute = store.contributors, query.compute

    async def read(db, scope, teams=(), since=None, until=None, **kw):
        reads.append((scope, since, until))
        return await real_read(db, scope, teams, since, until, **kw)

    def compute(*args):
        threads.append(threading.get_ident())
        return real_compute(*args)

    monkeypatch.setattr(store, "contributors", read)
    monkeypatch.setattr(query, "compute", compute)
    monkeypatch.setattr(dashboard, "compute", compute)
    query_ = "?since=2026-01-01&until=2026-01-31"
    await page(repo_page, Runtime(db, {}), f"/dashboard/o/r{query_}", "o", "r")
    await page(index_page, Runtime(db, {}), f"/dashboard{query_}")
    window_ = (datetime(2026, 1, 1, tzinfo=UTC).timestamp(), datetime(2026, 2, 1, tzinfo=UTC).timestamp())
    assert reads == [("o/r", *window_), ("o/r", *window_), ("o/s", *window_)]
    assert len(threads) == 2 and threading.get_ident() not in threads


async def test_overview_counts_as_new_only_who_no_repository_saw_before(db):
    for repo_id, repo in ((1, "o/r"), (2, "o/s")):
        await state.remember_installation(db, repo, 1, private=False)
    await store.record_acts(db, repo_id=1, repo="o/r", acts=[
        comment(1, 5, "alice", datetime(2025, 12, 1, tzinfo=UTC)), comment(2, 6, "bob", datetime(2026, 1, 5, tzinfo=UTC))])
    await store.record_acts(db, repo_id=2, repo="o/s", acts=[
        comment(3, 5, "alice", datetime(2026, 1, 10, tzinfo=UTC)), comment(4, 6, "bob", datetime(2026, 1, 3, tzinfo=UTC))])
    query_ = "?since=2026-01-01&until=2026-01-31"
    assert first_contact(await page(repo_page, Runtime(db, {}), f"/dashboard/o/s{query_}", "o", "s")) == 2
    # alice first came to o/r in December: not new across the repositories; bob is, once.
    assert first_contact(await page(index_page, Runtime(db, {}), f"/dashboard{query_}")) == 1
    # carol comments on o/s in January, but o/r's approver team has had her since December.
    await store.record_acts(db, repo_id=2, repo="o/s", acts=[comment(5, 7, "carol", datetime(2026, 1, 7, tzinfo=UTC))])
    await store.record_team_grants(db, org="o", team="core", members=[[7, "carol", at(datetime(2025, 12, 2, tzinfo=UTC))]])
    teams = {"o/r": bundled_rules({"funnel": {"approver_teams": ["o/core"]}})}
    assert first_contact(await page(index_page, Runtime(db, teams), f"/dashboard{query_}")) == 1
    assert first_contact(await page(index_page, Runtime(db, {}), f"/dashboard{query_}")) == 2


async def test_repository_page_counts_as_the_weekly_report_does(db):
    from bot.features.funnel.query import funnel_for

    when = datetime(2026, 1, 10, tzinfo=UTC)
    for repo_id, repo in ((1, "Octo/Widgets"), (2, "Octo/Gears")):
        await state.remember_installation(db, repo, 1, private=False)
        await store.record_acts(db, repo_id=repo_id, repo=repo, acts=[comment(repo_id, 10 + repo_id, f"u{repo_id}", when)])
    org = bundled_rules({"funnel": {"org_mode": True}})
    query_ = "?since=2026-01-01&until=2026-01-31"
    weekly = await funnel_for(db, "Octo", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC),
                              org.section("funnel"))
    assert weekly.stages[0].contributors == 2
    # Typed in another case, the repository is still found with its rules: org mode, whole organisation.
    html = await page(repo_page, Runtime(db, {"Octo/Widgets": org}), f"/dashboard/octo/widgets{query_}",
                      "octo", "widgets")
    assert first_contact(html) == 2 and "<h1>Contributor flow: Octo/Widgets</h1>" in html


async def answer(handler, runtime, path: str, owner: str = "", repo: str = "", headers=None):
    """The handler's response, or the HTTP error it raised (a 404, a 401)."""
    app = web.Application()
    app[RUNTIME] = runtime
    request = make_mocked_request("GET", path, app=app, headers=headers or {},
                                  match_info={"owner": owner, "repo": repo})
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return exc


def basic(user: str, password: str) -> dict:
    import base64
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _visibility_fixture(db):
    """o/pub public, o/priv private, o/unknown never said, o/off with the funnel off, o/down
    with the bot off: one newcomer each in January."""
    when = datetime(2026, 1, 10, tzinfo=UTC)
    repos = {"o/pub": False, "o/priv": True, "o/unknown": None, "o/off": False, "o/down": False}
    for repo_id, (repo, private) in enumerate(repos.items(), 1):
        await state.remember_installation(db, repo, 1, private=private)
        await store.record_acts(db, repo_id=repo_id, repo=repo, acts=[comment(repo_id, 100 + repo_id, f"u{repo_id}", when)])
    rules = {"o/off": bundled_rules({"funnel": {"enabled": False}}),
             "o/down": bundled_rules({"core": {"enabled": False}})}
    return rules


Q = "?since=2026-01-01&until=2026-01-31"


async def test_anonymous_viewers_see_only_public_repositories(db):
    rt = Runtime(db, await _visibility_fixture(db), token="s3cret")
    await state.remember_installation(db, "o/pub", 1)     # an event that does not say: still public
    index = (await answer(index_page, rt, f"/dashboard{Q}")).text
    assert re.findall(r'<li><a href="/dashboard/([^"]+)">', index) == ["o/pub"]
    assert first_contact(index) == 1 and "1 public repositories" in index and "/dashboard/login" in index
    assert (await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub")).status == 200
    # Private, of unknown visibility, switched off, not installed: not there at all.
    for name in ("priv", "unknown", "off", "down", "nowhere"):
        assert (await answer(repo_page, rt, f"/dashboard/o/{name}{Q}", "o", name)).status == 404, name
    # No token configured: nobody sees a private repository, whatever they send.
    closed = Runtime(db, rt.rules)
    assert (await answer(repo_page, closed, f"/dashboard/o/priv{Q}", "o", "priv",
                         {"Authorization": "Bearer s3cret"})).status == 404


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer s3cret"}, basic("anyone", "s3cret"),
                                     basic("", "s3cret")])
async def test_the_token_shows_private_repositories_too(db, headers):
    rt = Runtime(db, await _visibility_fixture(db), token="s3cret")
    index = (await answer(index_page, rt, f"/dashboard{Q}", headers=headers)).text
    assert re.findall(r'<li><a href="/dashboard/([^"]+)">', index) == ["o/priv", "o/pub", "o/unknown"]
    assert first_contact(index) == 3 and "/dashboard/login" not in index
    for name in ("priv", "unknown"):
        assert (await answer(repo_page, rt, f"/dashboard/o/{name}{Q}", "o", name, headers)).status == 200
    for name in ("off", "down", "nowhere"):   # switched off or not installed: still not there
        assert (await answer(repo_page, rt, f"/dashboard/o/{name}{Q}", "o", name, headers)).status == 404


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer wrong"}, basic("s3cret", "wrong"),
                                     {"Authorization": "Basic !!!"}, {"Authorization": "Token s3cret"},
                                     {"Authorization": "Bearer s3cret2"}])
async def test_a_wrong_token_is_a_401(db, headers):
    rt = Runtime(db, await _visibility_fixture(db), token="s3cret")
    for handler, path, owner, name in ((index_page, f"/dashboard{Q}", "", ""),
                                       (repo_page, f"/dashboard/o/pub{Q}", "o", "pub")):
        resp = await answer(handler, rt, path, owner, name, headers)
        assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert "s3cret" not in resp.text and "o/priv" not in resp.text


async def test_org_mode_figures_count_only_public_repositories_for_anonymous_viewers(db):
    """o/pub in org mode: its page shows the organisation's figures, and to an anonymous
    viewer only those of the repositories known to be public."""
    when = datetime(2026, 1, 10, tzinfo=UTC)
    siblings = {"o/pub": False, "o/secret": True, "o/unsaid": None, "o/also-public": False}
    for repo_id, (repo, private) in enumerate(siblings.items(), 1):
        await state.remember_installation(db, repo, 1, private=private)
    newcomers = {"o/pub": [11], "o/secret": [12, 13], "o/unsaid": [14], "o/also-public": [15],
                 "o/uninstalled": [16]}
    for repo_id, (repo, users) in enumerate(newcomers.items(), 1):
        await store.record_acts(db, repo_id=repo_id, repo=repo,
                                acts=[comment(u, u, f"u{u}", when) for u in users])
    # mallory came to the private repository in December: not new there, but a public count
    # must not know it (she would then be missing from o/pub's January).
    await store.record_acts(db, repo_id=1, repo="o/pub", acts=[comment(20, 17, "mallory", when)])
    await store.record_acts(db, repo_id=2, repo="o/secret",
                            acts=[comment(21, 17, "mallory", datetime(2025, 12, 1, tzinfo=UTC))])
    org = bundled_rules({"funnel": {"org_mode": True}})
    rt = Runtime(db, {r: org for r in siblings}, token="s3cret")
    anonymous = (await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub")).text
    # u11, mallory (o/pub), u15 (o/also-public); not o/secret, o/unsaid nor o/uninstalled.
    assert first_contact(anonymous) == 3
    assert "every public repository of o (org mode)" in anonymous
    assert "u12" not in anonymous and "secret" not in anonymous
    signed_in = (await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub",
                              {"Authorization": "Bearer s3cret"})).text
    assert first_contact(signed_in) == 6           # u11..u16: mallory is not new in the organisation
    assert "every repository of o (org mode)" in signed_in
    # The overview and the other public repository's page say the same to anonymous viewers.
    assert first_contact((await answer(index_page, rt, f"/dashboard{Q}")).text) == 3
    assert first_contact((await answer(repo_page, rt, f"/dashboard/o/also-public{Q}", "o", "also-public")).text) == 3
    # The private repository turns public: from then on it counts, for everyone.
    await state.remember_installation(db, "o/secret", 1, private=False)
    assert first_contact((await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub")).text) == 4


async def test_a_private_repository_renamed_away_from_a_public_name_is_not_counted_as_it(db):
    """Repository 2 was o/site (private, its newcomers recorded under that name), renamed to
    o/hidden; public repository 3 is o/site now. The funnel keeps repository 2's old name until
    its next activity, but the public filter goes by repository id: the name the bot's mapping
    has for it now."""
    when = datetime(2026, 1, 10, tzinfo=UTC)
    await state.remember_installation(db, "o/pub", 1, private=False)
    await store.record_acts(db, repo_id=1, repo="o/pub", acts=[comment(11, 11, "u11", when)])
    await store.record_acts(db, repo_id=2, repo="o/site", acts=[comment(u, u, f"u{u}", when) for u in (12, 13)])
    # The rename (store/repo_names.py moved its installation row and recorded the new name).
    await db.execute("INSERT INTO repo_names (repo_id, full_name, changed_at) VALUES (2, 'o/hidden', 1)")
    await state.remember_installation(db, "o/hidden", 1, private=True)
    await db.execute("INSERT INTO repo_names (repo_id, full_name, changed_at) VALUES (3, 'o/site', 2)")
    await state.remember_installation(db, "o/site", 1, private=False)
    await store.record_acts(db, repo_id=3, repo="o/site", acts=[comment(14, 14, "u14", when)])
    org = bundled_rules({"funnel": {"org_mode": True}})
    rt = Runtime(db, {r: org for r in ("o/pub", "o/site", "o/hidden")}, token="s3cret")
    anonymous = (await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub")).text
    assert first_contact(anonymous) == 2            # u11 (o/pub), u14 (o/site, id 3)
    assert "u12" not in anonymous and "u13" not in anonymous
    signed_in = (await answer(repo_page, rt, f"/dashboard/o/pub{Q}", "o", "pub",
                              {"Authorization": "Bearer s3cret"})).text
    assert first_contact(signed_in) == 4
    # An id the mapping does not know is judged by the funnel's own name.
    assert sorted(await store.repo_ids(db, "o", among={"o/pub", "o/site"})) == [1, 3]
    await db.execute("DELETE FROM repo_names WHERE repo_id = 3")
    assert sorted(await store.repo_ids(db, "o", among={"o/pub", "o/site"})) == [1, 3]


@pytest.mark.parametrize("value, status", [
    (b"Bearer \xff\xfe", 401),                      # not UTF-8: a wrong token, not a server error
    (b"Bearer s3cret\xff", 401),
    (b"Basic \xff\xfe", 401),
    ("Bearer café".encode(), 401),                  # UTF-8, but not the token
    (b"Bearer s3cret", 200),
])
async def test_credentials_in_any_bytes_are_answered_over_http(db, value, status):
    """Sent as raw bytes over a real connection, as a client that is not a browser may send them."""
    import asyncio
    from http import HTTPStatus

    from bot.features.funnel.dashboard import register

    await state.remember_installation(db, "o/pub", 1, private=False)
    app = web.Application()
    app[RUNTIME] = Runtime(db, {}, token="s3cret")
    register(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        for path in (b"/dashboard/", b"/dashboard/o/pub"):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET " + path + b"?since=2026-01-01&until=2026-01-31 HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\nAuthorization: " + value + b"\r\n\r\n")
            await writer.drain()
            head, _, body = (await reader.read()).partition(b"\r\n\r\n")
            writer.close()
            assert head.split(b"\r\n")[0] == f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(), path
            if status == 401:
                assert b"WWW-Authenticate: Basic realm=" in head and b"s3cret" not in body
    finally:
        await runner.cleanup()

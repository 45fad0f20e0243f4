"""The dashboard in a real headless Chromium: the pages render without JavaScript and
the funnel, cohort and SLA charts are there, drawn from the stored figures."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.features.funnel import store
from bot.features.funnel.extract import COMMENT, MERGED, PR_OPENED, item_key, object_key
from bot.store import state

from .harness import BotHarness

CHROMIUM = "/usr/bin/chromium"
REPO = "octo/repo"
UTC = timezone.utc


def ts(day: int, month: int = 3) -> int:
    return int(datetime(2026, month, day, 12, tzinfo=UTC).timestamp())


async def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *extra, url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


@pytest.fixture
async def bot(fake_github, database_url):
    assert shutil.which(CHROMIUM), "run scripts/ensure_test_services.py to install Chromium"
    fake_github.add_repo(REPO)
    async with BotHarness(fake_github, database_url=database_url) as harness:
        db = harness.runtime.db
        await state.remember_installation(db, REPO, 1, private=False)
        rid = fake_github.repo(REPO).id
        # alice: comment -> PR -> merge in March; bob: PR in April; carol: comment in April.
        await store.record_acts(db, repo_id=rid, repo=REPO, acts=[
            [object_key(1, COMMENT), COMMENT, 11, "alice", False, ts(2)],
            [item_key(rid, 5, PR_OPENED), PR_OPENED, 11, "alice", False, ts(3)],
            [item_key(rid, 5, MERGED), MERGED, 11, "alice", False, ts(5)],
            [item_key(rid, 6, PR_OPENED), PR_OPENED, 12, "bob", False, ts(2, 4)],
            [object_key(2, COMMENT), COMMENT, 13, "carol", False, ts(3, 4)],
            [object_key(3, COMMENT), COMMENT, 14, "ci[bot]", True, ts(3, 4)],
        ], grants=[[11, "alice", "permission", ts(20, 4)]])
        yield harness


def bars(dom: str, chart_id: str) -> list[str]:
    svg = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', dom, re.S)
    assert svg, f"{chart_id} missing"
    return re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', svg.group(0))


async def test_repo_dashboard_renders_charts_in_chromium(bot, tmp_path):
    url = f"{bot.url}/dashboard/{REPO}?since=2026-03-01&until=2026-05-01"
    dom = await chromium(tmp_path, url, "--dump-dom")
    assert "<h1>Contributor flow: octo/repo</h1>" in dom
    assert bars(dom, "funnel-chart") == ["First contact: 3  (100%)", "First PR: 2  (67%)",
                                         "First merge: 1  (33%)", "Approver: 1  (33%)"]
    cohort = bars(dom, "cohort-chart")
    assert "2026-03, First contact: 1" in cohort and "2026-04, First contact: 2" in cohort
    assert "2026-04, First PR: 1" in cohort
    assert 'id="sla-chart"' in dom                           # the SLA feature's figures (none yet)
    assert "<td>First merge</td><td>1</td><td>33%</td>" in dom  # the same figures as a table
    assert "ci[bot]" not in dom
    assert "<script" not in dom  # nothing to run: the page is complete as served (and CSP forbids scripts)

    shot = Path(os.environ.get("DASHBOARD_SCREENSHOT") or tmp_path / "dashboard.png")
    await chromium(tmp_path, url, f"--screenshot={shot}", "--window-size=1000,1400")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


async def test_index_dashboard_links_repositories(bot, tmp_path):
    dom = await chromium(tmp_path, f"{bot.url}/dashboard?since=2026-03-01&until=2026-05-01", "--dump-dom")
    assert f'<a href="/dashboard/{REPO}">{REPO}</a>' in dom
    assert bars(dom, "funnel-chart")[0] == "First contact: 3  (100%)"
    assert 'id="cohort-chart"' in dom and 'id="sla-chart"' in dom


async def test_bad_window_is_a_400(bot):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bot.url}/dashboard/{REPO}?since=yesterday") as resp:
            assert resp.status == 400
        async with session.get(f"{bot.url}/dashboard/{REPO}") as resp:
            assert resp.status == 200
            assert "script" not in resp.headers["Content-Security-Policy"].replace("default-src 'none'", "")


@pytest.fixture
async def guarded(fake_github, database_url):
    """A public and a private repository, the private one known as such from its delivery."""
    from tests.fixtures.webhooks import load_example

    from .harness import retarget

    fake_github.add_repo(REPO)
    fake_github.add_repo("octo/secret", private=True)
    async with BotHarness(fake_github, database_url=database_url, dashboard_token="s3cret") as harness:
        db = harness.runtime.db
        await state.remember_installation(db, REPO, 1, private=False)
        payload = retarget(load_example("issues", "opened"), "octo/secret", fake_github)
        payload["repository"].update(private=True, visibility="private")
        await harness.deliver("issues", payload)
        yield harness


async def test_private_repositories_need_the_token(guarded, tmp_path):
    import base64

    import aiohttp

    rows = {r["repo"]: r["is_private"] for r in await state.installations(guarded.runtime.db)}
    assert rows == {REPO: 0, "octo/secret": 1}           # as the delivery's repository said
    bearer = {"Authorization": "Bearer s3cret"}
    basic = {"Authorization": "Basic " + base64.b64encode(b"me:s3cret").decode()}
    async with aiohttp.ClientSession() as session:
        async def get(path, headers=None):
            async with session.get(f"{guarded.url}{path}", headers=headers, allow_redirects=False) as resp:
                return resp.status, resp.headers, await resp.text()

        status, _, index = await get("/dashboard")
        assert status == 200 and "octo/secret" not in index and REPO in index
        assert (await get("/dashboard/octo/secret"))[0] == 404
        status, headers, _ = await get("/dashboard/octo/secret", {"Authorization": "Bearer nope"})
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
        for creds in (bearer, basic):
            assert (await get("/dashboard/octo/secret", creds))[0] == 200
            assert "octo/secret" in (await get("/dashboard", creds))[2]
        # A browser is asked for the token at /dashboard/login; signed in, that is the index.
        status, headers, _ = await get("/dashboard/login")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
        status, _, index = await get("/dashboard/login", basic)
        assert status == 200 and "octo/secret" in index
    # In Chromium: signed in at /dashboard/login (asked, then given the credentials), the
    # index lists the private repository and still draws its charts.
    host = guarded.url.split("://", 1)[1]
    dom = await chromium(tmp_path, f"http://me:s3cret@{host}/dashboard/login", "--dump-dom")
    assert '<a href="/dashboard/octo/secret">octo/secret</a>' in dom
    assert bars(dom, "funnel-chart")[0].startswith("First contact: ") and 'id="cohort-chart"' in dom


async def test_visibility_follows_the_newest_delivery_and_the_privatized_event(guarded):
    """Deliveries out of order: a repository made private stays hidden from anonymous viewers
    when an older delivery (or a recovered one, whose payload is a snapshot from before) says
    public; only a publicized event makes it public again."""
    import json
    import time
    import uuid

    import aiohttp

    from bot.store import deliveries
    from tests.fixtures.webhooks import load_example

    from .harness import retarget

    def payload(event, action, private):
        body = retarget(load_example(event, action), REPO, guarded.fake)
        body["repository"].update(private=private, visibility="private" if private else "public")
        return body

    async def anonymous_status():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{guarded.url}/dashboard/{REPO}") as resp:
                return resp.status

    async def queued_long_ago(private):
        """A delivery received an hour ago (its processing failed and is retried now)."""
        delivery_id = str(uuid.uuid4())
        await deliveries.insert(guarded.runtime.db, delivery_id=delivery_id, event="issues", action="opened",
                                repo=REPO, subject=f"{REPO}#1", installation_id=1,
                                body=json.dumps(payload("issues", "opened", private)), now=time.time() - 3600)
        await guarded.wait_for(delivery_id)

    assert await anonymous_status() == 200
    await guarded.deliver("issues", payload("issues", "opened", True))
    assert await anonymous_status() == 404
    await queued_long_ago(False)                               # older than the one that said private
    assert await anonymous_status() == 404

    await guarded.deliver("repository", payload("repository", "publicized", False))
    assert await anonymous_status() == 200
    await guarded.deliver("repository", payload("repository", "privatized", True))
    assert await anonymous_status() == 404
    # Received after the event, but a snapshot from before it (e.g. recovered days late).
    await guarded.deliver("issues", payload("issues", "opened", False))
    assert await anonymous_status() == 404
    await guarded.deliver("repository", payload("repository", "publicized", False))
    assert await anonymous_status() == 200

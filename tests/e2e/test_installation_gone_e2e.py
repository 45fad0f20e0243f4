"""An installation GitHub no longer has (the App was uninstalled): minting its token is answered
404. No retry can bring it back, so the delivery ends at once, recorded as dead with the
installation named, instead of being tried again and again until it dies; except in the
delivery's first two minutes, when the 404 may be GitHub's about an installation made a second
ago."""
from __future__ import annotations

import asyncio
import logging

import pytest

from bot.github.errors import InstallationGone
from bot.store import deliveries
from tests.conftest import BOTH_BACKENDS

TOKENS = "/app/installations/{installation_id}/access_tokens"


def dead_count(bot) -> float:
    return bot.runtime.metrics.deliveries_dead.labels(event="issues")._value.get()


def tokens_seen(fake) -> list[str]:
    return list(fake.auth.tokens)


@pytest.fixture
def settled(monkeypatch):
    """Deliveries past the settling time of an installation's 404 (they are all fresh here)."""
    monkeypatch.setattr(InstallationGone, "settle_after", 0.0)


@BOTH_BACKENDS
async def test_a_delivery_for_an_installation_that_is_gone_ends_at_the_first_attempt(bot, caplog, settled):
    caplog.set_level(logging.INFO)
    fake = bot.fake
    delivery = await bot.deliver_example("issues", "opened", wait=False,
                                         patch=lambda p: p.update(installation={"id": 777}))
    assert await bot.wait_for(delivery, timeout=15) == "dead"
    stored = await deliveries.get(bot.runtime.db, delivery)
    assert stored.attempts == 1
    assert "installation 777" in stored.last_error
    # One mint asked, one answer 404: no storm of retries.
    mints = fake.calls_to("POST", TOKENS, ok_only=False)
    assert [c.status for c in mints] == [404]
    assert dead_count(bot) == 1
    lines = [r.getMessage() for r in caplog.records if "777" in r.getMessage()]
    assert any("installation 777" in line and "gone" in line for line in lines), lines


async def test_an_installation_removed_while_its_token_was_cached_ends_the_delivery(bot, caplog, settled):
    caplog.set_level(logging.DEBUG)
    fake = bot.fake
    def opened(title):
        issue = fake.add_issue("octo/repo", title=title, user="alice")
        return lambda p: p.update(issue=fake.serializer.issue(issue))

    first = await bot.deliver_example("issues", "opened", patch=opened("A bug"))
    assert await bot.status(first) == "done"
    # Uninstalled: GitHub revokes the token and no longer mints one.
    minted = tokens_seen(fake)
    assert minted
    fake.state.installations.pop(1)
    fake.auth.tokens.clear()
    second = await bot.deliver_example("issues", "opened", wait=False, patch=opened("Another"))
    assert await bot.wait_for(second, timeout=15) == "dead"
    stored = await deliveries.get(bot.runtime.db, second)
    assert stored.attempts == 1 and "installation 1 " in stored.last_error + " "
    assert [c.status for c in fake.calls_to("POST", TOKENS, ok_only=False)][-1] == 404
    assert len([c for c in fake.calls_to("POST", TOKENS, ok_only=False) if c.status == 404]) == 1
    for token in minted:  # no token in any log line
        assert token not in caplog.text


async def test_a_fresh_delivery_is_retried_while_a_new_installation_is_not_yet_known(bot):
    """GitHub sends installation.created and the first events at once; minting the new
    installation's token can be answered 404 for a moment. A delivery seconds old is retried
    (its attempts counted as usual), not ended dead on that first answer."""
    fake = bot.fake
    delivery = await bot.deliver_example("issues", "opened", wait=False,
                                         patch=lambda p: p.update(installation={"id": 778}))
    for _ in range(2000):  # the first mint is answered 404, then the installation is there
        if any(c.status == 404 for c in fake.calls_to("POST", TOKENS, ok_only=False)):
            break
        await asyncio.sleep(0.005)
    fake.add_installation("octo", installation_id=778)
    assert await bot.wait_for(delivery, timeout=15) == "done"
    stored = await deliveries.get(bot.runtime.db, delivery)
    assert stored.attempts >= 1
    assert [c.status for c in fake.calls_to("POST", TOKENS, ok_only=False)][0] == 404

"""Installation token cache: one mint for many callers, refresh before expiry, invalidation."""
import asyncio
import datetime

from bot.github.auth import InstallationTokens

WALL = 1_700_000_000.0


def iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Minter:
    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, installation_id: int) -> dict:
        self.calls.append(installation_id)
        await self.release.wait()
        return {"token": f"ghs_{installation_id}_{len(self.calls)}", "expires_at": iso(WALL + 3600)}


async def test_concurrent_callers_share_one_mint():
    mint = Minter()
    mint.release.clear()
    now = [0.0]
    tokens = InstallationTokens(mint, clock=lambda: now[0], wall_clock=lambda: WALL)
    waiters = [asyncio.create_task(tokens.get(7)) for _ in range(10)]
    await asyncio.sleep(0)
    mint.release.set()
    assert set(await asyncio.gather(*waiters)) == {"ghs_7_1"}
    assert mint.calls == [7]


async def test_refreshes_five_minutes_before_expiry():
    mint = Minter()
    now = [0.0]
    tokens = InstallationTokens(mint, clock=lambda: now[0], wall_clock=lambda: WALL)
    assert await tokens.get(7) == "ghs_7_1"
    now[0] = 3600 - 301
    assert await tokens.get(7) == "ghs_7_1"
    now[0] = 3600 - 299
    assert await tokens.get(7) == "ghs_7_2"
    assert await tokens.header(8) == "token ghs_8_3"


async def test_invalidate_only_drops_the_token_that_failed():
    mint = Minter()
    tokens = InstallationTokens(mint, clock=lambda: 0.0, wall_clock=lambda: WALL)
    await tokens.get(7)
    tokens.invalidate(7, "token some-older-token")
    assert await tokens.get(7) == "ghs_7_1"
    tokens.invalidate(7, "token ghs_7_1")
    assert await tokens.get(7) == "ghs_7_2"

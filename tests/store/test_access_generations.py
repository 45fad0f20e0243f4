"""Access generations in the store, on both back ends: they only go up, per scope."""
from __future__ import annotations

from bot.store import access


async def test_bumps_move_the_generations_of_the_scopes_named(db):
    assert await access.generation(db, "octo/repo") == (0, 0)
    await access.bump(db, ["repo:octo/repo"])
    assert await access.generation(db, "octo/repo") == (1, 0)
    assert await access.generation(db, "Octo/Repo") == (1, 0)  # GitHub's names: any case
    assert await access.generation(db, "octo/other") == (0, 0)
    await access.bump(db, ["owner:octo"])
    await access.bump(db, ["owner:octo", "repo:octo/repo"])
    assert await access.generation(db, "octo/repo") == (2, 2)
    assert await access.generation(db, "octo/other") == (0, 2)
    assert await access.every_generation(db) == {"repo:octo/repo": 2, "owner:octo": 2}

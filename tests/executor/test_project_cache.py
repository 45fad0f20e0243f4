"""The executor's cache of board ids is kept per installation: one installation's token
seeing a board says nothing of what another's sees (two organisations' boards share
owner names and numbers only by chance, and one may not see the other's)."""
from __future__ import annotations

import pytest

from bot.executor import ActionEnv
from bot.executor.projects import ConfigurationError, ProjectCache, _board


class _Api:
    """An installation's GraphQL: the board it can see, or none."""

    def __init__(self, board_id: str | None) -> None:
        self.board_id = board_id
        self.calls = 0

    async def graphql(self, query, **variables):
        self.calls += 1
        root = "organization" if "organization(" in query else "user"
        if self.board_id is None:
            return {root: {"projectV2": None}}
        return {root: {"projectV2": {"id": self.board_id, "title": "Triage", "fields": {
            "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}}}}


def _env(api: _Api, installation: int) -> ActionEnv:
    return ActionEnv(api=api, db=None, bot_login="bot[bot]", fingerprint="f", retrying=False, feature="route",
                     installation=installation)


async def test_board_ids_are_cached_per_installation():
    cache = ProjectCache()
    one, other, blind = _Api("PVT_one"), _Api("PVT_other"), _Api(None)
    assert (await _board(_env(one, 1), cache, "octo", 5))["id"] == "PVT_one"
    assert (await _board(_env(other, 2), cache, "octo", 5))["id"] == "PVT_other"
    with pytest.raises(ConfigurationError):
        await _board(_env(blind, 3), cache, "octo", 5)
    assert (await _board(_env(one, 1), cache, "octo", 5))["id"] == "PVT_one"
    assert one.calls == 1                              # still cached for the installation that read it

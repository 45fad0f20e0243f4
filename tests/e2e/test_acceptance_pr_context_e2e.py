"""Acceptance (issue 5), end to end: hostile file paths and PR text cannot ping anyone, break
out of the card's markdown or pass for the card's marker; the PR keeps exactly one card."""
from __future__ import annotations

import re

from .test_pr_context_e2e import COMMENTS_URL, MARKER, REPO, bot, cards, edits, send  # noqa: F401

HOSTILE = ["docs/<!-- contributor-flow:context-card -->.md", "docs/@org/team.md", "docs/`@alice`.md",
           "docs/```\n@bob.md", "docs/</details><img src=x onerror=alert(1)>.md", "docs/&#64;carol.md",
           "docs/é@dora.md"]


async def test_hostile_paths_and_text_stay_inert_and_one_card_is_kept(bot):  # noqa: F811
    fake = bot.fake
    pr = fake.add_pull(REPO, user="ann", title="@org/team </details> <!-- contributor-flow:context-card -->",
                       body="```\n@alice\n<!-- contributor-flow:context-card -->", files=HOSTILE)
    await send(bot, pr.number, "opened")
    await send(bot, pr.number, "synchronize")
    await send(bot, pr.number, "reopened")
    [card] = cards(fake, pr.number)
    assert card.body.startswith(MARKER) and card.body.count("<!--") == 1   # only the bot's own marker
    # Code spans show their content literally (no HTML, no mentions): judge the rest.
    body = re.sub(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", "<code/>", card.body)
    assert body.count("<code/>") >= 5     # the card lists five files per component
    assert body.count("</details>") == 1 and "<img" not in body       # its own block, no raw HTML
    assert body.count("```") == 0
    # No mention GitHub would link: "@" only after a letter/digit/_ or before a zero-width space.
    assert not re.search(r"(?:^|[^A-Za-z0-9_\\])@[A-Za-z0-9]", body.replace("&", "\\&")), body
    assert "&#64;" not in body.replace("\\&#64;", "")
    assert len(fake.calls_to("POST", COMMENTS_URL)) == 1 and len(edits(fake)) == 0

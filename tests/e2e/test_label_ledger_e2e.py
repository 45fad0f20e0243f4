"""The bot removes only labels it added: a label it added that someone else takes off (a
person, or another bot) is no longer the bot's, whichever feature had added it, and is
remembered as taken off; its own removals do not reach features (the executor forgets those)."""
from __future__ import annotations

from bot.store import state
from tests.fixtures.webhooks import load_example

REPO = "octo/repo"


def unlabel(label: str, login: str, type_: str = "User"):
    def patch(payload):
        payload["label"] = {**payload["label"], "name": label}
        payload["sender"] = {**payload["sender"], "login": login, "id": 4242, "type": type_}
    return patch


async def test_a_label_someone_else_took_off_leaves_the_ledger_whoever_added_it(bot):
    db = bot.runtime.db
    pr = load_example("pull_request", "unlabeled")["pull_request"]["number"]
    issue = load_example("issues", "unlabeled")["issue"]["number"]
    await state.record_bot_label(db, REPO, pr, "cla: no", "cla")
    await state.record_bot_label(db, REPO, pr, "size/L", "pr_context")
    await state.record_bot_label(db, REPO, issue, "bug", "classify")

    # The bot's own removal is not a release: nothing changes here.
    did = await bot.deliver_example("pull_request", "unlabeled", patch=unlabel("cla: no", "contributor-flow[bot]", "Bot"))
    assert await bot.wait_for(did) == "done"
    assert await state.bot_labels(db, REPO, pr) == {"cla: no", "size/L"}
    # Another bot (a label-sync workflow) takes it off, spelt as the repository spells it.
    did = await bot.deliver_example("pull_request", "unlabeled", patch=unlabel("CLA: No", "label-sync[bot]", "Bot"))
    assert await bot.wait_for(did) == "done"
    assert await state.bot_labels(db, REPO, pr) == {"size/L"}
    assert await state.released_bot_labels(db, REPO, pr) == {"cla: no": "label-sync[bot]"}
    # A person takes off a kind label on an issue.
    did = await bot.deliver_example("issues", "unlabeled", patch=unlabel("bug", "alice"))
    assert await bot.wait_for(did) == "done"
    assert await state.bot_labels(db, REPO, issue) == set()
    # A label the bot never added changes nothing.
    did = await bot.deliver_example("pull_request", "unlabeled", patch=unlabel("help wanted", "alice"))
    assert await bot.wait_for(did) == "done"
    assert await state.bot_labels(db, REPO, pr) == {"size/L"}

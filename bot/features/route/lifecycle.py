"""The RFC record follows its issue: closed, transferred or deleted, it is off the weekly
agenda; reopened, it is back (in the state it had). Received whoever made the change,
the bot and other bots included (``any_sender``): a close is a close."""
from __future__ import annotations

from ...context import Context
from ...core.actions import Action, Note, Record
from ...core.events import Event
from . import store
from .plan import FEATURE

# The events, and what each makes of the issue's presence here ('' is open).
GONE = {"closed": "closed", "transferred": "transferred", "deleted": "deleted", "reopened": ""}


async def on_issue_state(event: Event, ctx: Context) -> list[Action]:
    issue = event.payload.get("issue") or {}
    if not issue or issue.get("pull_request") or event.action not in GONE:
        return []
    repo, number, gone = ctx.repo, int(issue["number"]), GONE[event.action]
    known = await store.rfc(ctx.db, repo, number)
    if known is None or known["gone"] == gone:
        return []
    where = "back on the agenda while in review" if not gone else "off the review agenda"
    return [Record(repo, feature=FEATURE, op="rfc_gone", args={"repo": repo, "number": number, "gone": gone}),
            Note(repo, feature=FEATURE, number=number, text=f"RFC ({known['state']}) {event.action}: {where}")]


HANDLERS = {f"issues.{action}": [on_issue_state] for action in GONE}
ANY_SENDER = frozenset(HANDLERS)

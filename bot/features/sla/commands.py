"""``/sla status`` (anyone), ``/sla pause`` and ``/sla resume`` (triagers, maintainers).

One command name, ``sla``, with sub-commands: the commands feature checks the
command's roles (anyone), and pause/resume check their stricter roles here. Refusals
and usage errors are raised, so the commands feature puts them in its one reply.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...core import sla
from ...core.actions import Action, Comment, Note, Record
from ...core.events import parse_time
from ...core.markdown import code
from ..base import CommandSpec, Invocation
from ..commands.errors import CommandError, CommandRefused
from . import store

if TYPE_CHECKING:  # pragma: no cover
    from ...context import Context
    from ...core.events import Event

PAUSE_ROLES = frozenset({"triager", "maintainer"})
USAGE = "/sla status | /sla pause | /sla resume"


def _when(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else "n/a"


def status_table(clocks: list[store.StoredClock], now: datetime) -> str:
    if not clocks:
        return "No first-response SLA clock runs on this item."
    rows = ["| Policy | State | Started | Paused | Counted | Due |", "|---|---|---|---|---|---|"]
    for c in clocks:
        st = sla.status(c.clock, now)
        due = _when(st.due) if st.due else ("when resumed" if st.state == sla.PAUSED else "n/a")
        rows.append(f"| {c.policy} | {st.state} | {_when(c.started)} | {st.paused_hours:.1f} h"
                    f" | {st.counted_hours:.1f} h of {c.clock.target / 3600:g} h | {due} |")
    return "\n".join(rows)


async def run_sla(inv: Invocation, event: "Event", ctx: "Context") -> list[Action]:
    sub = inv.args[0].lower() if inv.args else "status"
    number = event.number
    if sub == "status":
        clocks = await store.clocks(ctx.db, ctx.repo, number=number)
        return [Comment(ctx.repo, number=number, body="**First-response SLA**\n\n" + status_table(clocks, ctx.now()))]
    if sub not in ("pause", "resume"):
        raise CommandError(f"usage: {code(USAGE)}")
    item = event.item or {}
    author = str((item.get("user") or {}).get("login") or "") or None
    roles = await ctx.roles_of(event.sender_login, item_author=author)
    if not roles & PAUSE_ROLES:
        raise CommandRefused(f"only triagers and maintainers can use {code('/sla ' + sub)}.")
    # The comment's own time: the worker may run the command a while after it was written.
    comment = event.payload.get("comment") or {}
    at = (parse_time(comment.get("created_at")) or ctx.now()).timestamp()
    if sub == "pause":
        record = Record(ctx.repo, feature="sla", op="open_pause",
                        args={"repo": ctx.repo, "number": number, "reason": "command", "at": at})
    else:
        record = Record(ctx.repo, feature="sla", op="end_pauses",
                        args={"repo": ctx.repo, "number": number, "reasons": ["command", "label:*"],
                              "at": at})
    return [record, Note(ctx.repo, feature="sla", number=number,
                         text=f"/sla {sub} by {event.sender_login}")]


COMMANDS = (
    CommandSpec(name="sla", usage=USAGE,
                help="Show the first-response clock; triagers can pause it while waiting on the "
                     "author, and resume it.",
                roles=("anyone",), handler=run_sla),
)

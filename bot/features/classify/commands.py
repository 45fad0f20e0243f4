"""``/kind KIND``: a human says what kind an issue is; that wins over the bot."""
from __future__ import annotations

from typing import Sequence

from ...classify import ClassifierRules
from ...context import Context
from ...core.actions import Action
from ...core.events import Event
from ...core.markdown import neutralize
from ..base import CommandSpec, Invocation
from ..commands.errors import CommandError, CommandRefused
from ..commands.dispatch import will_run
from .decide import apply_human_kind, refused_by_rfc, rules_of


async def kind_command(inv: Invocation, event: Event, ctx: Context) -> Sequence[Action]:
    _, rules = rules_of(ctx)
    names = ", ".join(k.name for k in rules.kinds)
    if len(inv.args) != 1:
        raise CommandError(f"Usage: /kind KIND, one of: {names}.")
    kind = _kind_named(rules, inv.args[0])
    if kind is None:
        raise CommandError(f"Unknown kind {neutralize(inv.args[0], max_len=40)}; choose one of: {names}.")
    issue = event.payload.get("issue") or {}
    state = await refused_by_rfc(ctx, ctx.repo, issue, kind, event.sender_login)
    if state:
        how = ctx.rules.section("commands")["how_to_get"].get("maintainer") or ""
        raise CommandRefused(f"this RFC is {state}: only the **maintainer** role can change its kind now "
                             f"(maintainers move RFCs with `/rfc`). {how}".rstrip())
    return await apply_human_kind(ctx, ctx.repo, issue, kind, event.sender_login, "/kind", add_label=True)


def _kind_named(rules: ClassifierRules, word: str) -> str | None:
    wanted = word.casefold()
    return next((k.name for k in rules.kinds if wanted in (k.name.casefold(), k.label.casefold())), None) \
        or rules.kind_of_label(word)


async def kind_in_new_body(event: Event, ctx: Context) -> str | None:
    """The kind a ``/kind`` in the body of a newly opened issue sets, when the commands
    feature will run it in this same delivery; else None. Both decide from the state before
    the delivery, so the classifier must leave the issue to it, or the issue would be routed
    twice (as the bot's guess and as the author's kind)."""
    _, rules = rules_of(ctx)
    said = [kind for args in await will_run(event, ctx, "kind")
            if len(args) == 1 and (kind := _kind_named(rules, args[0]))]
    return said[-1] if said else None


COMMANDS = (
    CommandSpec(name="kind", usage="/kind bug|feature|question|documentation",
                help="Say what kind of issue this is; it replaces the bot's guess and routes the issue.",
                roles=("author", "triager", "maintainer"), handler=kind_command, on_prs=False),
)

"""From a comment to actions: parse, check roles, run each command, then one reply.

The batch a comment produces is: ``React(eyes)`` (so the author sees the bot is on it),
the actions of every accepted command, at most one reply ``Comment`` gathering what was
refused or went wrong, the ``Note``s that ``/explain`` reads, and ``ReportOutcome``
(+1, or confused if an action failed). A comment whose commands were all refused gets
the reply only; unknown commands without a close match get nothing at all.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping, Sequence

from ...context import Context
from ...core.actions import Action, AddLabels, Comment, Note, React, RemoveLabel, ReportOutcome
from ...core.commands_parser import ParsedCommand, new_commands, parse_commands
from ...core.events import Event
from ...core.markdown import code
from ..base import Feature, Invocation
from . import replies
from .common import clipped, shown
from .errors import CommandError, CommandRefused
from .registry import Registry
from .sources import CommandSource, ignored_author, source_of

FEATURE_NAME = "commands"
FeaturesProvider = Callable[[], Sequence[Feature]]
QUIET = frozenset({"help", "explain"})  # read-only: not worth a line in /explain
ANYONE = "anyone"  # every sender has it: a command open to anyone needs no role lookup


def registry_for(ctx: Context, features: FeaturesProvider) -> Registry:
    """The registry as this repository's rules shape it, built once per delivery."""
    key = "commands.registry"
    if key not in ctx.memo:
        ctx.memo[key] = Registry.build(features(), ctx.rules)
    return ctx.memo[key]


def make_comment_handler(features: FeaturesProvider) -> Callable[[Event, Context], Awaitable[list[Action]]]:
    async def handle(event: Event, ctx: Context) -> list[Action]:
        return await run_commands(event, ctx, registry_for(ctx, features))
    return handle


def _commands(source: CommandSource) -> list[ParsedCommand]:
    if source.edited:
        # No previous body means the edit did not touch the text (e.g. only a review's
        # state changed): nothing new to run.
        return [] if source.previous is None else new_commands(source.body, source.previous)
    return parse_commands(source.body)


def restricted_labels_touched(actions: Sequence[Action], roles: frozenset[str],
                              restricted: Mapping[str, Sequence[str]]) -> list[tuple[str, tuple[str, ...]]]:
    """(label, roles needed) for each restricted label the actions would add or remove."""
    by_lower = {name.lower(): (name, tuple(allowed)) for name, allowed in restricted.items()}
    blocked: list[tuple[str, tuple[str, ...]]] = []
    for action in actions:
        names = action.labels if isinstance(action, AddLabels) else (
            (action.label,) if isinstance(action, RemoveLabel) else ())
        for name in names:
            hit = by_lower.get(name.lower())
            if hit and not roles & set(hit[1]) and hit not in blocked:
                blocked.append(hit)
    return blocked


async def will_run(event: Event, ctx: Context, name: str) -> list[tuple[str, ...]]:
    """The arguments of each ``/name`` in the event's text that ``run_commands`` would run
    in this delivery (registered and switched on, for this kind of item, within
    ``max_per_comment``, allowed to the sender). For a feature deciding on the same
    delivery, which cannot see what the commands do until after."""
    from .. import all_features  # at call time: the list includes this very feature

    source = source_of(event)
    if (source is None or ignored_author(source, event, ctx.bot_login)
            or not ctx.rules.enabled(FEATURE_NAME)):
        return []
    entry = registry_for(ctx, all_features).get(name)
    if entry is None or not entry.applies_to(source.is_pr):
        return []
    parsed = _commands(source)[: ctx.rules.section(FEATURE_NAME)["max_per_comment"]]
    found = [cmd.args for cmd in parsed if not cmd.too_long and cmd.name.lower() == entry.name.lower()]
    if not found:
        return []
    if ANYONE not in entry.roles and not (
            await ctx.roles_of(source.actor, item_author=source.item_author) & set(entry.roles)):
        return []
    return found


async def run_commands(event: Event, ctx: Context, registry: Registry) -> list[Action]:
    source = source_of(event)
    if source is None or ignored_author(source, event, ctx.bot_login):
        return []
    parsed = _commands(source)
    if not parsed:
        return []
    rules = ctx.rules.section(FEATURE_NAME)
    parsed = parsed[: rules["max_per_comment"]]
    repo, number, actor = ctx.repo, source.number, source.actor

    roles_memo: list[frozenset[str]] = []

    async def roles() -> frozenset[str]:
        if not roles_memo:  # asked only when a known command needs it
            roles_memo.append(await ctx.roles_of(actor, item_author=source.item_author))
        return roles_memo[0]

    def note(text: str) -> Note:
        return Note(repo=repo, feature=FEATURE_NAME, number=number, text=text)

    done: list[Action] = []
    problems: list[str] = []
    notes: list[Note] = []
    accepted = 0
    for cmd in parsed:
        entry = registry.get(cmd.name)
        if entry is None:
            suggestion = registry.suggest(cmd.name)
            if suggestion:
                problems.append(replies.did_you_mean(cmd.name, suggestion))
            continue
        if cmd.too_long:  # not read, so neither split nor run
            problems.append(replies.too_long(cmd.line))
            notes.append(note(f"did not read {clipped(cmd.line)} from @{actor}: the line is too long"))
            continue
        if not entry.applies_to(source.is_pr):
            problems.append(replies.wrong_item(entry, cmd.line))
            continue
        if ANYONE not in entry.roles:
            have = await roles()
            if not have & set(entry.roles):
                problems.append(replies.refusal(entry, cmd.line, have, rules["how_to_get"]))
                notes.append(note(f"refused {clipped(cmd.line)} from @{actor}: needs "
                                  f"{' or '.join(entry.roles)}, has {', '.join(sorted(have))}"))
                continue
        invocation = Invocation(entry.name, cmd.args, cmd.line)
        try:
            actions = list(await entry.spec.handler(invocation, event, ctx))
            blocked = restricted_labels_touched(actions, frozenset({ANYONE}), rules["restricted_labels"])
            if blocked:  # only a restricted label makes the sender's roles matter
                blocked = restricted_labels_touched(actions, await roles(), rules["restricted_labels"])
            if blocked:
                label, needed = blocked[0]
                hows = " ".join(dict.fromkeys(h for r in needed if (h := rules["how_to_get"].get(r))))
                raise CommandRefused(f"the label {code(label)} is restricted to the "
                                     f"{replies.role_list(needed)} role. {hows}".rstrip())
        except CommandRefused as exc:
            problems.append(f"{shown(cmd.line)}: {exc.message}")
            notes.append(note(f"refused {clipped(cmd.line)} from @{actor}: {exc.message}"))
            continue
        except CommandError as exc:
            problems.append(f"{shown(cmd.line)}: {exc.message}")
            notes.append(note(f"could not run {clipped(cmd.line)} from @{actor}: {exc.message}"))
            continue
        accepted += 1
        done.extend(actions)
        if entry.name not in QUIET:
            notes.append(note(f"ran {clipped(cmd.line)} for @{actor} ({entry.feature})"))

    react = accepted > 0 and source.reactable
    target: dict[str, Any] = source.react_target()
    batch: list[Action] = []
    if react:
        batch.append(React(repo=repo, number=number, content="eyes", **target))
    batch.extend(done)
    if problems:
        batch.append(Comment(repo=repo, number=number, body=replies.reply(actor, problems)))
    batch.extend(notes)
    if react:
        batch.append(ReportOutcome(repo=repo, number=number, **target))
    return batch

"""What a feature is: handlers, commands, periodic jobs, state writers, rules section.

A handler is ``async (event, ctx) -> list[Action]``: it reads only through ``ctx``
and returns actions as data. Commands plug into the one command registry (the
commands feature parses comments, checks permissions and calls them). Jobs are run
by the scheduler once per period, whatever the number of replicas.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    from ..context import Context, JobContext
    from ..core.actions import Action
    from ..core.events import Event
    from ..rules.registry import Section
    from ..store.renames import NameColumns

Handler = Callable[["Event", "Context"], Awaitable[Sequence["Action"]]]


@dataclass(frozen=True)
class Invocation:
    """One parsed slash command: ``/name arg1 arg2``."""
    name: str
    args: tuple[str, ...]
    line: str


CommandHandler = Callable[[Invocation, "Event", "Context"], Awaitable[Sequence["Action"]]]


@dataclass(frozen=True)
class CommandSpec:
    name: str                    # without the slash
    usage: str                   # e.g. "/assign [@user ...]"
    help: str
    roles: tuple[str, ...]       # default roles allowed; rules/commands.yml may override
    handler: CommandHandler
    on_prs: bool = True
    on_issues: bool = True


JobRunner = Callable[["JobContext"], Awaitable[Sequence["Action"]]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    every: timedelta
    run: JobRunner


Writer = Callable[..., Awaitable[Any]]  # (db, **args) -> Any


@dataclass
class Feature:
    name: str
    handlers: Mapping[str, Sequence[Handler]] = field(default_factory=dict)
    commands: Sequence[CommandSpec] = ()
    jobs: Sequence[JobSpec] = ()
    writers: Mapping[str, Writer] = field(default_factory=dict)
    # Conditions the executor asks just before sending an action that carries a Guard naming
    # one (see core.actions.Guard): (db, **args) -> bool.
    guards: Mapping[str, Callable[..., Awaitable[bool]]] = field(default_factory=dict)
    # Package holding this feature's SQL migrations (see bot.store.migrate), if any.
    migrations: str | None = None
    # Registers extra CLI sub-commands: (subparsers) -> None.
    cli: Callable[["argparse._SubParsersAction"], None] | None = None
    rules: "Section | None" = None
    # Adds web pages to the app at creation: (app) -> None; handlers find the
    # runtime at request time in request.app[bot.web.app.RUNTIME].
    web: Callable[[Any], None] | None = None
    # Conversation events sent by other bots (dependabot, renovate...) are dropped
    # unless listed in core.allowed_bots; a feature that must answer them anyway (a
    # required check like the CLA) says so here. The bot's own events never reach it.
    accepts_bot_events: bool = False
    # Qualified events ("issues.closed") this feature receives whoever sent them, the bot
    # itself included: a fact such as a close is true whoever made it (the SLA clocks).
    any_sender: frozenset[str] = frozenset()
    # Qualified events this feature also receives when the bot itself sent them: the bot's
    # own act carrying out a person's command (``/reopen``) is that person's, and must have
    # the effect theirs would. Other bots' stay filtered as above (``core.allowed_bots``,
    # ``accepts_bot_events``): what is not a fact to record is no reaction owed to them.
    own_events: frozenset[str] = frozenset()
    # How this feature's tables keep repository names besides ``repo`` columns, which a rename
    # or transfer moves by themselves (see bot.store.renames).
    repo_names: "NameColumns | None" = None

    def handlers_for(self, event: "Event") -> Sequence[Handler]:
        return [*self.handlers.get(event.qualified, ()),
                *(self.handlers.get(event.name, ()) if event.action else ())]

"""Pull-request context card: what a PR touches, who owns it, what is expected of it.

One card per PR (a bot comment found again by its marker, or a section of the PR body),
area labels for the components touched directly, and review requests to their owners
within a per-PR cap and each reviewer's load. See rules/components.yml.
"""
from __future__ import annotations

from bot.features.base import Feature
from bot.store.renames import NameColumns

from . import handlers, store
from .cli import register
from .handlers import merged_card
from .rules import SECTION

FEATURE = Feature(
    name=store.FEATURE,
    handlers={
        **{f"pull_request.{action}": [handlers.on_pull_request] for action in sorted(handlers.CARD_ACTIONS - {"reopened"})},
        "pull_request.reopened": [handlers.on_pull_request, handlers.on_reopened],
        "pull_request.closed": [handlers.on_closed],
        "pull_request.review_request_removed": [handlers.on_review_request_removed],
        "pull_request_review.submitted": [handlers.on_review_submitted],
        "check_run.created": [handlers.on_check_run],
        "check_run.completed": [handlers.on_check_run],
    },
    writers=store.WRITERS,
    guards=store.GUARDS,
    migrations="bot.features.pr_context.migrations",
    rules=SECTION,
    cli=register,
    # A close ends the PR's review requests and a merge makes a past contributor whoever
    # did it: the bot itself (/close), a stale bot, a merge bot. A reopen brings back those
    # GitHub still lists, whoever did it too, or the stored load would stay short of GitHub.
    # The card, labels and new review requests after a reopen are a reaction owed to people,
    # allowed bots and the bot's own /reopen, not to another bot (dependabot reopening its PR),
    # whose opening or push got none: on_pull_request tells them apart.
    any_sender=frozenset({"pull_request.closed", "pull_request.reopened"}),
    # A transferred repository's merged PRs count for its new owner (scope "org"); the
    # first-timer decision is made once, when the card is first rendered: the first one stands.
    repo_names=NameColumns(owners={"pr_context_merged": "owner"}, keep_old=frozenset({"pr_context_prs"})),
)

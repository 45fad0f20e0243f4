"""The ``sandbox-cards`` job: the card of each pull request whose sandbox line changed is
written again, and waits past their time end.

Features decide before any action of a delivery runs, so the delivery that records a line (a
merge, a deployment status) cannot render the card with it: the pull-request context card reads
the line from the store (``status_line``) when it is rendered. For an open pull request the
card is rendered on its own events (a check run completing refreshes it, see pr_context); a
merged one has no more events, so this job renders it after the line is recorded: every 30
seconds, each pull request whose line changed since its card last showed it, at most
``MAX_CARDS`` a run (card edits are paced about a second apart; the rest go in the next runs).
The card comes from pr_context (``merged_card``): the same card, edited in place, and only
where it exists. The card first, then the record: a run that fails half-way renders it again.
"""
from __future__ import annotations

from typing import Any, Mapping

from ...context import Context, JobContext, RepoHandle
from ...core.actions import Action, Record
from ...core.events import Event
from ...github import PermanentGitHubError
from . import store
from .handlers import FEATURE_NAME, WAIT_DAYS
from .rules import SECTION

MAX_CARDS = 20
LOOK_AT = 10 * MAX_CARDS  # due lines read a run: those of repositories out of reach are skipped
# Settled lines (live, expired) are kept this long after the merge, then forgotten.
KEEP_DAYS = 30
REFRESH_EVENT = "contributor_flow.sandbox_card"  # the job's context: no delivery, no sender


def _on(handle: RepoHandle | None) -> bool:
    return handle is not None and SECTION.name in handle.rules and handle.rules.enabled(SECTION.name)


def job_context(jctx: JobContext, handle: RepoHandle) -> Context:
    """What pr_context reads to render a card (the repository, its rules, GitHub, the store)."""
    owner = handle.repo.split("/", 1)[0]
    event = Event(name=REFRESH_EVENT, payload={"repository": {"full_name": handle.repo, "owner": {"login": owner}}})
    return Context(event=event, rules=handle.rules, gh=handle.gh, db=jctx.db, roles_of=handle.roles_of,
                   bot_login=jctx.bot_login, clock=jctx.clock)


async def _pull(ctx: Context, number: int) -> Mapping[str, Any] | None:
    owner, name = ctx.repo.split("/", 1)
    try:
        return await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}",
                                    {"owner": owner, "repo": name, "pull_number": number})
    except PermanentGitHubError as exc:
        if exc.status in (404, 410):
            return None
        raise


async def refresh_cards(jctx: JobContext) -> list[Action]:
    from ..pr_context import merged_card

    now = jctx.now().timestamp()
    actions: list[Action] = [
        Record(repo, feature=FEATURE_NAME, op="expire", args={"repo": repo, "before": now - WAIT_DAYS * 86400})
        for repo in await store.repos_to_expire(jctx.db, now - WAIT_DAYS * 86400)]
    actions += [Record(repo, feature=FEATURE_NAME, op="prune", args={"repo": repo, "before": now - KEEP_DAYS * 86400})
                for repo in await store.repos_to_prune(jctx.db, now - KEEP_DAYS * 86400)]
    due = await store.due_cards(jctx.db, LOOK_AT)
    if not due:
        return actions
    wanted = {row["repo"] for row in due}
    handles = {h.repo: h for h in await jctx.repos() if h.repo in wanted}
    shown = 0
    for row in due:
        repo, number = str(row["repo"]), int(row["number"])
        handle = handles.get(repo)
        if handle is None:
            # Not in this run's repositories (its token or rules not to be had now, or the App
            # uninstalled): left due for a later run; pruned with the rest in the end.
            continue
        if shown >= MAX_CARDS:
            break
        if _on(handle):
            ctx = job_context(jctx, handle)
            pr = await _pull(ctx, number)
            card = await merged_card(ctx, pr) if pr else []
            shown += 1 if card else 0
            actions += card
        # Shown, or nothing to show it on (no card, the PR gone, the section off).
        actions.append(Record(repo, feature=FEATURE_NAME, op="carded",
                              args={"repo": repo, "number": number, "version": int(row["line_version"])}))
    return actions

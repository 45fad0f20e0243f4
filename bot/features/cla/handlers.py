"""Event handlers, slash commands and the periodic re-check of the CLA feature."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from ...context import Context, JobContext
from ...github import PermanentGitHubError
from ...core.actions import Action, Note, React, Record
from ...core.cla import Account, account_from_api, is_signature
from ...core.events import Event, parse_time
from ...core.markdown import code
from ...core.merge_group import is_queue_branch
from ...github.urls import based_here
from ...store.db import DatabaseUnavailable
from ..base import Invocation
from ..commands.errors import CommandError, CommandRefused
from . import lookups, store
from .check import (FEATURE_NAME, CheckEnv, agreement_key, check_pull_request, owner_remembered,
                    recheck_numbers)

log = logging.getLogger("bot.features.cla")


def _signs_cla(cfg: Mapping[str, Any]) -> bool:
    return cfg["mode"] in ("cla", "both")


async def on_pull_request(event: Event, ctx: Context) -> list[Action]:
    """opened / synchronize / reopened: check the PR's head."""
    pr = event.payload.get("pull_request") or {}
    if pr.get("state", "open") != "open":
        return []
    previous = await store.status_of(ctx.db, ctx.repo, int(pr["number"]))
    if previous is not None and not previous["is_open"] and event.action != "reopened":
        # A close was handled after this event was sent (GitHub delivers out of order): its
        # payload still says open. Checked as it is, it would store the pull request open again
        # with its waiting list, and send a check, labels and a comment to a closed one.
        number, head = int(pr["number"]), str(pr["head"]["sha"])
        try:
            state = str((await lookups.get_pull(ctx.gh, ctx.repo, number)).get("state") or "")
        except PermanentGitHubError as exc:
            if exc.status not in (404, 410):
                raise
            state = "gone"
        if state != "open":
            return [Note(ctx.repo, feature=FEATURE_NAME, number=number,
                         text=f"CLA check of {head[:7]} dropped: #{number} is {state} now")]
    return await check_pull_request(CheckEnv.from_context(ctx), pr, previous=previous,
                                    seen_at=event.received_at.timestamp())


async def on_base_changed(event: Event, ctx: Context) -> list[Action]:
    """edited with a new base branch: the PR's commits are a different range now."""
    if "base" not in (event.payload.get("changes") or {}):
        return []
    return await on_pull_request(event, ctx)


async def on_check_rerequested(event: Event, ctx: Context) -> list[Action]:
    """"Re-run" on our check in GitHub's UI: check its pull requests again."""
    run = event.payload.get("check_run") or {}
    env = CheckEnv.from_context(ctx)
    if run.get("name") != env.cfg["check_name"]:
        return []
    if is_queue_branch((run.get("check_suite") or {}).get("head_branch")):
        return []  # a merge group's check: merge_queue decides the group again, not the PR's
    repository = event.payload.get("repository") or {}
    numbers = [int(p["number"]) for p in run.get("pull_requests") or []
               if p.get("number") is not None and based_here(p, repository)]
    if not numbers and run.get("head_sha"):
        # GitHub leaves pull_requests empty when the head branch is in a fork (most CLA
        # cases); the check run is ours, so the PR we ran it for is on record by its head.
        status = await store.status_by_head(env.db, env.repo, str(run["head_sha"]))
        numbers = [int(status["number"])] if status else []
    return await recheck_numbers(env, numbers)


async def on_pull_request_closed(event: Event, ctx: Context) -> list[Action]:
    number = event.number
    if number is None:
        return []
    return [Record(ctx.repo, feature=FEATURE_NAME, op="pr_closed", args={"repo": ctx.repo, "number": number})]


async def _prs_to_recheck(env: CheckEnv, signer: Account, here: int | None,
                          is_pr_here: bool) -> list[int]:
    numbers = set(await store.waiting_for(env.db, env.repo, signer.id))
    numbers.update(await lookups.open_prs_by(env.gh, env.repo, signer.login))
    if here is not None and is_pr_here:
        numbers.add(here)
    return sorted(numbers)


def _sign_record(env: CheckEnv, signer: Account, *, at: float, url: str, recorded_by: str = "") -> Record:
    return Record(env.repo, feature=FEATURE_NAME, op="sign", args={
        "agreement": env.agreement, "user_id": signer.id, "login": signer.login,
        "version": env.version, "signed_at": at, "comment_url": url, "repo": env.repo,
        "recorded_by": recorded_by})


async def on_comment(event: Event, ctx: Context) -> list[Action]:
    """A comment that is the signing phrase signs, then re-checks every waiting PR of the signer."""
    env = CheckEnv.from_context(ctx)
    comment = event.payload.get("comment") or {}
    if not _signs_cla(env.cfg) or not is_signature(str(comment.get("body") or ""), env.cfg["phrase"]):
        return []
    signer = account_from_api(comment.get("user"))
    if signer is None or signer.is_bot or signer.login == ctx.bot_login:
        return []
    created = parse_time(comment.get("created_at")) or ctx.now()
    actions: list[Action] = [
        _sign_record(env, signer, at=created.timestamp(), url=str(comment.get("html_url") or "")),
        Note(env.repo, feature=FEATURE_NAME, number=event.number or 0,
             text=f"{signer.login} signed CLA version {env.version}"),
        *await owner_remembered(env, event.payload.get("repository"), event.received_at.timestamp()),
    ]
    if comment.get("id") is not None and event.number is not None:
        actions.append(React(env.repo, number=event.number, content="+1", comment_id=int(comment["id"])))
    numbers = await _prs_to_recheck(env, signer, event.number, event.is_pull_request)
    actions += await _recheck_after_signing(env, numbers, signer, event.number or 0)
    return actions


async def _recheck_after_signing(env: CheckEnv, numbers: list[int], signer: Account, here: int) -> list[Action]:
    """The signer's pull requests re-checked, each on its own. One GitHub refuses for good (a 403:
    the repository blocked or access lost; a 451: a legal takedown) would be refused on every
    retry, so failing the delivery for it would end in a dead delivery and the signature, the
    first of its actions, lost: it is skipped (logged, noted on it and counted on ``here``, the
    conversation signed in) and keeps waiting, so the periodic job tries it again."""
    actions: list[Action] = []
    refused: list[int] = []
    for number in numbers:
        try:
            actions += await recheck_numbers(env, [number], just_signed={signer.id: env.version})
        except PermanentGitHubError as exc:
            refused.append(number)
            log.warning("CLA re-check of %s#%s after %s signed skipped: GitHub refused it: %s",
                        env.repo, number, signer.login, exc)
            actions.append(Note(env.repo, feature=FEATURE_NAME, number=number,
                                text=f"CLA re-check after {signer.login} signed skipped: #{number} could not "
                                     f"be read (GitHub answered {exc.status})"))
    if refused:
        listed = ", ".join(f"#{n}" for n in refused)
        actions.append(Note(env.repo, feature=FEATURE_NAME, number=here,
                            text=f"{len(refused)} of {len(numbers)} pull requests to re-check after "
                                 f"{signer.login} signed could not be read ({listed}): the signature is kept"))
    return actions


# --- commands ------------------------------------------------------------------------------------

USAGE = "/cla recheck | /cla record @user"


async def cla_command(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    env = CheckEnv.from_context(ctx)
    sub = inv.args[0].lower() if inv.args else ""
    number = event.number
    if sub == "recheck" and len(inv.args) == 1 and number is not None:
        if not event.is_pull_request:
            raise CommandError("`/cla recheck` works on pull requests only.")
        return await recheck_numbers(env, [number])
    if sub == "record" and len(inv.args) == 2 and number is not None:
        return await _record(env, inv, event, ctx, number)
    raise CommandError(f"usage: {code(USAGE)}")


async def _record(env: CheckEnv, inv: Invocation, event: Event, ctx: Context, number: int) -> list[Action]:
    """A maintainer records a signature made elsewhere (paper, another system)."""
    comment = event.payload.get("comment") or {}
    sender = str((comment.get("user") or {}).get("login") or event.sender_login)
    if "maintainer" not in await ctx.roles_of(sender):
        raise CommandRefused("only maintainers can record a CLA signature.")
    if not _signs_cla(env.cfg):
        raise CommandError("this repository checks the DCO only; there is no CLA to record.")
    login = inv.args[1].lstrip("@")
    account = await lookups.user_account(env.gh, login)
    if account is None:
        raise CommandError(f"there is no GitHub user {code(login)}.")
    actions: list[Action] = [
        _sign_record(env, account, at=ctx.now().timestamp(), url=str(comment.get("html_url") or ""),
                     recorded_by=sender),
        Note(env.repo, feature=FEATURE_NAME, number=number,
             text=f"{sender} recorded CLA version {env.version} for {account.login}"),
        *await owner_remembered(env, event.payload.get("repository"), event.received_at.timestamp()),
    ]
    numbers = await _prs_to_recheck(env, account, number, event.is_pull_request)
    actions += await _recheck_after_signing(env, numbers, account, number)
    return actions


# --- periodic re-check ---------------------------------------------------------------------------

# Seconds after which a verdict whose GitHub side was never sent is re-checked by the job: the
# delivery or job that wrote it may still be sending it (or waiting to retry) until then.
UNSENT_AFTER = 300.0
# Runs of the job that re-check one head's verdict without a verdict being sent (see
# ``store.job_tried``): a re-check that keeps failing (GitHub refusing the pull request, a commit
# walk that comes up short, a listing that keeps disagreeing) is given up after an hour of tries,
# with a note, rather than repeated (a big pull request walked page by page) every 10 minutes
# forever. A push, a re-run or ``/cla recheck`` decides that pull request again.
MAX_JOB_TRIES = 6


async def recheck_signed(jctx: JobContext) -> list[Action]:
    """Catch-all for signatures that arrived in another repository sharing the agreement (or
    while a delivery was lost): PRs still waiting for someone who has now signed. And for
    verdicts written but never sent (see ``store``): the process died between the two, or a
    retry decided again without finding the pull request.

    Each pull request is re-checked on its own: one that fails (GitHub refusing it, a commit
    listing behind its head) is logged and noted, and the others' actions are kept, in every
    repository; the job fails only when the store does."""
    actions: list[Action] = []
    for handle in await jctx.repos():
        env = CheckEnv.from_handle(handle, jctx.db, jctx.clock, shared_batch=True)
        if not handle.rules.enabled(FEATURE_NAME):
            continue
        numbers = await store.unsent(jctx.db, handle.repo, jctx.now().timestamp() - UNSENT_AFTER,
                                     max_tries=MAX_JOB_TRIES)
        if _signs_cla(env.cfg):
            numbers += await store.waiting_for_signers(jctx.db, handle.repo, agreement_key(handle.repo, env.cfg),
                                                       env.version, max_tries=MAX_JOB_TRIES)
        for number in sorted(set(numbers)):
            actions += await _job_recheck(env, number)
    return actions


async def _job_recheck(env: CheckEnv, number: int) -> list[Action]:
    """One pull request re-checked by the job, the try counted first (see MAX_JOB_TRIES)."""
    row = await store.status_of(env.db, env.repo, number)
    if row is None:
        return []
    head = str(row["head_sha"])
    tries = (int(row["job_tries"]) if row["job_tries_head"] == head else 0) + 1
    tried = Record(env.repo, feature=FEATURE_NAME, op="job_tried",
                   args={"repo": env.repo, "number": number, "head_sha": head})
    try:
        done = await recheck_numbers(env, [number])
    except DatabaseUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - one pull request's failure is not the run's
        log.warning("periodic CLA re-check of %s#%s at %s failed (try %d of %d): %s: %s", env.repo, number,
                    head[:7], tries, MAX_JOB_TRIES, type(exc).__name__, exc)
        done = [Note(env.repo, feature=FEATURE_NAME, number=number,
                     text=f"periodic CLA re-check failed (try {tries} of {MAX_JOB_TRIES}): {type(exc).__name__}")]
    sends = any(isinstance(a, Record) and a.op in ("published", "pr_closed") for a in done)
    if tries >= MAX_JOB_TRIES and not sends:
        log.warning("periodic CLA re-check of %s#%s at %s given up after %d tries", env.repo, number, head[:7], tries)
        done.append(Note(env.repo, feature=FEATURE_NAME, number=number,
                         text=f"periodic CLA re-check of {head[:7]} given up after {tries} tries: a push, a "
                              "re-run of the check or /cla recheck decides it again"))
    return [tried, *done]

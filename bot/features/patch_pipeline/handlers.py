"""Event handlers, the ``/verify-patch`` command and the periodic sweep (timeouts, and the
cancels still owed). A head is decided for a pull request (``number``) or for a direct push to a
gated branch (``number`` 0 and the ``branch``, see pushes): the same gate, superseding within
that pull request or that branch only."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Mapping, Sequence

from ...context import Context, JobContext
from ...core import pipeline as P
from ...core.actions import (Action, Comment, DispatchWorkflow, Note, Record, RepositoryDispatch,
                             UpsertCheckRun)
from ...core.events import Event
from ..base import Invocation
from . import cancels, lookups, pushes, store, strays, tracking
from .tracking import FEATURE_NAME, changed, check, save, specs
from .verification import (MAX_PATCHES, SIGNATURE_CHECK, Verdict, render, signers_text, touched_patches,
                           verify_patches)

SECTION = "pipeline"
USAGE = "/verify-patch"


def _now(ctx: Context | JobContext) -> float:
    return ctx.now().timestamp()


def dispatch_action(repo: str, section: Mapping[str, Any], number: int, head_sha: str,
                    patches: Sequence[str], signers: str) -> Action:
    trigger = section["trigger"]
    if trigger["kind"] == "repository_dispatch":
        return RepositoryDispatch(repo, event_type=trigger["event_type"], client_payload={
            "pr_number": number, "head_sha": head_sha, "patches": list(patches), "signer": signers})
    return DispatchWorkflow(repo, workflow=trigger["workflow"], ref=trigger["ref"], inputs={
        "pr_number": str(number), "head_sha": head_sha, "patches": json.dumps(list(patches)),
        "signer": signers})


async def _supersede_others(ctx: Context, section: Mapping[str, Any], number: int,
                            head_sha: str, *, branch: str | None = None) -> list[Action]:
    """The pipelines of the pull request's (or, with ``branch``, the branch's) other heads end:
    never those of another pull request or branch."""
    actions: list[Action] = []
    live = (await store.live_runs(ctx.db, ctx.repo, branch=branch) if branch is not None
            else await store.live_runs(ctx.db, ctx.repo, number=number))
    now = _now(ctx)  # one instant: the end's save and its cancel name the same owing (tracking.stop)
    for row, run in live:
        if run.head_sha == head_sha:
            continue
        gone = P.supersede(run, head_sha, now)
        # The run keeps its pull request, if one took it over (a push to its branch ends it).
        actions += [save(ctx.repo, int(row["number"]), gone, now, revision=row["revision"], stops=True,
                         delivery_id=ctx.event.delivery_id),
                    check(ctx.repo, gone, section, signers=row.get("signers") or "", run_url=row.get("run_url")),
                    *tracking.stop(ctx.repo, run, now),
                    Note(ctx.repo, feature=FEATURE_NAME, number=number,
                         text=f"patch pipeline for {run.head_sha[:7]} superseded by {head_sha[:7]}")]
    return actions


async def _withdraw_own_run(ctx: Context, section: Mapping[str, Any], number: int, head_sha: str,
                            reasons: str) -> list[Action]:
    """A pipeline still running for this very head whose patches no longer verify (decided
    again after the trust policy changed): it is concluded cancelled. The head is recorded
    as refused next, out of the timeout sweep's and the workflow events' reach, so its
    check would otherwise stay "in progress" for good."""
    found = await store.run_for_head(ctx.db, ctx.repo, head_sha)
    if found is None or found[0]["status"] not in store.LIVE:
        return []
    row, run = found
    now, number = _now(ctx), number or int(row["number"])
    # Concluded like a superseded run (running stages cancelled, the rest skipped), but
    # by this head's own verdict rather than by a newer push.
    gone = replace(P.supersede(run, head_sha, now), status=P.COMPLETED, superseded_by=None)
    shown = check(ctx.repo, gone, section, signers=row.get("signers") or "", run_url=row.get("run_url"))
    shown = replace(shown, title="Cancelled: the patch signatures no longer verify",
                    summary=shown.summary + "\n\nThe patches of this commit no longer verify against the "
                    "trust policy (see the patch-signature check); the results above are not trusted.")
    return [save(ctx.repo, number, gone, now, revision=row["revision"], stops=True,
                 delivery_id=ctx.event.delivery_id), shown,
            *tracking.stop(ctx.repo, run, now),
            Note(ctx.repo, feature=FEATURE_NAME, number=number,
                 text=f"patch pipeline for {head_sha[:7]} cancelled: its patches no longer verify "
                      f"({reasons[:200]})")]


async def gate(ctx: Context, number: int, head_sha: str, filenames: Sequence[str], *,
               branch: str | None = None, unlisted: str | None = None) -> list[Action]:
    """Verify the patches of one head; dispatch the pipeline only if every one verifies.
    ``branch``: the head was pushed to that gated branch (``number`` is 0: the pipeline's
    ``pr_number`` says so); ``unlisted``: why its patches could not be listed (refused)."""
    section = ctx.rules.section(SECTION)
    repo, now = ctx.repo, _now(ctx)
    actions = await _supersede_others(ctx, section, number, head_sha, branch=branch)
    patches = touched_patches(section, filenames)
    if unlisted is not None:
        verdicts = [Verdict(f"patches of {head_sha[:7]}", reason=unlisted)]
    elif not patches:
        return actions
    elif len(patches) > MAX_PATCHES:
        verdicts = [Verdict(f"{len(patches)} patches", reason=f"more than {MAX_PATCHES} patches in one "
                            f"{'push' if branch else 'pull request'}: split it")]
    else:
        verdicts = await verify_patches(ctx.gh, repo, head_sha, section, patches)
    if not verdicts:  # every touched patch was deleted
        return actions
    conclusion, title, summary = render(verdicts)
    if unlisted is not None:
        title = "Patches could not be listed"
    actions.append(UpsertCheckRun(repo, name=SIGNATURE_CHECK, head_sha=head_sha, conclusion=conclusion,
                                  title=title, summary=summary))
    # What the decision checked: the patches themselves even when refused unverified (too many),
    # so that a branch carries them to its next head (pushes.pending); none known when unlisted.
    checked = ([] if unlisted is not None else list(patches) if len(patches) > MAX_PATCHES
               else [v.path for v in verdicts])
    pushed = f" (push to {branch})" if branch else ""
    if conclusion != "success":
        reasons = "; ".join(f"{v.path}: {v.reason}" for v in verdicts if not v.ok)
        actions += await _withdraw_own_run(ctx, section, number, head_sha, reasons)
        return actions + [
            Record(repo, feature=FEATURE_NAME, op="record_rejection",
                   args={"repo": repo, "number": number, "head_sha": head_sha, "reason": reasons,
                         "patches": checked, "at": now, "branch": branch, "unlisted": unlisted is not None}),
            Note(repo, feature=FEATURE_NAME, number=number,
                 text=f"not dispatched: {head_sha[:7]}{pushed} has unverified patches ({reasons[:300]})")]
    signers = signers_text(verdicts)
    run = P.new_run(head_sha, specs(section), now)
    return actions + [
        dispatch_action(repo, section, number, head_sha, checked, signers),
        save(repo, number, run, now, signers=signers, patches=checked, branch=branch),
        check(repo, run, section, signers=signers),
        Note(repo, feature=FEATURE_NAME, number=number,
             text=f"dispatched the patch pipeline for {head_sha[:7]}{pushed} ({len(checked)} patches, {signers})"),
    ]


async def on_pull_request(event: Event, ctx: Context) -> list[Action]:
    pr = event.payload["pull_request"]
    number, head_sha = int(pr["number"]), str(pr["head"]["sha"])
    found = await store.run_for_head(ctx.db, ctx.repo, head_sha)
    if found is not None:
        # Decided already (a redelivery, a reopen, a push back to an earlier head): only
        # what runs for another head goes; /verify-patch decides this head again.
        return [*_adopt(ctx, found[0], number),
                *await _supersede_others(ctx, ctx.rules.section(SECTION), number, head_sha),
                *await cancels.resend(ctx)]
    files = await lookups.pr_files(ctx.gh, ctx.repo, number)
    return await gate(ctx, number, head_sha, [f["filename"] for f in files]) + await cancels.resend(ctx)


def _adopt(ctx: Context, row: Mapping[str, Any], number: int) -> list[Action]:
    """Runs are kept per head; a head decided for another pull request (a PR closed and
    opened again as a new one from the same branch), or for a push to a gated branch, now
    belongs to this one, so that its card shows the run and its next push supersedes it (a
    push to that branch still does too)."""
    if int(row["number"]) == number:
        return []
    head_sha = str(row["head_sha"])
    decided = f"#{row['number']}" if int(row["number"]) else f"a push to {row.get('branch')}"
    return [Record(ctx.repo, feature=FEATURE_NAME, op="adopt_run",
                   args={"repo": ctx.repo, "head_sha": head_sha, "number": number, "at": _now(ctx)}),
            Note(ctx.repo, feature=FEATURE_NAME, number=number,
                 text=f"patch pipeline of {head_sha[:7]} (decided for {decided}) now follows this PR")]


async def on_push(event: Event, ctx: Context) -> list[Action]:
    """A push to a gated branch (rules ``push_branches``) is gated as a pull request's head is,
    on the pushed commit, with the patches it brings and those the branch's earlier heads
    brought and no pipeline has passed with yet (pushes.pending). No comment: there is no pull
    request; the check runs say it all.

    Only the branch's head is decided: a push GitHub delivers after a newer one to the same
    branch (deliveries are not ordered, and a retried one comes late) must not supersede the
    newer head's run; what it brought is carried to that head instead (_late_push)."""
    section = ctx.rules.section(SECTION)
    push = pushes.gated_push(section, event.payload)
    if push is None:
        return []
    pending = await pushes.pending(ctx.db, ctx.repo, section, push.branch)
    if (push.files is not None and not touched_patches(section, push.files)
            and not pending.patches and not pending.unlisted):
        return await cancels.resend(ctx)  # no patch brought, none carried: nothing to decide
    head = await lookups.branch_head(ctx.gh, ctx.repo, push.branch)
    if head is None:  # the branch is gone since: nothing on it to gate
        return await cancels.resend(ctx)
    if head != push.after:
        return await _late_push(ctx, section, push, head, pending) + await cancels.resend(ctx)
    found = await store.run_for_head(ctx.db, ctx.repo, push.after)
    if found is not None and found[0].get("branch") == push.branch:
        return await cancels.resend(ctx)  # a redelivery: decided for this branch already
    if push.files is not None and not pending.unlisted:
        files, unlisted = list(push.files), None
    else:  # the payload does not list them all, or an earlier head's are unknown: the tree's
        files, unlisted = await pushes.tree_patches(ctx.gh, ctx.repo, section, push.after)
    files += pending.patches
    if found is None:
        return await gate(ctx, 0, push.after, files, branch=push.branch, unlisted=unlisted) + await cancels.resend(ctx)
    # Decided elsewhere: for a pull request of this head, or a push of it to another gated
    # branch. That decision stands for this branch if it checked all the patches the branch
    # brings and was not refused; otherwise the head is decided again with them, for this branch
    # (and the pull request it belongs to), so that the branch carries them on.
    row = found[0]
    if unlisted is None and pushes.covers(section, row, files, push.branch):
        return await cancels.resend(ctx)
    files = [*pushes.recorded_patches(section, row), *files]
    return (await gate(ctx, int(row["number"]), push.after, files, branch=push.branch, unlisted=unlisted)
            + await cancels.resend(ctx))


async def _late_push(ctx: Context, section: Mapping[str, Any], push: pushes.Push, head: str,
                     pending: pushes.Pending) -> list[Action]:
    """A push that is no longer its branch's head (``head``). Nothing is decided for its own
    commit; its patches go to the head's decision. The head decided for this branch already
    with all of them: nothing to do; decided with fewer: decided again with them added. Not
    decided for this branch yet (its own push is still on the way): decided now from its tree,
    which holds every patch the branch has (what that push will bring included; it is then a
    redelivery)."""
    found = await store.run_for_head(ctx.db, ctx.repo, head)
    known = push.files is not None and not pending.unlisted
    if known and found is not None and found[0].get("branch") == push.branch and not found[0].get("unlisted"):
        row, brought = found[0], [*(push.files or ()), *pending.patches]
        if pushes.covers(section, row, brought, push.branch):
            return []
        files = [*pushes.recorded_patches(section, row), *brought]
        return await gate(ctx, int(row["number"]), head, files, branch=push.branch)
    files, unlisted = await pushes.tree_patches(ctx.gh, ctx.repo, section, head)
    number = int(found[0]["number"]) if found is not None else 0
    return await gate(ctx, number, head, files, branch=push.branch, unlisted=unlisted)


async def verify_command(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    number = event.number
    if number is None:
        return []
    pr = await lookups.get_pull(ctx.gh, ctx.repo, number)
    if pr.get("state") != "open":
        return [Comment(ctx.repo, number=number, body="`/verify-patch` works on open pull requests only.")]
    files = [f["filename"] for f in await lookups.pr_files(ctx.gh, ctx.repo, number)]
    if not touched_patches(ctx.rules.section(SECTION), files):
        return [Comment(ctx.repo, number=number,
                        body="This pull request changes no patch files, so there is nothing to verify.")]
    return await gate(ctx, number, str(pr["head"]["sha"]), files) + await cancels.resend(ctx)


async def on_check_rerequested(event: Event, ctx: Context) -> list[Action]:
    """"Re-run" on one of our check runs in GitHub's UI: decide that head again, like
    /verify-patch (the button is offered to those with write access)."""
    check_run = event.payload.get("check_run") or {}
    if (check_run.get("name") not in (SIGNATURE_CHECK, tracking.PIPELINE_CHECK)
            or not str(check_run.get("external_id") or "").startswith("contributor-flow")):
        return []
    head_sha = str(check_run.get("head_sha") or "")
    prs = check_run.get("pull_requests") or []
    number = prs[0].get("number") if prs else None
    found = await store.run_for_head(ctx.db, ctx.repo, head_sha)
    if number is None and found and int(found[0]["number"]):
        number = found[0]["number"]  # fork PRs are not listed on check runs: our own record knows the PR
    if number is None:
        return await _rerun_push(ctx, found[0], head_sha) if found and found[0].get("branch") else []
    pr = await lookups.get_pull(ctx.gh, ctx.repo, int(number))
    if pr.get("state") != "open" or pr["head"]["sha"] != head_sha:
        return []  # an outdated head: its successor is the one that counts
    files = [f["filename"] for f in await lookups.pr_files(ctx.gh, ctx.repo, int(number))]
    return await gate(ctx, int(number), head_sha, files) + await cancels.resend(ctx)


async def _rerun_push(ctx: Context, row: Mapping[str, Any], head_sha: str) -> list[Action]:
    """"Re-run" on the check of a head decided for a push: decided again while it is still its
    branch's head (and the branch still gated), with the patches that decision checked (they
    include those it carried over), or the tree's when it could not list them."""
    section, branch = ctx.rules.section(SECTION), str(row["branch"])
    if not pushes.gated_branch(section, branch):
        return []
    if await lookups.branch_head(ctx.gh, ctx.repo, branch) != head_sha:
        return []  # the branch moved on (or is gone): its newer head is the one that counts
    recorded = pushes.recorded_patches(section, row)
    files, unlisted = ((recorded, None) if recorded
                       else await pushes.tree_patches(ctx.gh, ctx.repo, section, head_sha))
    return await gate(ctx, 0, head_sha, files, branch=branch, unlisted=unlisted) + await cancels.resend(ctx)


async def on_workflow_run(event: Event, ctx: Context) -> list[Action]:
    section = ctx.rules.section(SECTION)
    wr = event.payload.get("workflow_run") or {}
    if not tracking.is_pipeline_workflow(section, wr):
        # Not the pipeline's as the rules say now; a cancel still owed to it ends with it all the same.
        return await cancels.run_ended(ctx, wr)
    # A cancel the bot still owes this run goes (again) with whatever the event decides, or,
    # the run reported completed, is owed no more.
    owed = await cancels.resend(ctx, workflow_run=wr)
    found = await tracking.find_run(ctx.db, ctx.repo, wr)
    if found is None:  # no pipeline follows it: perhaps one the bot ended before it was reported
        return await strays.stop_stray(ctx.db, ctx.repo, wr, _now(ctx), delivery_id=ctx.event.delivery_id) + owed
    row, run = found
    new, now = run, _now(ctx)
    stage_specs = specs(section)
    attempt = tracking.run_attempt(wr)
    if wr.get("status") == "completed":
        # Job events may still be on their way: the run's job list is the truth now.
        for job in await lookups.run_jobs(ctx.gh, ctx.repo, int(wr["id"])):
            new = tracking.apply_job_payload(new, stage_specs, job, now)
    new = P.apply_workflow_run(new, status=str(wr.get("status") or ""), conclusion=wr.get("conclusion"),
                               run_id=int(wr["id"]), now=now, attempt=attempt)
    return changed(ctx.repo, int(row["number"]), row, run, new, section, now, run_url=wr.get("html_url")) + owed


async def on_workflow_job(event: Event, ctx: Context) -> list[Action]:
    section = ctx.rules.section(SECTION)
    job = event.payload.get("workflow_job") or {}
    stage_specs = specs(section)
    if P.stage_for_job(stage_specs, str(job.get("name") or "")) is None or job.get("run_id") is None:
        return []
    found = await store.run_for_workflow_run(ctx.db, ctx.repo, int(job["run_id"]))
    run_url = None
    if found is None:  # the job came before its run's first event: ask GitHub which run it is
        # (Stopping a stray run is the one thing a job event decides that owes a cancel: a
        # retry of this delivery sends it again.)
        if await strays.stopped(ctx.db, ctx.repo, int(job["run_id"])):
            return await cancels.resend(ctx)
        wr = await lookups.workflow_run(ctx.gh, ctx.repo, int(job["run_id"]))
        if wr is None or not tracking.is_pipeline_workflow(section, wr):
            return []
        found = await tracking.find_run(ctx.db, ctx.repo, wr)
        if found is None:
            return await strays.stop_stray(ctx.db, ctx.repo, wr, _now(ctx), delivery_id=ctx.event.delivery_id)
        run_url = wr.get("html_url")
    row, run = found
    now = _now(ctx)
    new = tracking.apply_job_payload(run, stage_specs, job, now)
    if new.conclusion == P.SUCCESS and run.conclusion != P.SUCCESS:
        # About to pass: a matrix stage passes only when every leg does, and a leg whose
        # events have not arrived yet is unseen. The run's job list has them all.
        new = run
        for listed in [*await lookups.run_jobs(ctx.gh, ctx.repo, int(job["run_id"])), job]:
            new = tracking.apply_job_payload(new, stage_specs, listed, now)
    return changed(ctx.repo, int(row["number"]), row, run, new, section, now, run_url=run_url)


async def sweep(jctx: JobContext) -> list[Action]:
    """The feature's periodic job: stages past their timeout, then the cancels still owed that
    are due again (see cancels). Cheap when nothing runs and nothing is owed: two queries."""
    return await sweep_timeouts(jctx) + await cancels.sweep(jctx)


async def sweep_timeouts(jctx: JobContext) -> list[Action]:
    """Conclude stages past their timeout."""
    live = await jctx.db.fetchall("SELECT DISTINCT repo FROM patch_pipeline_runs WHERE status IN (?, ?)",
                                  store.LIVE)
    if not live:
        return []
    wanted = {r["repo"] for r in live}
    actions: list[Action] = []
    now = _now(jctx)
    for handle in await jctx.repos():
        if handle.repo not in wanted or SECTION not in handle.rules or not handle.rules.enabled(SECTION):
            continue
        section = handle.rules.section(SECTION)
        for row, run in await store.live_runs(jctx.db, handle.repo):
            new = P.sweep(run, specs(section), now, queue_grace=float(section["queue_grace"]))
            ends = new.finished and not run.finished  # the sweep ends a run only by a timeout
            actions += changed(handle.repo, int(row["number"]), row, run, new, section, now, stops=ends)
            if ends:
                actions += tracking.stop(handle.repo, new, now)
    return actions

"""Event handlers, the ``/verify-patch`` command and the periodic sweep (timeouts, the cancels
still owed, what is remembered past its time). Each event that asks for a head's decision hands it
to the gate (gate.py): a pull request's opened or pushed head, a push to a gated branch (see
pushes), /verify-patch, "Re-run" on one of the checks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ...context import Context, JobContext
from ...core import pipeline as P
from ...core.retry import RetryLater
from ...core.actions import Action, Comment, Note, Record
from ...core.events import Event
from ...core.impact import listing_incomplete
from ...github.urls import based_here
from ..base import Invocation
from . import cancels, lookups, pushes, remembered, store, strays, tracking
from .gate import SECTION, branch_decided, branches_at, gate, now_of, supersede_others
from .tracking import FEATURE_NAME, changed, specs
from .verification import SIGNATURE_CHECK, is_patch, touched_patches

# How long after a push GitHub may still show its branch where it was, asked again every
# STALE_READ_RETRY: a few tries, which count as no attempts of the delivery's (core.max_attempts,
# which may be as low as 1: the grace bounds them by time), kept few since a retried delivery
# holds up the repository's others. Past it the branch was moved back since: the push is no head
# (it decides and records nothing; it never passes).
STALE_READ_GRACE = 20.0
STALE_READ_RETRY = 8.0
USAGE = "/verify-patch"


async def on_pull_request(event: Event, ctx: Context) -> list[Action]:
    pr = event.payload["pull_request"]
    number, head_sha = int(pr["number"]), str(pr["head"]["sha"])
    found = await store.run_for_head(ctx.db, ctx.repo, head_sha)
    section = ctx.rules.section(SECTION)
    if found is not None and _counts(found[0]) and (int(found[0]["number"]) != number or event.action == "edited"):
        # Decided for another pull request of this head, or for this one before its base changed
        # (on_base_changed): this one may bring patches that decision did not check (its base
        # lacks some the other's had), and the head's pipeline must not read as a pass for them.
        files = await pr_patch_files(ctx, section, pr)
        if not pushes.stands_for(section, found[0], files.names):
            return await files.gate(ctx, number, head_sha) + await cancels.resend(ctx)
    if found is not None:
        # Decided already (a redelivery, a reopen, a push back to an earlier head, another pull
        # request of the head checked for every patch this one brings): only what runs for
        # another head goes; /verify-patch decides this head again.
        return [*_adopt(ctx, found[0], number), *await supersede_others(ctx, section, number, head_sha),
                *await cancels.resend(ctx)]
    files = await pr_patch_files(ctx, section, pr)
    return await files.gate(ctx, number, head_sha) + await cancels.resend(ctx)


@dataclass(frozen=True)
class PrFiles:
    """The files a pull request changes, as the gate takes them (see pr_patch_files)."""
    names: list[str]
    unlisted: str | None = None
    listing: lookups.Listing | None = None

    async def gate(self, ctx: Context, number: int, head_sha: str) -> list[Action]:
        return await gate(ctx, number, head_sha, self.names, unlisted=self.unlisted, listing=self.listing)


async def pr_patch_files(ctx: Context, section: Mapping[str, Any], pr: Mapping[str, Any]) -> PrFiles:
    """The files the pull request ``pr`` changes. The files API stops at 3,000: when it leaves
    some out (fewer listed than the PR's ``changed_files``), a patch past them would go
    unverified while those listed pass, so every patch of the head's tree is taken as well (or,
    when the tree cannot be listed either, the head is refused saying so)."""
    names = [f["filename"] for f in await lookups.pr_files(ctx.gh, ctx.repo, int(pr["number"]))]
    if not listing_incomplete(len(names), int(pr.get("changed_files") or 0)):
        return PrFiles(names)
    tree = await pushes.tree_patches(ctx.gh, ctx.repo, section, str(pr["head"]["sha"]))
    return PrFiles([*names, *tree.patches], tree.unlisted, tree.listing)


async def on_base_changed(event: Event, ctx: Context) -> list[Action]:
    """``edited`` with a new base branch: the pull request brings other patches now (a base
    lacking some that the old one had), which the head's decision may not have checked."""
    if "base" not in (event.payload.get("changes") or {}):
        return []
    return await on_pull_request(event, ctx)


def _counts(row: Mapping[str, Any]) -> bool:
    """Whether a head's decision reads as a pass on the commit (its pipeline runs or passed): only
    then does a pull request bringing patches it did not check need it decided again. A refusal,
    a failure or a superseded run passes nothing."""
    return row["status"] in store.LIVE or pushes.passed(row)


def _adopt(ctx: Context, row: Mapping[str, Any], number: int) -> list[Action]:
    """Runs are kept per head; a head decided for another pull request (a PR closed and
    opened again as a new one from the same branch), or for a push to a gated branch, now
    belongs to this one, so that its card shows the run and its next push supersedes it (a
    push moving that branch on does once the pull request has moved on too)."""
    if int(row["number"]) == number:
        return []
    head_sha = str(row["head_sha"])
    decided = f"#{row['number']}" if int(row["number"]) else f"a push to {row.get('branch')}"
    return [Record(ctx.repo, feature=FEATURE_NAME, op="adopt_run",
                   args={"repo": ctx.repo, "head_sha": head_sha, "number": number, "at": now_of(ctx)}),
            Note(ctx.repo, feature=FEATURE_NAME, number=number,
                 text=f"patch pipeline of {head_sha[:7]} (decided for {decided}) now follows this PR")]


async def on_push(event: Event, ctx: Context) -> list[Action]:
    """A push to a gated branch (rules ``push_branches``) is gated as a pull request's head is,
    on the pushed commit, with the patches it brings and those the branch's earlier heads
    brought that no pipeline has passed with yet. No comment: there is no pull request; the
    check runs say it all.

    What a push brings is read from its payload only when it continues from the head the bot
    last decided for the branch, under the same patch rules: deliveries come in any order, one
    can be lost, and a force-push can bring back an older head. Otherwise the tree at its commit
    is read. Only the branch's head is decided (GitHub says): a push that is no head any more
    decides nothing and records nothing, so that the head's own push reads the tree, which holds
    whatever it brought."""
    section = ctx.rules.section(SECTION)
    push = pushes.gated_push(section, event.payload)
    if push is None:
        deleted = pushes.deleted_branch(section, event.payload)
        return ([Record(ctx.repo, feature=FEATURE_NAME, op="branch_deleted",
                        args={"repo": ctx.repo, "branch": deleted})] if deleted else [])
    known = await pushes.branch(ctx.db, ctx.repo, section, push.branch)
    if known.head_sha == push.after:
        return await cancels.resend(ctx)  # a redelivery: decided for this branch already
    unlisted: str | None = None
    listing: lookups.Listing | None = None
    continues = (known.head_sha is not None and push.before == known.head_sha and push.files is not None
                 and not known.unknown and event.payload.get("forced") is False)
    if continues:
        # Patches the push deleted are owed no more; a signature it deleted leaves its patch
        # unsigned, so that patch stays in (touched_patches maps the signature to it).
        gone = {p for p in push.removed if is_patch(section, p)}
        files = [p for p in (*push.files, *known.pending) if p not in gone]
        if not touched_patches(section, files):
            # Nothing brought, nothing owed: the branch moves on, no GitHub request.
            return branch_decided(ctx, [push.branch], push.after, [], pushed=push.branch) + await cancels.resend(ctx)
        if not await _is_head(ctx, push):
            # Nothing recorded: the head's own push does not continue from what the bot knows
            # and reads the tree (which holds what this one brought); a redelivery of this one,
            # should it be the head by then, decides it.
            return await cancels.resend(ctx)
    else:
        if not await _is_head(ctx, push):
            return await cancels.resend(ctx)  # late, or the branch is gone: nothing to decide
        tree = await pushes.tree_patches(ctx.gh, ctx.repo, section, push.after)
        files, unlisted, listing = tree.patches, tree.unlisted, tree.listing
    found = await store.run_for_head(ctx.db, ctx.repo, push.after)
    if found is not None and unlisted is None and pushes.stands_for(section, found[0], files):
        # Decided for a pull request of this head, or a push of it to another branch, with every
        # patch this branch owes, and running or passed: it stands. The branch's older heads'
        # pipelines end; this branch owes its patches until that pipeline passes.
        return (await supersede_others(ctx, section, 0, push.after, branch=push.branch)
                + branch_decided(ctx, [push.branch], push.after, touched_patches(section, files), pushed=push.branch)
                + await cancels.resend(ctx))
    number = 0
    if found is not None:  # decided again for this branch: with what that decision checked too
        number, files = int(found[0]["number"]), [*pushes.recorded_patches(section, found[0]), *files]
    return (await gate(ctx, number, push.after, files, branch=push.branch, unlisted=unlisted, listing=listing)
            + await cancels.resend(ctx))


async def _is_head(ctx: Context, push: pushes.Push) -> bool:
    """Whether the pushed commit is its branch's head, as GitHub says now. GitHub still naming
    the commit the push moved the branch from is a read that has not caught up with the push
    yet (a replica behind): asked again shortly rather than taking the push for a late one, for
    STALE_READ_GRACE after it arrived."""
    head = await lookups.branch_head(ctx.gh, ctx.repo, push.branch)
    fresh = ctx.now().timestamp() - ctx.event.received_at.timestamp() < STALE_READ_GRACE
    if head is not None and head == push.before and push.before != push.after and fresh:
        raise RetryLater(f"GitHub does not show the push to {push.branch} yet ({head[:7]})",
                         retry_at=ctx.now().timestamp() + STALE_READ_RETRY, counted=False)
    return head == push.after


async def verify_command(inv: Invocation, event: Event, ctx: Context) -> list[Action]:
    number = event.number
    if number is None:
        return []
    pr = await lookups.get_pull(ctx.gh, ctx.repo, number)
    if pr.get("state") != "open":
        return [Comment(ctx.repo, number=number, body="`/verify-patch` works on open pull requests only.")]
    files = await pr_patch_files(ctx, ctx.rules.section(SECTION), pr)
    if files.unlisted is None and not touched_patches(ctx.rules.section(SECTION), files.names):
        return [Comment(ctx.repo, number=number,
                        body="This pull request changes no patch files, so there is nothing to verify.")]
    return await files.gate(ctx, number, str(pr["head"]["sha"])) + await cancels.resend(ctx)


async def on_check_rerequested(event: Event, ctx: Context) -> list[Action]:
    """"Re-run" on one of our check runs in GitHub's UI: decide that head again, like
    /verify-patch (the button is offered to those with write access)."""
    check_run = event.payload.get("check_run") or {}
    if (check_run.get("name") not in (SIGNATURE_CHECK, tracking.PIPELINE_CHECK)
            or not str(check_run.get("external_id") or "").startswith("contributor-flow")):
        return []
    head_sha = str(check_run.get("head_sha") or "")
    # A fork's own pull requests of the same head are listed too: their numbers name others here.
    repository = event.payload.get("repository") or {}
    prs = [p for p in check_run.get("pull_requests") or [] if p.get("number") is not None and based_here(p, repository)]
    number = prs[0]["number"] if prs else None
    found = await store.run_for_head(ctx.db, ctx.repo, head_sha)
    section = ctx.rules.section(SECTION)
    for branch in await branches_at(ctx, section, head_sha):
        # A gated branch's head (a pull request's too, perhaps, closed or not): decided for the
        # branch while GitHub still has it there, with what it owes and what the head's
        # decision checked (the pull request's).
        if await lookups.branch_head(ctx.gh, ctx.repo, branch) == head_sha:
            return await _rerun_push(ctx, found[0] if found else None, head_sha, branch)
    if number is None and found and int(found[0]["number"]):
        number = found[0]["number"]  # fork PRs are not listed on check runs: our own record knows the PR
    if number is None:
        return []
    pr = await lookups.get_pull(ctx.gh, ctx.repo, int(number))
    if pr.get("state") != "open" or pr["head"]["sha"] != head_sha:
        return []  # an outdated head: its successor is the one that counts
    files = await pr_patch_files(ctx, section, pr)
    return await files.gate(ctx, int(number), head_sha) + await cancels.resend(ctx)


async def _rerun_push(ctx: Context, row: Mapping[str, Any] | None, head_sha: str, branch: str) -> list[Action]:
    """"Re-run" on the check of a gated branch's head (still there, GitHub says): decided again
    with the patches its last decision checked and those the branch owes, or the tree's when
    what the branch owes is unknown."""
    section = ctx.rules.section(SECTION)
    known = await pushes.branch(ctx.db, ctx.repo, section, branch)
    files = [*(pushes.recorded_patches(section, row) if row is not None else ()), *known.pending]
    unlisted = listing = None
    if known.unknown or not files:
        tree = await pushes.tree_patches(ctx.gh, ctx.repo, section, head_sha)
        files, unlisted, listing = tree.patches, tree.unlisted, tree.listing
    number = int(row["number"]) if row is not None else 0
    return (await gate(ctx, number, head_sha, files, branch=branch, unlisted=unlisted, listing=listing)
            + await cancels.resend(ctx))


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
        return await strays.stop_stray(ctx.db, ctx.repo, wr, now_of(ctx), delivery_id=ctx.event.delivery_id) + owed
    row, run = found
    new, now = run, now_of(ctx)
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
            return await strays.stop_stray(ctx.db, ctx.repo, wr, now_of(ctx), delivery_id=ctx.event.delivery_id)
        run_url = wr.get("html_url")
    row, run = found
    now = now_of(ctx)
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
    return (await sweep_timeouts(jctx) + await cancels.sweep(jctx) + await _forget_ended_runs(jctx)
            + await _forget_verified(jctx) + await _forget_refused(jctx))


async def _forget_ended_runs(jctx: JobContext) -> list[Action]:
    """The runs ended longer ago than store.ENDED_RUN_KEEP are forgotten (one query when none)."""
    before = now_of(jctx) - store.ENDED_RUN_KEEP
    if not await store.any_ended_runs_before(jctx.db, before):
        return []
    return [Record("", feature=FEATURE_NAME, op="forget_ended_runs", args={"before": before})]


async def _forget_verified(jctx: JobContext) -> list[Action]:
    """The verifications not used for remembered.KEEP are forgotten (one query when none)."""
    before = now_of(jctx) - remembered.KEEP
    if not await store.any_verified_before(jctx.db, before):
        return []
    return [Record("", feature=FEATURE_NAME, op="forget_verified", args={"before": before})]


async def _forget_refused(jctx: JobContext) -> list[Action]:
    """The refusals not used for remembered.REFUSED_KEEP are forgotten (one query when none)."""
    before = now_of(jctx) - remembered.REFUSED_KEEP
    if not await store.any_refused_before(jctx.db, before):
        return []
    return [Record("", feature=FEATURE_NAME, op="forget_refused", args={"before": before})]


async def sweep_timeouts(jctx: JobContext) -> list[Action]:
    """Conclude stages past their timeout."""
    live = await jctx.db.fetchall("SELECT DISTINCT repo FROM patch_pipeline_runs WHERE status IN (?, ?)",
                                  store.LIVE)
    if not live:
        return []
    wanted = {r["repo"] for r in live}
    actions: list[Action] = []
    now = now_of(jctx)
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

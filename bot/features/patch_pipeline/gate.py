"""The gate: one head's decision, for a pull request (``number``) or for a direct push to a gated
branch (``number`` 0 and the ``branch``, see pushes). Its patches are verified
(head_verification); the pipeline is dispatched only if every one verifies. Deciding ends what
the pull request's (or the branch's) other heads still run, and what this head ran before; what
the gated branches whose head it is owe is decided with it, and written for them."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Mapping, Sequence

from ...context import Context, JobContext
from ...core import pipeline as P
from ...core.actions import Action, DispatchWorkflow, Note, Record, RepositoryDispatch, UpsertCheckRun
from . import lookups, pushes, store, tracking
from .head_verification import verify_head
from .tracking import FEATURE_NAME, check, save, specs
from .verification import SIGNATURE_CHECK, Verdict, render, signers_text, touched_patches

SECTION = "pipeline"


def now_of(ctx: Context | JobContext) -> float:
    return ctx.now().timestamp()


def dispatch_action(repo: str, section: Mapping[str, Any], number: int, head_sha: str,
                    patches: Sequence[str], signers: str) -> Action:
    trigger = section["trigger"]
    if trigger["kind"] == "repository_dispatch":
        return RepositoryDispatch(repo, event_type=trigger["event_type"], client_payload={
            "pr_number": number, "head_sha": head_sha, "patches": list(patches), "signer": signers})
    # A pull request of ~1,500 patches lists more than GitHub takes in a dispatch: the executor
    # then sends the list, the largest value, as a git blob the workflow reads by its SHA
    # (README: Dispatch).
    return DispatchWorkflow(repo, workflow=trigger["workflow"], ref=trigger["ref"], inputs={
        "pr_number": str(number), "head_sha": head_sha, "patches": json.dumps(list(patches)),
        "signer": signers})


async def supersede_others(ctx: Context, section: Mapping[str, Any], number: int,
                            head_sha: str, *, branch: str | None = None) -> list[Action]:
    """The pipelines of the pull request's (or, with ``branch``, the branch's) other heads end:
    never those of another pull request or branch."""
    actions: list[Action] = []
    live = (await store.live_runs(ctx.db, ctx.repo, branch=branch) if branch is not None
            else await store.live_runs(ctx.db, ctx.repo, number=number))
    now = now_of(ctx)  # one instant: the end's save and its cancel name the same owing (tracking.stop)
    for row, run in live:
        if run.head_sha == head_sha:
            continue
        if [b for b in await branches_at(ctx, section, run.head_sha) if b != branch]:
            continue  # still another gated branch's head: that branch's newer push ends it
        if branch is not None and int(row["number"]) and await _pr_still_at(ctx, int(row["number"]), run.head_sha):
            continue  # also a pull request's current head: its newer push ends it, not the branch moving on
        gone = P.supersede(run, head_sha, now)
        # The run keeps its pull request, if one took it over (a push to its branch ends it).
        actions += [save(ctx.repo, int(row["number"]), gone, now, revision=row["revision"], stops=True,
                         delivery_id=ctx.event.delivery_id),
                    check(ctx.repo, gone, section, signers=row.get("signers") or "", run_url=row.get("run_url")),
                    *tracking.stop(ctx.repo, run, now),
                    Note(ctx.repo, feature=FEATURE_NAME, number=number,
                         text=f"patch pipeline for {run.head_sha[:7]} superseded by {head_sha[:7]}")]
    return actions


async def _pr_still_at(ctx: Context, number: int, head_sha: str) -> bool:
    """Whether ``head_sha`` is the latest head decided for pull request ``number``."""
    latest = await store.latest_for_pr(ctx.db, ctx.repo, number)
    return latest is not None and latest[1].head_sha == head_sha


def _end_own_run(ctx: Context, section: Mapping[str, Any], number: int,
                 found: tuple[Mapping[str, Any], P.Run] | None, *, reasons: str | None) -> list[Action]:
    """A pipeline still running for this very head, which is decided again: it ends (its
    workflow run cancelled) before anything else is dispatched for the head. Its results would
    otherwise be taken for the new decision's (its events name the same head), which may owe
    more patches than it was dispatched with. ``reasons``: the patches no longer verify (the
    trust policy changed); the head is recorded as refused next, out of the timeout sweep's and
    the workflow events' reach, so its check is concluded here, or it would stay "in progress"
    for good. None: a new pipeline is dispatched, whose check replaces it. ``found``: the head's
    run as the decision read it."""
    if found is None or found[0]["status"] not in store.LIVE:
        return []
    row, run = found
    head_sha = run.head_sha
    now, number = now_of(ctx), number or int(row["number"])
    # Concluded like a superseded run (running stages cancelled, the rest skipped), but
    # by this head's own new decision rather than by a newer push.
    gone = replace(P.supersede(run, head_sha, now), status=P.COMPLETED, superseded_by=None)
    actions: list[Action] = [save(ctx.repo, number, gone, now, revision=row["revision"], stops=True,
                                  delivery_id=ctx.event.delivery_id)]
    if reasons is not None:
        shown = check(ctx.repo, gone, section, signers=row.get("signers") or "", run_url=row.get("run_url"))
        actions.append(replace(
            shown, title="Cancelled: the patch signatures no longer verify",
            summary=shown.summary + "\n\nThe patches of this commit no longer verify against the "
            "trust policy (see the patch-signature check); the results above are not trusted."))
    why = (f"its patches no longer verify ({reasons[:200]})" if reasons is not None
           else "decided again, a new pipeline follows")
    return [*actions, *tracking.stop(ctx.repo, run, now),
            Note(ctx.repo, feature=FEATURE_NAME, number=number,
                 text=f"patch pipeline for {head_sha[:7]} cancelled: {why}")]


def _distrust_passed_run(ctx: Context, found: tuple[Mapping[str, Any], P.Run] | None) -> list[Action]:
    """A commit whose pipeline passed, refused now (decided again for a gated branch whose patches
    it holds unverified, or under a changed trust policy): its green pipeline check would still
    read as a pass for the commit."""
    if found is None or not pushes.passed(found[0]):
        return []
    return [UpsertCheckRun(ctx.repo, name=tracking.PIPELINE_CHECK, head_sha=found[1].head_sha, conclusion="failure",
                           title="Not trusted: the patches are not verified",
                           summary="The patch pipeline of this commit passed, but the commit was decided "
                                   "again and refused (see the patch-signature check): that result is "
                                   "not trusted.")]


def branch_decided(ctx: Context, branches: Sequence[str], head_sha: str, pending: Sequence[str], *,
                    unlisted: bool = False, pushed: str | None = None) -> list[Action]:
    """For a head decided for ``branches``: each branch's head is now this one, owing
    ``pending`` a passing pipeline (see pushes.branch). Written last: a decision cut short
    before it is taken again by the delivery's retry, which would take a written head for a
    redelivery. Only the push to ``pushed`` moves that branch's head; for the other branches (a
    pull request's decision of a commit that is their head) what they owe is written only while
    it still is: that decision is made on another queue than the branch's pushes, and must not
    bring the branch back to an older head."""
    rules = pushes.patch_rules(ctx.rules.section(SECTION))
    return [Record(ctx.repo, feature=FEATURE_NAME, op="branch_decided",
                   args={"repo": ctx.repo, "branch": b, "head_sha": head_sha, "pending": list(pending),
                         "unlisted": unlisted, "rules": rules, "at": now_of(ctx), "moves": b == pushed})
            for b in branches]


async def _owing_branches(ctx: Context, section: Mapping[str, Any], head_sha: str,
                          branch: str | None) -> tuple[list[str], list[str], bool]:
    """The gated branches this head is the known head of (``branch``, the push's, first), the
    patches they owe, and whether what one owes is unknown. Whoever decides the head (a pull
    request's "Re-run", /verify-patch) decides it with them: the commit's checks are one, and a
    pass for the pull request's own patches must not read as a pass for the branch, whose
    patches are on the commit too."""
    names = [branch] if branch is not None else []
    names += [b for b in await branches_at(ctx, section, head_sha) if b != branch]
    owed: list[str] = []
    unknown = False
    for name in names:
        if name == branch:
            continue  # the push's own: its caller read them (or the tree, when unknown)
        known = await pushes.branch(ctx.db, ctx.repo, section, name)
        owed += known.pending
        unknown = unknown or known.unknown
    return names, owed, unknown


async def branches_at(ctx: Context, section: Mapping[str, Any], head_sha: str) -> list[str]:
    """The branches, still gated, whose known head is ``head_sha``."""
    return [b for b in await store.branches_at(ctx.db, ctx.repo, head_sha) if pushes.gated_branch(section, b)]


async def gate(ctx: Context, number: int, head_sha: str, filenames: Sequence[str], *,
               branch: str | None = None, unlisted: str | None = None,
               listing: lookups.Listing | None = None) -> list[Action]:
    """Verify the patches of one head; dispatch the pipeline only if every one verifies.
    ``branch``: the head was pushed to that gated branch (``number`` is 0: the pipeline's
    ``pr_number`` says so); ``unlisted``: why its patches could not be listed (refused);
    ``listing``: the head's patch directories, when read already (pushes.tree_patches)."""
    decided = f"{FEATURE_NAME}.gate:{head_sha}"
    if decided in ctx.memo:
        # Decided in this attempt at the delivery already (two /verify-patch lines in one
        # comment): a second decision made on the same reads would end the first's pipeline
        # as if it were an older one.
        return []
    actions = await _decide(ctx, number, head_sha, filenames, branch=branch, unlisted=unlisted, listing=listing)
    ctx.memo[decided] = True  # only once decided: one that failed leaves the next call its turn
    return actions


async def _decide(ctx: Context, number: int, head_sha: str, filenames: Sequence[str], *,
                  branch: str | None, unlisted: str | None, listing: lookups.Listing | None) -> list[Action]:
    section = ctx.rules.section(SECTION)
    repo, now = ctx.repo, now_of(ctx)
    actions = await supersede_others(ctx, section, number, head_sha, branch=branch)
    branches, owed, unknown = await _owing_branches(ctx, section, head_sha, branch)
    if unknown and unlisted is None:
        tree = await pushes.tree_patches(ctx.gh, repo, section, head_sha)
        owed, unlisted, listing = [*owed, *tree.patches], tree.unlisted, tree.listing or listing
    patches = touched_patches(section, [*filenames, *owed])
    partial = False  # the verdicts do not name every patch: some were left unverified
    if unlisted is not None:
        verdicts = [Verdict(f"patches of {head_sha[:7]}", reason=unlisted)]
    elif not patches:
        return actions + branch_decided(ctx, branches, head_sha, [], pushed=branch)
    else:
        verdicts, partial, remember = await verify_head(ctx, section, head_sha, patches, listing,
                                                        pushed=branch is not None)
        actions += remember
    if not verdicts:  # every touched patch was deleted
        return actions + branch_decided(ctx, branches, head_sha, [], pushed=branch)
    conclusion, title, summary = render(verdicts)
    if unlisted is not None:
        title = "Patches could not be listed"
    actions.append(UpsertCheckRun(repo, name=SIGNATURE_CHECK, head_sha=head_sha, conclusion=conclusion,
                                  title=title, summary=summary))
    # What the decision checked: the patches themselves even when some were left unverified (too
    # many), so that a branch carries them to its next head (pushes.branch); none known when unlisted.
    checked = [] if unlisted is not None else list(patches) if partial else [v.path for v in verdicts]
    pushed = f" (push to {branch})" if branch else ""
    if conclusion != "success":
        reasons = "; ".join(f"{v.path}: {v.reason}" for v in verdicts if not v.ok)
        own = await store.run_for_head(ctx.db, repo, head_sha)
        actions += _end_own_run(ctx, section, number, own, reasons=reasons) + _distrust_passed_run(ctx, own)
        return actions + [
            Record(repo, feature=FEATURE_NAME, op="record_rejection",
                   args={"repo": repo, "number": number, "head_sha": head_sha, "reason": reasons,
                         "patches": checked, "at": now, "branch": branch}),
            Note(repo, feature=FEATURE_NAME, number=number,
                 text=f"not dispatched: {head_sha[:7]}{pushed} has unverified patches ({reasons[:300]})"),
            *branch_decided(ctx, branches, head_sha, checked, unlisted=unlisted is not None, pushed=branch)]
    signers = signers_text(verdicts)
    run = P.new_run(head_sha, specs(section), now)
    return actions + [
        *_end_own_run(ctx, section, number, await store.run_for_head(ctx.db, repo, head_sha), reasons=None),
        dispatch_action(repo, section, number, head_sha, checked, signers),
        save(repo, number, run, now, signers=signers, patches=checked, branch=branch),
        check(repo, run, section, signers=signers),
        Note(repo, feature=FEATURE_NAME, number=number,
             text=f"dispatched the patch pipeline for {head_sha[:7]}{pushed} ({len(checked)} patches, {signers})"),
        *branch_decided(ctx, branches, head_sha, checked, pushed=branch),
    ]

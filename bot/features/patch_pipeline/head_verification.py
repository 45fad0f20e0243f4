"""The verification of a head's patches for a decision (gate.gate): those verified before with
the same bytes are taken as remembered (remembered.py), and so are those refused before, the
others read and verified, at most MAX_PATCHES of them per decision."""
from __future__ import annotations

import asyncio
from typing import Any, Mapping, Sequence

from ...context import Context
from ...core.actions import Action, Record
from ...github.errors import PermanentGitHubError
from . import lookups, pushes, remembered, store
from .tracking import FEATURE_NAME
from .verification import MAX_PATCHES, Verdict, explained, signature_files, verify_patches


async def verify_head(ctx: Context, section: Mapping[str, Any], head_sha: str, patches: Sequence[str],
                      listing: lookups.Listing | None, *, pushed: bool) -> tuple[list[Verdict], bool, list[Action]]:
    """The verdicts on ``patches`` at ``head_sha``, whether some were left unverified, and the
    record of what to remember. Those verified (or refused) before with the bytes the listing
    names are not read again (remembered); of the rest, MAX_PATCHES are read and verified, and the others left
    to the next decision (a re-run, the next push), which finds these remembered. Without a
    listing nothing can be remembered: more than MAX_PATCHES are refused unread."""
    if listing is not None and listing.sha != head_sha:
        listing = None  # another commit's files say nothing of this one's
    if listing is None and len(patches) > remembered.LIST_ABOVE:
        try:
            listing = await pushes.list_patch_directories(ctx.gh, ctx.repo, section, head_sha)
        except (lookups.TreeTruncated, PermanentGitHubError):
            listing = None  # read one by one, as for a few patches
    trust = await asyncio.to_thread(remembered.trust_fingerprint, section) if listing is not None else None
    if trust is None and len(patches) > MAX_PATCHES:
        return [_too_many(patches, pushed, "and the patch directories could not be listed to find those "
                                           "verified before")], True, []
    now = ctx.now().timestamp()
    keys = {p: k for p in patches if listing is not None and trust is not None
            and (k := remembered.listed_key(section, trust, p, signature_files(section, p), listing))}
    found = await store.verified(ctx.db, ctx.repo, list(keys.values()), since=now - remembered.KEEP) if keys else {}
    # Refused before with the same bytes: refused again unread, so that a head with more refused
    # patches than one decision reads goes on to the others at each decision, rather than reading
    # the same refused ones for good.
    unverified = [k for k in keys.values() if k not in found]
    refused = (await store.refused(ctx.db, ctx.repo, unverified, since=now - remembered.REFUSED_KEEP)
               if unverified else {})
    known = [Verdict(p, remembered.verified_from_row(found[keys[p]]), key=keys[p], remembered=True)
             for p in patches if keys.get(p) in found]
    known += [Verdict(p, reason=explained(section, p, str(refused[keys[p]]["reason"])), key=keys[p], remembered=True)
              for p in patches if keys.get(p) in refused]
    decided = {**found, **refused}
    # A patch the listing shows deleted has nothing to verify (verify_patches would read as much):
    # left out here, or deleting more than MAX_PATCHES would be refused for good.
    todo = [p for p in patches if keys.get(p) not in decided and not (listing is not None and _gone(listing, p))]
    # Those without a key are never remembered, so they go first (each decision reads them all)
    # and leave room for the others; as many as one decision reads would leave none, and no
    # re-run would ever get further.
    unkeyed = [p for p in todo if p not in keys]
    if len(todo) > MAX_PATCHES and len(unkeyed) >= MAX_PATCHES:
        return [_too_many(todo, pushed, f"{len(unkeyed)} of them with files that cannot be remembered once "
                                        "verified (a symlink, a signature directory GitHub does not list whole)"),
                *known], True, []
    todo = unkeyed + [p for p in todo if p in keys]
    fresh = await verify_patches(ctx.gh, ctx.repo, head_sha, section, todo[:MAX_PATCHES], listing, trust)
    verdicts = sorted(known + fresh, key=lambda v: v.path)
    # Remembered now: what was decided with the listed bytes, and what was found remembered long
    # enough ago that its keeping is renewed (it is in use).
    renew = [v for v in verdicts if v.key and (not v.remembered or float(decided[v.key]["at"]) < now - remembered.REFRESH)]
    remember = [{"key": v.key, **remembered.verified_to_args(v.verified)} for v in renew if v.verified is not None]
    refuse = [{"key": v.key, "reason": v.reason} for v in renew if v.verified is None]
    records: list[Action] = [
        *([Record(ctx.repo, feature=FEATURE_NAME, op="remember_verified",
                  args={"repo": ctx.repo, "verified": remember, "at": now})] if remember else []),
        *([Record(ctx.repo, feature=FEATURE_NAME, op="remember_refused",
                  args={"repo": ctx.repo, "refused": refuse, "at": now})] if refuse else [])]
    left = todo[MAX_PATCHES:]
    if left:
        # The verdicts given now are remembered, refusals included: the next decision reads these.
        verdicts.append(Verdict(
            f"{len(left)} more patch{'es' if len(left) != 1 else ''}", count=len(left),
            reason=f"not verified yet: {MAX_PATCHES} patches are read and verified per decision, besides those "
                   "decided before; the ones decided now are remembered, so Re-run this check (or push "
                   "again) to verify the next ones"))
    return verdicts, bool(left), records


def _too_many(patches: Sequence[str], pushed: bool, why: str) -> Verdict:
    """More patches to read than one decision reads, which re-runs would never get through."""
    return Verdict(f"{len(patches)} patches", count=len(patches), reason=(
        f"more than {MAX_PATCHES} patches to verify at once in one {'push' if pushed else 'pull request'}, "
        f"{why}: split it"))


def _gone(listing: lookups.Listing, path: str) -> bool:
    """No file at ``path`` in the listing, and no directory either (one is read, and refused as
    no regular file, as before)."""
    if not listing.covers(path) or path in listing.entries:
        return False
    return not any(lookups.inside(p, path) for p in listing.entries)

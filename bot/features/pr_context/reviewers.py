"""Who to ask for review: owners of the directly touched components, within limits.

Selection is pure (``choose_reviewers``); the loads it weighs are looked up by
``review_loads`` from the search API or from this feature's own table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from bot.core.impact import Impact, unique_owners

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context


@dataclass(frozen=True)
class ReviewerChoice:
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()               # team slugs (without the org)
    skipped: Mapping[str, str] = field(default_factory=dict)  # owner -> why not asked


def candidates(impact: Impact, owners: Mapping[str, Sequence[str]]) -> list[str]:
    """Owners of direct components, in component then owner order, once each (logins
    ignore case: one person is one candidate, however the config files spell them)."""
    return list(unique_owners(owner for name in impact.direct for owner in owners.get(name, ())))


def choose_reviewers(owners: Sequence[str], *, repo_owner: str, author: str,
                     already: Iterable[str], cap: int, load_cap: int,
                     loads: Mapping[str, int | None], refused: Iterable[str] = ()) -> ReviewerChoice:
    """Fill the PR's free review slots (``cap`` minus reviewers already requested, by anyone)
    with the least-loaded eligible owners. Ties keep the owners' declared order.

    ``already`` holds logins and ``org/team`` slugs already requested or asked before by the
    bot (a maintainer who removed a request must not see it come back on the next push).
    ``refused``: names GitHub refused on this PR (not collaborators): asking them again
    would only take the slot of an owner who can review."""
    done = {a.lower() for a in already}
    not_askable = {r.lower() for r in refused}
    skipped: dict[str, str] = {}
    eligible: list[tuple[int, int, str]] = []
    for order, owner in enumerate(unique_owners(owners)):
        key = owner.lower()
        if "@" in owner:
            skipped[owner] = "e-mail owners cannot be requested"
        elif key == author.lower():
            skipped[owner] = "author"
        elif key.endswith("[bot]"):
            skipped[owner] = "bot"
        elif key in done:
            skipped[owner] = "already requested"
        elif key in not_askable:
            skipped[owner] = "GitHub refused an earlier request (not a collaborator?)"
        elif "/" in owner and key.split("/", 1)[0] != repo_owner.lower():
            skipped[owner] = "team of another organisation"
        elif "/" not in owner and (loads.get(owner) or 0) >= load_cap:
            skipped[owner] = f"{loads.get(owner)} open review requests (limit {load_cap})"
        else:
            eligible.append((0 if "/" in owner else (loads.get(owner) or 0), order, owner))
    free = max(0, cap - len(done))
    chosen = [owner for _, _, owner in sorted(eligible)[:free]]
    for _, _, owner in sorted(eligible)[free:]:
        skipped[owner] = f"review cap of {cap} per pull request reached"
    users = tuple(o for o in chosen if "/" not in o)
    teams = tuple(o.split("/", 1)[1] for o in chosen if "/" in o)
    return ReviewerChoice(users=users, teams=teams, skipped=skipped)


async def review_loads(ctx: "Context", logins: Sequence[str], *, source: str,
                       owner: str, owner_is_org: bool) -> dict[str, int | None]:
    """Open review requests per login: GitHub's search count (every requester), or the
    requests this bot made on still-open PRs. None when it could not be counted, which
    does not block a reviewer: a failed count is no reason to leave a PR unreviewed."""
    loads: dict[str, int | None] = {}
    for login in logins:
        if "/" in login or "@" in login:
            continue
        if source == "store":
            loads[login] = int(await ctx.db.fetchval(
                "SELECT COUNT(*) FROM pr_context_review_requests WHERE lower(login) = ? AND active = 1",
                (login.lower(),)) or 0)
            continue
        scope = "org" if owner_is_org else "user"
        query = f"is:pr is:open review-requested:{login} {scope}:{owner}"
        try:
            found = await ctx.cached(f"pr_context:load:{query}", lambda q=query: ctx.gh.getitem(
                "/search/issues{?q,per_page}", {"q": q, "per_page": 1}))
            loads[login] = int(found.get("total_count", 0))
        except Exception:  # search is rate limited apart (30/min): carry on without it
            loads[login] = None
    return loads

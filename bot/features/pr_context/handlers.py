"""Handlers: keep one context card per PR, its area labels, and its review requests."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from bot.core import actions as A
from bot.core.events import from_other_bot, parse_time
from bot.core.impact import ChangedFile, CodeOwners, Component, Impact, compute_impact, owners_by_component
from bot.core.merge_group import is_queue_branch
from bot.github.urls import based_here
from bot.store.state import review_request_results

from . import lookups, reviewers, status, store
from .card import CardData, checked_items, listing_incomplete, render_card
from .first_timer import FALLBACK, is_first_timer
from .rules import BODY_MARKER, CARD_MARKER, SECTION

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context
    from bot.core.events import Event

FEATURE = store.FEATURE
CARD_ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited", "ready_for_review"})


def components_from(rules: Mapping[str, Any]) -> list[Component]:
    return [Component(name=c["name"], paths=tuple(c["paths"]), owners=tuple(c.get("owners") or ()),
                      depends_on=tuple(c.get("depends_on") or ())) for c in rules["components"]]


def guide_links(rules: Mapping[str, Any], repo: str) -> tuple[dict[str, str], str]:
    """Component -> URL of its contributing-guide section, and the decision tree's URL."""
    base = (rules["guide"].get("url") or "").replace("{repo}", repo)

    def resolve(ref: str) -> str:
        if not ref:
            return ""
        if ref.startswith(("https://", "http://")):
            return ref
        return base + ref if base and ref.startswith("#") else ""

    links = {c["name"]: resolve(c.get("guide") or "") for c in rules["components"]}
    return {k: v for k, v in links.items() if v}, resolve(rules["guide"].get("decision_tree") or "")


def checklist_for(rules: Mapping[str, Any], impact: Impact) -> tuple[str, ...]:
    """The PR template's items for every PR, then those of each impacted component, once each."""
    by_name = {c["name"]: c for c in rules["components"]}
    items: dict[str, None] = dict.fromkeys(rules["checklist"])
    for name in impact.all:
        items.update(dict.fromkeys(by_name.get(name, {}).get("checklist") or ()))
    return tuple(items)


def _body_section(body: str) -> str:
    start, end = f"<!-- {BODY_MARKER}:start -->", f"<!-- {BODY_MARKER}:end -->"
    # Found as the executor finds it (bot.executor.issues.replace_section): stray markers in
    # the author's text must not hide the section and lose their ticks.
    i = body.find(start)
    j = body.find(end, i + len(start)) if i != -1 else -1
    if j == -1:
        return ""
    i = body.rfind(start, 0, j)
    return body[i + len(start):j]


async def _first_timer(ctx: "Context", pr: Mapping[str, Any], scope: str
                       ) -> tuple[bool, list[A.Action]]:
    """Decided once per PR and remembered, so later pushes cost no search call."""
    number = int(pr["number"])
    author_id = int((pr.get("user") or {}).get("id") or 0)
    known = await store.first_timer_decision(ctx.db, ctx.repo, number)
    if known is not None and int(known["author_id"]) == author_id:
        return bool(known["first_timer"]), []
    first, reason = await is_first_timer(ctx, pr, scope=scope)
    if reason.startswith(FALLBACK):
        return first, []  # a guess: not remembered, the next event searches again
    record = A.Record(ctx.repo, feature=FEATURE, op="remember_first_timer",
                      args={"repo": ctx.repo, "number": number, "author_id": author_id,
                            "first_timer": first, "reason": reason})
    note = A.Note(ctx.repo, feature=FEATURE, number=number,
                  text=f"first-time contributor: {'yes' if first else 'no'} ({reason})")
    return first, [record, note]


def label_actions(repo: str, number: int, impact: Impact, *, prefix: str, current: set[str],
                  ours: set[str], taken_off: set[str] = frozenset(),
                  complete: bool = True) -> list[A.Action]:
    """Add area labels for direct components; remove only area labels this feature added,
    and only when ``impact`` saw every changed file (``complete``): a component touched by
    the files past GitHub's listing is still touched.
    A label the bot added that someone else took off (``taken_off``) is not put back.
    Names are compared ignoring case, as GitHub does: asked for "area/Docs" where the
    repository has "area/docs", GitHub puts "area/docs" on the PR, and that is the bot's."""
    desired = [f"{prefix}{name}" for name in impact.direct]
    on_pr = {label.casefold() for label in current}
    added = {label.casefold() for label in ours}
    refused = {label.casefold() for label in taken_off}
    wanted = {label.casefold() for label in desired}
    add = tuple(label for label in desired if label.casefold() not in on_pr | added | refused)
    out: list[A.Action] = [A.AddLabels(repo, number=number, labels=add)] if add else []
    if not complete:
        return out
    for label in sorted(current):
        if label.casefold() in added and label.casefold() not in wanted:
            out.append(A.RemoveLabel(repo, number=number, label=label))
    return out


def requested_on_github(pr: Mapping[str, Any], owner: str) -> set[str]:
    """Who the PR's copy says is requested, by anyone: logins and ``owner/team`` slugs, in
    lower case (GitHub's "Alice" in the payload is the "alice" the bot asked)."""
    users = {str(u.get("login", "")).lower() for u in pr.get("requested_reviewers") or ()}
    return users | {f"{owner}/{t.get('slug', '')}".lower() for t in pr.get("requested_teams") or ()}


async def _reviewer_actions(ctx: "Context", pr: Mapping[str, Any], impact: Impact,
                            owners: Mapping[str, Sequence[str]], cfg: Mapping[str, Any]
                            ) -> list[A.Action]:
    number = int(pr["number"])
    owner_info = (ctx.event.payload.get("repository") or {}).get("owner") or {}
    owner = str(owner_info.get("login") or ctx.repo.split("/", 1)[0])
    names = reviewers.candidates(impact, owners)
    if not names:
        return []
    already = requested_on_github(pr, owner) | await store.requested_before(ctx.db, ctx.repo, number)
    results = await review_request_results(ctx.db, ctx.repo, number, names)
    refused = {name for name, result in results.items() if result == "refused"}
    pending = [n for n in names if n.lower() not in already | refused]
    if len(already) >= cfg["max_per_pr"]:
        pending = []  # no free slot: spare the search API (30 requests a minute)
    loads = await reviewers.review_loads(ctx, pending, source=cfg["load_source"], owner=owner,
                                         owner_is_org=owner_info.get("type") == "Organization")
    choice = reviewers.choose_reviewers(
        names, repo_owner=owner, author=str((pr.get("user") or {}).get("login") or ""),
        already=already, cap=cfg["max_per_pr"], load_cap=cfg["max_open_reviews"], loads=loads,
        refused=refused)
    out: list[A.Action] = []
    if choice.users or choice.teams:
        out.append(A.RequestReviewers(ctx.repo, number=number, reviewers=choice.users,
                                      team_reviewers=choice.teams))
        # The executor goes on after a failed action: the writer records only those GitHub
        # accepted (one refused name must not pass for asked and hold a slot for good).
        asked = [*choice.users, *(f"{owner}/{t}" for t in choice.teams)]
        out.append(A.Record(ctx.repo, feature=FEATURE, op="record_review_requests",
                            args={"repo": ctx.repo, "number": number, "logins": asked}))
    skipped = {k: v for k, v in choice.skipped.items() if v not in ("already requested", "author")}
    # Explain every request, and on a PR's arrival why nobody was asked; not on every push.
    arriving = ctx.event.action in ("opened", "reopened", "ready_for_review")
    if choice.users or choice.teams or (skipped and arriving):
        asked_text = ", ".join([*choice.users, *choice.teams]) or "nobody"
        why = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        out.append(A.Note(ctx.repo, feature=FEATURE, number=number,
                          text=f"review requested from {asked_text}" + (f" (skipped {why})" if why else "")))
    return out


async def on_pull_request(event: "Event", ctx: "Context") -> list[A.Action]:
    if event.action not in CARD_ACTIONS:
        return []
    if event.action == "reopened" and not _answers_to(event, ctx):
        return []
    pr = event.payload.get("pull_request") or {}
    if pr and await _closed_since(ctx, pr):
        return []
    return await pr_actions(ctx, pr, full=True)


def _answers_to(event: "Event", ctx: "Context") -> bool:
    """A reopen is heard from anyone (``any_sender``): the review requests it brings back
    are a fact whoever reopened. The card is a reaction owed to people, allowed bots and the
    bot itself (a person's /reopen), not to other bots, whose opening got none."""
    if event.sender_login.casefold() == ctx.bot_login.casefold():
        return True
    return not from_other_bot(event, ctx.rules.section("core")["allowed_bots"])


def _instant(pr: Mapping[str, Any], ctx: "Context", *keys: str) -> float:
    """The payload's own time for a close or reopen (deliveries come late and out of order)."""
    for key in keys:
        at = parse_time(pr.get(key))
        if at is not None:
            return at.timestamp()
    return ctx.now().timestamp()


async def _closed_since(ctx: "Context", pr: Mapping[str, Any]) -> bool:
    """This copy of the PR is older than a close seen already (a late delivery: the reopen of
    09:00 after the close of 10:00): the PR is closed, so nothing is written or asked on it."""
    return await store.changed_state_after(ctx.db, ctx.repo, int(pr["number"]), "closed_at",
                                           _instant(pr, ctx, "updated_at"))


async def on_check_run(event: "Event", ctx: "Context") -> list[A.Action]:
    """The CLA and patch checks finish after the pull_request event that started them, so
    the card written then could not show their verdict: refresh it when they complete."""
    rules = ctx.rules.section(SECTION.name)
    run = event.payload.get("check_run") or {}
    if run.get("status") != "completed" or run.get("name") not in rules["refresh_on_checks"]:
        return []
    if is_queue_branch((run.get("check_suite") or {}).get("head_branch")):
        return []  # a merge queue's group commit (see merge_queue): no pull request's card shows it
    owner, name = ctx.repo.split("/", 1)
    head = str(run.get("head_sha") or "")
    repository = event.payload.get("repository") or {}
    # Other repositories' PRs on the same commit (a fork's own) are listed too: their numbers
    # name nothing, or another PR, here.
    numbers = [int(ref["number"]) for ref in run.get("pull_requests") or ()
               if ref.get("number") and based_here(ref, repository)]
    if not numbers and head:
        # GitHub sends an empty list when the head branch is in a fork (most first-timers):
        # the PR is found by its head, as this feature stored it, or by a search.
        numbers = await store.prs_with_head(ctx.db, ctx.repo, head) or \
            await lookups.open_prs_with_commit(ctx, head)
    out: list[A.Action] = []
    for number in numbers:
        pr = await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{pull_number}",
                                  {"owner": owner, "repo": name, "pull_number": number})
        if (pr.get("head") or {}).get("sha") != head:
            continue  # a newer push will tell
        if rules["card"] == "body" and not _has_body_section(str(pr.get("body") or "")):
            continue  # no card to refresh: the PR's own events make it (see _card's guard)
        out += await pr_actions(ctx, pr, full=False)
    return out


def _has_body_section(body: str) -> bool:
    start = body.find(f"<!-- {BODY_MARKER}:start -->")
    return start != -1 and body.find(f"<!-- {BODY_MARKER}:end -->", start) != -1


async def pr_actions(ctx: "Context", pr: Mapping[str, Any], *, full: bool,
                     merged: bool = False) -> list[A.Action]:
    """The card, and with ``full`` the area labels and review requests too. A closed PR gets
    none, but with ``merged`` a merged one gets its card (see ``merged_card``)."""
    rules = ctx.rules.section(SECTION.name)
    if not rules["enabled"] or not pr or (pr.get("state") == "closed" and not (merged and pr.get("merged"))):
        return []
    draft = bool(pr.get("draft"))
    if draft and not rules["drafts"]:
        return []
    number = int(pr["number"])
    components = components_from(rules)
    files = await lookups.changed_files(ctx, number)
    co = await lookups.codeowners(ctx, str((pr.get("base") or {}).get("ref") or "")) \
        if rules["codeowners"] else None
    # 3,000 files against every component's globs and every CODEOWNERS rule is CPU work of a
    # few hundred milliseconds: off the event loop, which other deliveries share. It reads
    # only immutable values and thread-safe caches.
    impact, owners = await asyncio.to_thread(_impact_and_owners, components, files, co)
    first, first_actions = await _first_timer(ctx, pr, rules["first_timers"]["scope"])
    note = lookups.CODEOWNERS_TOO_LARGE if co is not None and lookups.CODEOWNERS_TOO_LARGE in co.problems else None
    out: list[A.Action] = []
    if rules["card"] != "body" and not merged and not await store.card_written(ctx.db, repo=ctx.repo, number=number):
        # The first card: a check's refresh decided while it is posted waits for it (store.await_card).
        # (A merged PR's card is only ever edited, by a job, once the open PR's events made it.)
        out.append(A.Record(ctx.repo, feature=FEATURE, op="card_posting" if full else "await_card",
                            args={"repo": ctx.repo, "number": number}))
    out.append(await _card(ctx, pr, rules, impact, owners, first, files_listed=len(files),
                           create=full, codeowners_note=note))
    out += await _head_record(ctx, number, str((pr.get("head") or {}).get("sha") or ""))
    if full and rules["labels"]["enabled"]:
        prefix = rules["labels"]["prefix"]
        current = {str(label.get("name")) for label in pr.get("labels") or ()}
        ours, taken_off = await store.area_labels_added(ctx.db, ctx.repo, number, prefix)
        complete = not listing_incomplete(len(files), int(pr.get("changed_files") or 0))
        out += label_actions(ctx.repo, number, impact, prefix=prefix, current=current, ours=ours,
                             taken_off=taken_off, complete=complete)
    if full and rules["reviewers"]["enabled"] and not draft:
        out += await _reviewer_actions(ctx, pr, impact, owners, rules["reviewers"])
    return out + first_actions


async def merged_card(ctx: "Context", pr: Mapping[str, Any]) -> list[A.Action]:
    """The card of a merged PR written again, for a line another feature records after the
    merge (the sandbox's, which a merged PR's own events can no longer refresh): the card
    alone, edited in place, and only on a PR whose card this feature rendered while it was open
    (it remembered its head then). The caller's ``ctx`` may be a job's: the repository, rules,
    GitHub reader and store are what is read."""
    if not pr or not pr.get("merged") or await store.head_of(ctx.db, ctx.repo, int(pr["number"])) is None:
        return []
    return await pr_actions(ctx, pr, full=False, merged=True)


def _impact_and_owners(components: Sequence[Component], files: Sequence[ChangedFile],
                       codeowners: CodeOwners | None) -> tuple[Impact, dict[str, tuple[str, ...]]]:
    impact = compute_impact(components, files)
    return impact, owners_by_component(components, impact, codeowners)


async def _head_record(ctx: "Context", number: int, head: str) -> list[A.Action]:
    """Remember the PR's head when it moves: check runs on a fork's branch name no PR."""
    if not head or await store.head_of(ctx.db, ctx.repo, number) == head:
        return []
    return [A.Record(ctx.repo, feature=FEATURE, op="remember_head",
                     args={"repo": ctx.repo, "number": number, "head_sha": head})]


async def _card(ctx: "Context", pr: Mapping[str, Any], rules: Mapping[str, Any], impact: Impact,
                owners: Mapping[str, tuple[str, ...]], first: bool, *, files_listed: int,
                create: bool = True, codeowners_note: str | None = None) -> A.Action:
    """The card as an action. Without ``create`` (a check's completion, whose delivery runs
    beside the PR's own) it only edits a card the PR's events made: two deliveries finding no
    card at once would post two, and a PR that got none (another bot's) must not get one."""
    number = int(pr["number"])
    links, decision_tree = guide_links(rules, ctx.repo)
    body_mode = rules["card"] == "body"
    labels = frozenset(str(label.get("name")) for label in pr.get("labels") or ())
    data = CardData(
        impact=impact, owners=owners, guide_links=links, decision_tree=decision_tree,
        checklist=checklist_for(rules, impact), first_timer=first,
        author=str((pr.get("user") or {}).get("login") or ""),
        welcome=tuple(rules["first_timers"]["welcome"]),
        cla_line=await status.cla_line(ctx, ctx.repo, str((pr.get("head") or {}).get("sha") or "")),
        patch_line=await status.patch_line(ctx, ctx.repo, number, str((pr.get("head") or {}).get("sha") or "")),
        sandbox_line=await status.sandbox_line(ctx, ctx.repo, number) if pr.get("merged") else None,
        response_time=status.response_time(ctx, rules["response_time"], labels),
        files_listed=files_listed, files_total=int(pr.get("changed_files") or 0),
        max_files_listed=rules["max_files_listed"], draft=bool(pr.get("draft")), checkboxes=body_mode,
        checked=checked_items(_body_section(str(pr.get("body") or ""))) if body_mode else frozenset(),
        codeowners_note=codeowners_note,
    )
    card = render_card(data)
    if body_mode:
        # The ticks are the author's: those on GitHub when the card is written win over
        # ``checked``, read from this event's copy of the description (maybe an older one).
        return A.UpsertBodySection(ctx.repo, number=number, marker=BODY_MARKER, body=card, keep_ticks=True)
    guard = None if create else A.Guard(FEATURE, "card_written", {"repo": ctx.repo, "number": number})
    return A.UpsertComment(ctx.repo, number=number, marker=CARD_MARKER, body=card, guard=guard)


async def on_closed(event: "Event", ctx: "Context") -> list[A.Action]:
    """Closing ends the PR's review requests; merging makes its author a past contributor."""
    pr = event.payload.get("pull_request") or {}
    if not pr:
        return []
    number = int(pr["number"])
    # Ordered against reopens by the payload's instant (see store.pr_closed).
    out: list[A.Action] = [A.Record(ctx.repo, feature=FEATURE, op="pr_closed", args={
        "repo": ctx.repo, "number": number, "at": _instant(pr, ctx, "closed_at", "updated_at")})]
    user = pr.get("user") or {}
    if pr.get("merged") and user.get("id"):
        merged_at = parse_time(pr.get("merged_at")) or ctx.now()
        out.append(A.Record(ctx.repo, feature=FEATURE, op="record_merged", args={
            "repo": ctx.repo, "owner": event.owner, "number": number, "user_id": int(user["id"]),
            "login": str(user.get("login") or ""), "merged_at": merged_at.timestamp()}))
    return out


async def on_reopened(event: "Event", ctx: "Context") -> list[A.Action]:
    """The close ended the bot's requests on the PR; reopening brings back, as load, those
    GitHub still lists on it (review requests outlive a close). One withdrawn or answered
    while it was closed stays ended. Blindly reactivating would count those too.
    Heard whoever reopened (another bot's reopen included): the stored requests must stay
    true to GitHub. The reopen's instant is always recorded, so a close from before it,
    delivered later, is known for a late one (see store.pr_closed)."""
    pr = event.payload.get("pull_request") or {}
    if not pr:
        return []
    number = int(pr["number"])
    at = _instant(pr, ctx, "updated_at")
    owner_info = (event.payload.get("repository") or {}).get("owner") or {}
    listed = requested_on_github(pr, str(owner_info.get("login") or ctx.repo.split("/", 1)[0]))
    out: list[A.Action] = [A.Record(ctx.repo, feature=FEATURE, op="sync_review_requests", args={
        "repo": ctx.repo, "number": number, "requested": sorted(listed), "at": at})]
    if await _closed_since(ctx, pr):
        return out  # closed again since: the writer changes nothing either
    stored = await store.review_requests(ctx.db, ctx.repo, number)
    if all(active == (login in listed) for login, active in stored.items()):
        return out  # nothing the bot asked, or already in line (a redelivery)
    back = sorted(login for login in stored if login in listed)
    return [*out, A.Note(ctx.repo, feature=FEATURE, number=number,
                         text="reopened: review requests still open on GitHub count again: "
                              + (", ".join(back) or "none"))]


async def on_review_request_removed(event: "Event", ctx: "Context") -> list[A.Action]:
    pr = event.payload.get("pull_request") or {}
    who = (event.payload.get("requested_reviewer") or {}).get("login")
    team = (event.payload.get("requested_team") or {}).get("slug")
    login = who or (f"{event.owner}/{team}" if team else None)
    if not pr or not login:
        return []
    return [A.Record(ctx.repo, feature=FEATURE, op="review_finished",
                     args={"repo": ctx.repo, "number": int(pr["number"]), "login": login})]


async def on_review_submitted(event: "Event", ctx: "Context") -> list[A.Action]:
    pr = event.payload.get("pull_request") or {}
    login = ((event.payload.get("review") or {}).get("user") or {}).get("login")
    if not pr or not login:
        return []
    return [A.Record(ctx.repo, feature=FEATURE, op="review_finished",
                     args={"repo": ctx.repo, "number": int(pr["number"]), "login": login})]

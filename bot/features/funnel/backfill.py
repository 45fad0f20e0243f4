"""``backfill``: a repository's history through the API, every page, resumable.

Streams, each with its own saved cursor (table ``funnel_backfill``):
- ``issues``: issues and PRs (openings, merges from ``pull_request.merged_at``);
- ``comments`` and ``review_comments``: repository-wide lists;
- ``reviews``: per pull request (the API has no repository-wide list): every one the
  ``issues`` stream listed (kept in ``funnel_backfill_prs``, even when its author does not
  count, e.g. a deleted user), and any other the store knows of;
- ``approvers``: OWNERS (anywhere in the tree) and CODEOWNERS at each commit that changed
  them; collaborators with write or more and approver-team members (the API gives no date
  for those: they count as approvers since UNDATED, before any window).

Lists are read in creation order and the cursor is the page reached, so an interrupted
run goes on at the page it was on (writes are idempotent, so a page read twice is
harmless). A finished backfill is not repeated for the same start date (``--restart``
reads everything again; a different ``--since`` starts afresh). Reads go through the
installation client: ETags make repeated reads free, and when the limit runs low the
backfill waits for the reset instead of using it up.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Mapping

from ...github import PermanentGitHubError, RateLimited
from ...store import repo_names, state
from ...store.db import Database
from .approvers import approver_paths, is_owners_file, names_in, resolve, team_members
from .extract import COMMENT, PR_OPENED, REVIEW, REVIEW_COMMENT, Grant, _act, acts_from, epoch, object_key
from .progress import Progress
from .store import Batch, record_team_grants, write_batch

if TYPE_CHECKING:  # pragma: no cover
    from ...runtime import Runtime

log = logging.getLogger("bot.funnel.backfill")
PER_PAGE = 100
RESERVE = 200          # requests left for the bot's live work while a backfill runs
STREAMS = ("issues", "comments", "review_comments", "reviews", "approvers")
# When a right began that the API does not date (collaborators, team members, names already
# in an approver file when the window starts): earlier than any window can start (year 1), so
# the grant keeps its holder an approver yet makes them no window's new contributor, as an
# instant just before --since did for every window containing it.
UNDATED = int(datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()) - 1


@dataclass
class Backfill:
    db: Database
    api: Any
    repo: str
    repo_id: int
    since: datetime
    section: Mapping[str, Any]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.time
    counts: dict[str, int] = field(default_factory=dict)
    progress: Progress | None = None
    reserve: int = RESERVE
    default_branch: str = ""
    full_name: str = ""  # the repository's current name as the API gives it (``repo`` may be an old one)

    @property
    def owner_name(self) -> dict[str, str]:
        owner, name = self.repo.split("/", 1)
        return {"owner": owner, "repo": name}

    # --- cursors --------------------------------------------------------------------------
    async def cursor(self, stream: str) -> tuple[str, bool]:
        row = await self.db.fetchone("SELECT cursor, done FROM funnel_backfill WHERE repo = ? AND stream = ?",
                                     (self.repo, stream))
        return (row["cursor"], bool(row["done"])) if row else ("", False)

    async def save(self, stream: str, cursor: str, done: bool = False) -> None:
        await self.db.execute(
            "INSERT INTO funnel_backfill (repo, stream, cursor, done, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (repo, stream) DO UPDATE SET cursor = excluded.cursor, done = excluded.done,"
            " updated_at = excluded.updated_at", (self.repo, stream, cursor, int(done), self.clock()))

    # --- pacing ---------------------------------------------------------------------------
    async def pace(self) -> None:
        """Wait for the reset rather than spend the last requests of the hour."""
        limit = getattr(self.api, "rate_limit", None)
        if limit is not None and limit.remaining is not None and limit.remaining < self.reserve:
            wait = limit.reset_datetime.timestamp() - self.clock()
            if wait > 0:
                log.warning("rate limit low (%s left): waiting %.0f s for the reset", limit.remaining, wait)
                await self.sleep(wait + 1)

    async def pages(self, stream: str, url: str, url_vars: dict[str, Any]) -> AsyncIterator[list[Any]]:
        """Pages of a list from the saved page on; the cursor moves after each page is used."""
        cursor, done = await self.cursor(stream)
        if done:
            return
        page = int(cursor or 1)
        while True:
            await self.pace()
            items: list[Any] = []
            # getiter follows the Link header from the page we start at; one page at a time
            # is read so the cursor can be saved between pages.
            async for item in self.api.getiter(url, {**url_vars, "per_page": PER_PAGE, "page": page}):
                items.append(item)
                if len(items) == PER_PAGE:
                    break
            if items:
                yield items
            if len(items) < PER_PAGE:
                await self.save(stream, str(page), done=True)
                return
            page += 1
            await self.save(stream, str(page))

    def now(self) -> int:
        """What the API shows is current: its logins are people's names as of now."""
        return int(self.clock())

    def batch(self) -> Batch:
        batch = Batch()
        # Read from the API now: the repository's current name, newer than any archived one.
        batch.add_repo(self.repo_id, self.full_name or self.repo, int(self.clock()))
        return batch

    async def write(self, stream: str, batch: Batch, n: int) -> None:
        await write_batch(self.db, batch)
        self.counts[stream] = self.counts.get(stream, 0) + n
        if self.progress:
            self.progress.update(sum(self.counts.values()), stream)

    # --- streams --------------------------------------------------------------------------
    async def issues(self) -> None:
        url = "/repos/{owner}/{repo}/issues{?state,sort,direction,since,per_page,page}"
        async for items in self.pages("issues", url, {**self.owner_name, "state": "all", "sort": "created",
                                                      "direction": "asc", "since": self._since()}):
            batch = self.batch()
            for item in items:
                batch.add_acts(self.repo_id, acts_from("issues", {"issue": item}, self.repo_id), self.now())
            await self.write("issues", batch, len(items))
            # Their reviews are read later, whoever the author is: a deleted author's PR has
            # no act of its own but may have reviewers who count.
            prs = [(self.repo_id, int(item["number"])) for item in items if item.get("pull_request")]
            if prs:
                await self.db.executemany("INSERT INTO funnel_backfill_prs (repo_id, number) VALUES (?, ?)"
                                          " ON CONFLICT DO NOTHING", prs)

    async def comments(self, stream: str, url: str, kind: int) -> None:
        async for items in self.pages(stream, url, {**self.owner_name, "sort": "created", "direction": "asc",
                                                    "since": self._since()}):
            batch = self.batch()
            for c in items:
                batch.add_acts(self.repo_id, _act(object_key(c["id"], kind), kind, c.get("user"),
                                                  c.get("created_at")), self.now())
            await self.write(stream, batch, len(items))

    async def reviews(self) -> None:
        cursor, done = await self.cursor("reviews")
        if done:
            return
        listed = await self.db.fetchall("SELECT number FROM funnel_backfill_prs WHERE repo_id = ?",
                                        (self.repo_id,))
        # Also PRs known from live events or imported hours but opened before --since.
        opened = await self.db.fetchall("SELECT act_key FROM funnel_acts WHERE repo_id = ? AND kind = ?",
                                        (self.repo_id, PR_OPENED))
        numbers = sorted({int(r["number"]) for r in listed}
                         | {(r["act_key"] >> 3) & ((1 << 22) - 1) for r in opened})
        last = int(cursor or 0)
        for number in (n for n in numbers if n > last):
            await self.pace()
            batch = self.batch()
            url = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews{?per_page}"
            n = 0
            async for r in self.api.getiter(url, {**self.owner_name, "pull_number": number, "per_page": PER_PAGE}):
                n += 1
                batch.add_acts(self.repo_id, _act(object_key(r["id"], REVIEW), REVIEW, r.get("user"),
                                                  r.get("submitted_at")), self.now())
            await self.write("reviews", batch, n)
            await self.save("reviews", str(number))
        await self.save("reviews", str(numbers[-1] if numbers else last), done=True)

    async def approvers(self) -> None:
        """One step per approver file, then collaborators, then teams; the cursor is the
        step reached, so a wait or an interruption never redoes a finished step."""
        cursor, done = await self.cursor("approvers")
        if done:
            return
        paths = await self._approver_paths()
        steps = [*(lambda p=p: self._file_history(p, UNDATED) for p in paths),
                 lambda: self._collaborators(UNDATED), lambda: self._teams(UNDATED)]
        for index in range(int(cursor or 0), len(steps)):
            grants = await steps[index]()
            batch = self.batch()
            batch.add_grants(self.repo_id, grants, self.now())
            await self.write("approvers", batch, len(grants))
            await self.save("approvers", str(index + 1))
        await self.save("approvers", str(len(steps)), done=True)

    async def _approver_paths(self) -> list[str]:
        """OWNERS files anywhere in the default branch's tree (Prow puts one per folder),
        and the CODEOWNERS locations; only the configured root names if the tree is unreadable
        or too big to list in one answer."""
        fallback = sorted({*self.section["owners_files"], *self.section["codeowners_files"]})
        if not self.default_branch:
            return fallback
        try:
            tree = await self.api.getitem("/repos/{owner}/{repo}/git/trees/{tree_sha}{?recursive}",
                                          {**self.owner_name, "tree_sha": self.default_branch,
                                           "recursive": "1"})
        except PermanentGitHubError as exc:  # an empty repository answers 409
            log.warning("tree of %s unreadable, reading root approver files only: %s", self.repo, exc)
            return fallback
        if tree.get("truncated"):
            return fallback
        found = [e["path"] for e in tree.get("tree") or [] if e.get("type") == "blob"]
        return approver_paths(found, self.section) or fallback

    async def _collaborators(self, undated: int) -> list[Grant]:
        """Collaborators with push (write), maintain or admin: GitHub filters them."""
        url = "/repos/{owner}/{repo}/collaborators{?affiliation,permission,per_page}"
        return [Grant(int(c["id"]), str(c["login"]), "permission", undated)
                async for c in self.api.getiter(url, {**self.owner_name, "affiliation": "all",
                                                      "permission": "push", "per_page": PER_PAGE})]

    async def _teams(self, undated: int) -> list[Grant]:
        for team in self.section.get("approver_teams") or ():
            members = await team_members(self.api, team)
            if members:
                org, slug = team.split("/", 1)
                await record_team_grants(self.db, org=org, team=slug,
                                         members=[[m["id"], m["login"], undated] for m in members])
        return []

    async def _file_history(self, path: str, undated: int) -> list[Grant]:
        """Who the file named at each commit that changed it: a name's first appearance is
        when its rights began (the version in force at the start is undated)."""
        base = {**self.owner_name, "path": path}
        url = "/repos/{owner}/{repo}/commits{?path,since,until,per_page}"
        versions: list[tuple[int, str]] = []
        async for c in self.api.getiter(url, {**base, "until": self._since(), "per_page": 1}):
            versions.append((undated, c["sha"]))
            break
        changed = [c async for c in self.api.getiter(url, {**base, "since": self._since(), "per_page": PER_PAGE})]
        for c in reversed(changed):  # the API lists newest first
            at = epoch(((c.get("commit") or {}).get("committer") or {}).get("date")) or undated
            versions.append((at, c["sha"]))
        if not versions and self.default_branch:
            # No commit listed for the file (history unavailable): what it says now counts
            # as undated, like collaborators.
            versions.append((undated, self.default_branch))
        source = "owners" if is_owners_file(path, self.section) else "codeowners"
        seen: set[str] = set()
        grants: list[Grant] = []
        for at, sha in versions:
            await self.pace()
            logins, teams = await names_in(self.api, self.repo, path, sha, self.section)
            fresh = logins - seen
            seen |= logins
            for uid, login in (await resolve(self.db, self.api, fresh)).values():
                grants.append(Grant(uid, login, source, at))
            for team in teams:
                for m in await team_members(self.api, team):
                    grants.append(Grant(int(m["id"]), str(m["login"]), source, at))
        return grants

    def _since(self) -> str:
        return self.since.strftime("%Y-%m-%dT%H:%M:%SZ")

    async def run(self) -> dict[str, int]:
        steps = {
            "issues": self.issues,
            "comments": lambda: self.comments(
                "comments", "/repos/{owner}/{repo}/issues/comments{?sort,direction,since,per_page,page}", COMMENT),
            "review_comments": lambda: self.comments(
                "review_comments", "/repos/{owner}/{repo}/pulls/comments{?sort,direction,since,per_page,page}",
                REVIEW_COMMENT),
            "reviews": self.reviews,
            "approvers": self.approvers,
        }
        for name in STREAMS:
            while True:
                try:
                    await steps[name]()
                    break
                except RateLimited as exc:
                    # Stop and wait: the stream resumes from its saved page.
                    wait = max(exc.retry_at - self.clock(), 1.0)
                    log.warning("rate limited during %s: waiting %.0f s", name, wait)
                    await self.sleep(wait)
        return self.counts


async def run_backfill(runtime: "Runtime", repo: str, since: datetime, *, restart: bool = False,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> str:
    owner, name = repo.split("/", 1)
    if runtime.github is None or runtime.github.dry_run:
        raise SystemExit("backfill reads GitHub: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY")
    installed = await state.installation_named(runtime.db, repo)
    if installed is not None:
        inst = int(installed["installation_id"])
    else:
        found = await runtime.github.app().getitem("/repos/{owner}/{repo}/installation",
                                                   {"owner": owner, "repo": name})
        inst = int(found["id"])
    api = await runtime.api(inst)
    info = await api.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": name})
    # GitHub finds a repository whatever the case of the name typed (and by a name it had):
    # its rows go where the bot keeps that id's (repo_names), else under GitHub's spelling,
    # never under a second name of the same repository.
    kept = await repo_names.current_name(runtime.db, int(info["id"]))
    if kept is None or repo_names.is_tombstone(kept):
        kept = str(info.get("full_name") or "") or (installed or {}).get("repo") or repo
    repo = kept
    private = info.get("private")
    # Read live: authoritative, as a privatized/publicized event is.
    await state.remember_installation(runtime.db, repo, inst, private if isinstance(private, bool) else None,
                                      authoritative=isinstance(private, bool))
    rules = (await runtime.rules_for(repo, inst)).rules
    # Saved progress belongs to one --since: another start date is another backfill.
    saved_since = await runtime.db.fetchval(
        "SELECT cursor FROM funnel_backfill WHERE repo = ? AND stream = 'since'", (repo,))
    if restart or (saved_since is not None and saved_since != since.isoformat()):
        await runtime.db.execute("DELETE FROM funnel_backfill WHERE repo = ?", (repo,))
    job = Backfill(runtime.db, api, repo, int(info["id"]), since, rules.section("funnel"), sleep=sleep,
                   progress=Progress(f"backfill {repo}", unit="items"),
                   default_branch=str(info.get("default_branch") or ""),
                   full_name=repo)
    await job.save("since", since.isoformat(), done=True)
    counts = await job.run()
    job.progress.close()  # type: ignore[union-attr]
    return f"backfill of {repo} since {since.date()}: " + ", ".join(
        f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in STREAMS)

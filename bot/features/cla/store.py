"""The CLA feature's tables: writers (run by the executor through ``Record``) and reads.

A pull request's verdict is decided from several queues at once: its own events, and re-checks
run elsewhere (a signature re-checking the signer's other pull requests, the periodic job, a
re-run from the checks UI). So each decision carries the revision of the verdict row it read
before reading GitHub, and its write is a compare-and-set: if another decision wrote the row
since (a push decided meanwhile), the write is refused with StaleVerdict, a RetryLater. The
check writes its verdict before any of its GitHub actions (``check.check_pull_request``), so
the delivery or job stops there, before editing the comment or the labels for an old head, and
is decided again on what GitHub and the store say then.

A verdict written is unsent (``published`` 0) until a last Record after its GitHub actions marks
that revision sent (the executor went past each of them: one GitHub refused for good, logged,
does not stop it, as sending it again would be refused again). A retry decides again rather than replaying, and a re-check found from the
store (who waits for a signer) no longer finds a pull request its first attempt's verdict took
off the list: ``unsent`` is how the periodic re-check finds those and sends them.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Mapping, Sequence

from ...core.retry import RetryLater
from ...store.db import Database
from . import recorded

log = logging.getLogger("bot.features.cla")


class StaleVerdict(RetryLater):
    """The verdict row changed after the decision read it: decided again, at once."""


async def sign(db: Database, *, agreement: str, user_id: int, login: str, version: str,
               signed_at: float, comment_url: str = "", repo: str = "", recorded_by: str = "") -> None:
    """Store a signature; signing the same version again keeps the first one."""
    await db.execute(
        "INSERT INTO cla_signatures (agreement, user_id, version, login, signed_at, comment_url,"
        " repo, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (agreement, user_id, version) DO NOTHING",
        (agreement, int(user_id), str(version), login, float(signed_at), comment_url, repo, recorded_by))


async def pr_status(db: Database, *, repo: str, number: int, head_sha: str, state: str,
                    conclusion: str, missing: Sequence[Mapping[str, Any]], unlinked: int, dco: int,
                    commented: bool, updated_at: float, mode: str | None = None,
                    version: str | None = None, signed: Sequence[Mapping[str, Any]] = (),
                    facts: Mapping[str, Any] | None = None, members: Mapping[str, Any] | None = None,
                    read_revision: int | None = None, decision: str | None = None,
                    stale: str = "retry") -> None:
    """The latest verdict of a PR and who it waits for (replaces the previous one), with what it
    was decided with (mode, version, who counted as signed; the facts of its commits and the
    membership answers, see ``recorded``): see ``standing``. A verdict for the head already on
    record keeps the membership answers given for it (a merge group's check asks about people
    this check does not), under this check's own.

    ``read_revision``: the row's revision when the decision read it (0: there was none); a row
    written since by another decision refuses this one (StaleVerdict). None: written whatever is
    there (a Record decided before revisions were kept).

    ``decision``: a token naming this decision, kept with the verdict, which its guards and its
    ``published`` mark then compare too. ``stale="skip"``: a refused verdict is dropped without
    failing the batch (the periodic job, whose run holds other pull requests' actions: one
    overtaken pull request must not hold them up until the run's lease ends); its other
    actions, guarded by ``decision``, are skipped as superseded, and the newer decision sends
    its own."""
    async with db.transaction():
        kept = None if members is None else await _kept_members(db, repo, number, head_sha)
        if kept is not None:
            members = recorded.members_to_json(kept.merged(recorded.members_from_json(members)))
        unchanged = "" if read_revision is None else " WHERE cla_pr_status.revision = ?"
        written = await db.execute(
            "INSERT INTO cla_pr_status (repo, number, head_sha, state, conclusion, missing, unlinked,"
            " dco, commented, is_open, updated_at, mode, version, signed, facts, members, revision, published,"
            " decision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, 1, 0, ?)"
            " ON CONFLICT (repo, number) DO UPDATE SET head_sha = excluded.head_sha,"
            " state = excluded.state, conclusion = excluded.conclusion, missing = excluded.missing,"
            " unlinked = excluded.unlinked, dco = excluded.dco, is_open = 1,"
            " commented = CASE WHEN excluded.commented = 1 THEN 1 ELSE cla_pr_status.commented END,"
            " updated_at = excluded.updated_at, mode = excluded.mode, version = excluded.version,"
            " signed = excluded.signed, facts = excluded.facts, members = excluded.members,"
            " revision = cla_pr_status.revision + 1, published = 0, decision = excluded.decision" + unchanged,
            (repo, number, head_sha, state, conclusion, json.dumps(list(missing)), unlinked, dco,
             1 if commented else 0, float(updated_at), mode, None if version is None else str(version),
             json.dumps(list(signed)), None if facts is None else json.dumps(dict(facts)),
             None if members is None else json.dumps(dict(members)), decision,
             *(() if read_revision is None else (int(read_revision),))))
        if not written and stale == "skip":
            log.info("CLA verdict of %s#%s at %s superseded: written since revision %s was read",
                     repo, number, head_sha[:7], read_revision)
            return
        if not written:
            raise StaleVerdict(f"the CLA verdict of {repo}#{number} was written since revision {read_revision} "
                               f"was read: deciding {head_sha[:7]} again")
        await db.execute("DELETE FROM cla_waiting WHERE repo = ? AND number = ?", (repo, number))
        for person in missing:
            await db.execute(
                "INSERT INTO cla_waiting (repo, number, user_id) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING", (repo, number, int(person["id"])))


async def _kept_members(db: Database, repo: str, number: int, head_sha: str) -> recorded.Members | None:
    """The membership answers on record for the verdict of ``head_sha`` (None: no verdict for
    that head), its row locked until the caller's transaction ends: two writers merging answers
    at once (replicas) must not lose either's. SQLite's transaction holds the only write lock."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    row = await db.fetchone("SELECT head_sha, members FROM cla_pr_status WHERE repo = ? AND number = ?" + lock,
                            (repo, number))
    if row is None or row["head_sha"] != head_sha:
        return None
    return recorded.members_from_json(row["members"])


async def members(db: Database, *, repo: str, number: int, head_sha: str, of: Sequence[str],
                  asked: Sequence[int], covered: Sequence[int], gone: Sequence[int] = ()) -> None:
    """Membership answers GitHub gave while the verdict for ``head_sha`` was weighed again (a
    merge group's check), kept with that verdict: the follow job, which reads no GitHub, then
    says what the group's check said. A verdict for another head (a push since) keeps its own."""
    async with db.transaction():
        kept = await _kept_members(db, repo, number, head_sha)
        if kept is None:
            return
        newer = recorded.Members(tuple(of), frozenset(map(int, asked)), frozenset(map(int, covered)),
                                 frozenset(map(int, gone)))
        merged = kept.merged(newer)
        await db.execute("UPDATE cla_pr_status SET members = ? WHERE repo = ? AND number = ? AND head_sha = ?",
                         (json.dumps(recorded.members_to_json(merged)), repo, number, head_sha))


async def opener(db: Database, *, repo: str, number: int, opener: Mapping[str, Any] | None) -> None:
    """Who opened the pull request (None: nobody GitHub names), as GitHub said to a merge group's
    check of a verdict recorded without them: kept for the follow job (see ``standing``)."""
    await db.execute("UPDATE cla_pr_status SET opener = ? WHERE repo = ? AND number = ?",
                     (json.dumps(dict(opener or {})), repo, number))


async def published(db: Database, *, repo: str, number: int, revision: int, decision: str | None = None) -> None:
    """The verdict written as ``revision`` had its GitHub actions sent (a later one is not): the
    executor went past each of them, sent or refused for good (a refusal is logged, and would be
    refused again). The periodic job's tries start again (``job_tried``)."""
    same = "" if decision is None else " AND decision = ?"
    await db.execute("UPDATE cla_pr_status SET published = 1, job_tries = 0"
                     " WHERE repo = ? AND number = ? AND revision = ?" + same,
                     (repo, number, int(revision), *(() if decision is None else (decision,))))


async def job_tried(db: Database, *, repo: str, number: int, head_sha: str) -> None:
    """The periodic job re-checked the verdict of ``head_sha`` once more (counted per head, and
    only while that head's verdict is the pull request's): see ``job_given_up``."""
    await db.execute(
        "UPDATE cla_pr_status SET job_tries = CASE WHEN job_tries_head = ? THEN job_tries + 1 ELSE 1 END,"
        " job_tries_head = ? WHERE repo = ? AND number = ? AND head_sha = ?",
        (head_sha, head_sha, repo, number, head_sha))


async def pr_closed(db: Database, *, repo: str, number: int) -> None:
    """A close changes the state under the verdict as a new verdict does: it bumps the revision,
    so a re-check that read the row before the close is refused (StaleVerdict) rather than
    writing the PR open again and putting back who it waits for."""
    async with db.transaction():
        await db.execute("UPDATE cla_pr_status SET is_open = 0, revision = revision + 1"
                         " WHERE repo = ? AND number = ?", (repo, number))
        await db.execute("DELETE FROM cla_waiting WHERE repo = ? AND number = ?", (repo, number))


async def owner_seen(db: Database, *, owner_id: int, login: str, seen_at: float,
                     former: Sequence[str] = (), searched: bool = False) -> None:
    """The repository owner ``owner_id`` shown with ``login`` by what was read at ``seen_at``.

    Default agreements are keyed by the owner's login, so an owner renaming its login would leave
    every signature under the old key. When the same id shows a new login, later than the one on
    record was seen, the old key's signatures are copied (not moved: a repository whose rules name
    the old login as its ``agreement`` keeps them) to the new key. A sighting older than the one
    on record (a delivery sent before the rename, processed after it) changes nothing. Idempotent,
    and safe with replicas: the owner's row is locked (SQLite: the transaction's write lock), and
    a signature already under the new key stays as it is.

    ``searched``: the kept deliveries were searched for logins the owner had before it was first
    remembered (``check._owner_sighting``), and ``former`` are those found: their signatures are
    copied to the owner's login on record as well, once."""
    login = login.lower()
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    async with db.transaction():
        await db.execute("INSERT INTO cla_owners (owner_id, login, seen_at) VALUES (?, ?, ?)"
                         " ON CONFLICT (owner_id) DO NOTHING", (int(owner_id), login, float(seen_at)))
        row = await db.fetchone("SELECT login, seen_at, history_searched FROM cla_owners WHERE owner_id = ?" + lock,
                                (int(owner_id),))
        if row is None:
            return
        current = str(row["login"])
        if current != login and float(row["seen_at"]) <= float(seen_at):
            await db.execute("UPDATE cla_owners SET login = ?, seen_at = ? WHERE owner_id = ?",
                             (login, float(seen_at), int(owner_id)))
            await _copy_signatures(db, current, login)
            current = login
        if searched and not row["history_searched"]:
            await db.execute("UPDATE cla_owners SET history_searched = 1 WHERE owner_id = ?", (int(owner_id),))
            for old in former:
                if str(old).lower() != current:
                    await _copy_signatures(db, str(old).lower(), current)


async def _copy_signatures(db: Database, old: str, new: str) -> None:
    await db.execute(
        "INSERT INTO cla_signatures (agreement, user_id, version, login, signed_at, comment_url, repo,"
        " recorded_by) SELECT ?, user_id, version, login, signed_at, comment_url, repo, recorded_by"
        " FROM cla_signatures WHERE agreement = ? ON CONFLICT (agreement, user_id, version) DO NOTHING",
        (new, old))


async def still_current(db: Database, *, repo: str, number: int, revision: int,
                        decision: str | None = None) -> bool:
    """Guard of a verdict's GitHub actions (core.actions.Guard): the verdict written as
    ``revision`` (by ``decision``, when it names itself) is still the pull request's, nothing (a
    newer verdict, a close) written since."""
    row = await db.fetchone("SELECT revision, decision FROM cla_pr_status WHERE repo = ? AND number = ?",
                            (repo, number))
    return (row is not None and int(row["revision"]) == int(revision)
            and (decision is None or row["decision"] == decision))


GUARDS = {"still_current": still_current}

WRITERS = {"sign": sign, "pr_status": pr_status, "pr_closed": pr_closed, "members": members, "opener": opener,
           "published": published, "owner_seen": owner_seen, "job_tried": job_tried}


# --- reads ---------------------------------------------------------------------------------------

async def signed_versions(db: Database, agreement: str | Sequence[str], user_ids: Sequence[int],
                          version: str) -> dict[int, str]:
    """User id -> the current version if signed, else the latest older version signed (under any
    of the agreement keys given: an owner's new login and the old one not yet copied from)."""
    out: dict[int, str] = {}
    keys = [agreement] if isinstance(agreement, str) else list(agreement)
    keys_in = ", ".join("?" * len(keys))
    ids = sorted({int(i) for i in user_ids})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = await db.fetchall(
            f"SELECT user_id, version FROM cla_signatures WHERE agreement IN ({keys_in}) AND user_id IN ({marks})"
            " ORDER BY signed_at", (*keys, *chunk))
        for row in rows:
            uid = int(row["user_id"])
            if out.get(uid) != str(version):
                out[uid] = str(row["version"])
    return out


async def waiting_for(db: Database, repo: str, user_id: int) -> list[int]:
    rows = await db.fetchall(
        "SELECT number FROM cla_waiting WHERE repo = ? AND user_id = ? ORDER BY number",
        (repo, int(user_id)))
    return [int(r["number"]) for r in rows]


# A verdict row the periodic job has not given up (``job_tried`` fewer than ``max_tries`` times
# for its head), as SQL over cla_pr_status aliased ``p``.
_NOT_GIVEN_UP = " AND NOT (p.job_tries >= ? AND p.job_tries_head = p.head_sha)"


async def unsent(db: Database, repo: str, before: float, *, max_tries: int) -> list[int]:
    """Open pull requests whose verdict, written before ``before``, was never sent to GitHub,
    and which the periodic job has not given up."""
    rows = await db.fetchall(
        "SELECT number FROM cla_pr_status p WHERE repo = ? AND is_open = 1 AND published = 0 AND updated_at < ?"
        + _NOT_GIVEN_UP + " ORDER BY number", (repo, float(before), int(max_tries)))
    return [int(r["number"]) for r in rows]


async def waiting_for_signers(db: Database, repo: str, agreement: str, version: str, *,
                              max_tries: int) -> list[int]:
    """Pull requests waiting for someone who has signed ``version`` since (a signature made in
    another repository of the agreement), which the periodic job has not given up."""
    rows = await db.fetchall(
        "SELECT DISTINCT w.number FROM cla_waiting w JOIN cla_signatures s"
        " ON s.user_id = w.user_id AND s.agreement = ? AND s.version = ?"
        " JOIN cla_pr_status p ON p.repo = w.repo AND p.number = w.number WHERE w.repo = ?" + _NOT_GIVEN_UP
        + " ORDER BY w.number", (agreement, str(version), repo, int(max_tries)))
    return [int(r["number"]) for r in rows]


async def owner_login(db: Database, owner_id: int) -> dict[str, Any] | None:
    """The login the owner was last seen with (lower case), when, and whether the logins it had
    before it was first remembered were searched for (see ``owner_seen``)."""
    return await db.fetchone("SELECT login, seen_at, history_searched FROM cla_owners WHERE owner_id = ?",
                             (int(owner_id),))


async def unowned_agreements(db: Database, login: str, *, limit: int) -> list[str]:
    """Agreement keys with signatures that are neither ``login`` nor the login of an owner on
    record: a custom ``agreement``, or the login of an owner never remembered (or since
    renamed), which the kept deliveries may place (``check._owner_sighting``)."""
    rows = await db.fetchall(
        "SELECT DISTINCT agreement FROM cla_signatures WHERE agreement <> ?"
        " AND agreement NOT IN (SELECT login FROM cla_owners) ORDER BY agreement LIMIT ?",
        (login.lower(), int(limit)))
    return [str(r["agreement"]) for r in rows]


async def status_of(db: Database, repo: str, number: int) -> dict[str, Any] | None:
    return await db.fetchone("SELECT * FROM cla_pr_status WHERE repo = ? AND number = ?", (repo, number))


async def status_by_head(db: Database, repo: str, head_sha: str) -> dict[str, Any] | None:
    return await db.fetchone(
        "SELECT * FROM cla_pr_status WHERE repo = ? AND head_sha = ? ORDER BY updated_at DESC",
        (repo, head_sha))


async def all_signatures(db: Database) -> list[dict[str, Any]]:
    return await db.fetchall(
        "SELECT agreement, login, user_id, version, signed_at, comment_url, repo, recorded_by"
        " FROM cla_signatures ORDER BY agreement, signed_at, user_id")

"""pull_request events in, actions out: card, labels, review requests, first-timers."""
from __future__ import annotations

import base64

import pytest

from bot.core import actions as A
from bot.store.state import remember_review_requests
from bot.features.pr_context import FEATURE, status
from bot.features.pr_context.rules import BODY_MARKER, CARD_MARKER
from bot.github import PermanentGitHubError
from bot.store import state
from tests.helpers import RecordingReader, make_context

from .payloads import CONTENTS_URL, FILES_URL, RULES, SEARCH_URL, files, pr_payload
from .payloads import rules_with as bundled_rules


@pytest.fixture(autouse=True)
def no_borrowed_status(monkeypatch):
    """Other features' status lines are tested in test_status; keep cards deterministic here."""
    async def nothing(*args, **kwargs):
        return None
    monkeypatch.setattr(status, "_borrowed_line", nothing)


def search(merged_by: dict[int, list[int]] | None = None, loads: dict[str, int] | None = None,
           by_commit: dict[str, list[int]] | None = None):
    """A search API answering merged-PR, review-load and by-commit queries."""
    def answer(url_vars):
        q = url_vars["q"]
        if q.split()[0] in (by_commit or {}):
            items = [{"number": n} for n in (by_commit or {})[q.split()[0]]]
            return {"total_count": len(items), "items": items}
        if "is:merged" in q:
            items = [{"number": n, "user": {"id": uid}, "repository_url": "x/repos/Codertocat/Hello-World"}
                     for uid, numbers in (merged_by or {}).items() for n in numbers]
            return {"total_count": len(items), "items": items}
        login = q.split("review-requested:", 1)[1].split()[0]
        return {"total_count": (loads or {}).get(login, 0), "items": []}
    return answer


def reader(changed, *, codeowners: str | None = None, merged_by=None, loads=None, by_commit=None):
    def contents(url_vars):
        if codeowners is None or url_vars["path"] != ".github/CODEOWNERS":
            raise PermanentGitHubError("Not Found", status=404)
        return {"type": "file", "encoding": "base64",
                "content": base64.b64encode(codeowners.encode()).decode()}
    return RecordingReader(items={SEARCH_URL: search(merged_by, loads, by_commit), CONTENTS_URL: contents},
                           lists={FILES_URL: changed})


async def run(db, payload, gh, rules=None, event="pull_request"):
    ev, ctx = make_context(event, payload, db=db, reader=gh, rules=rules or bundled_rules(RULES))
    out = []
    for handler in FEATURE.handlers_for(ev):
        out += await handler(ev, ctx)
    return out


def only(actions, kind):
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, actions
    return found[0]


def records(actions, op):
    return [a for a in actions if isinstance(a, A.Record) and a.op == op]


async def perform_records(db, actions, *, refused=()):
    """Play the executor's part: GitHub answers each review request (accepting all but
    ``refused``) into the ledger, then every Record runs, as the executor runs it whatever
    became of the request before it."""
    for a in actions:
        if isinstance(a, A.RequestReviewers):
            owner = a.repo.split("/", 1)[0]
            names = [*a.reviewers, *(f"{owner}/{t}" for t in a.team_reviewers)]
            await remember_review_requests(db, a.repo, a.number, {
                n: "refused" if n in refused else "requested" for n in names})
    for a in actions:
        if isinstance(a, A.Record):
            await FEATURE.writers[a.op](db, **a.args)


async def test_opened_keeps_one_card_labels_and_requests_owners(db):
    gh = reader(files("src/core/a.py", "src/core/b.py", "setup.py"),
                codeowners="src/core/ @core-team-lead\nsetup.py @release\n")
    out = await run(db, pr_payload("opened", author="bob"), gh)

    card = only(out, A.UpsertComment)
    assert card.marker == CARD_MARKER and card.number == 7
    body = card.body
    assert "**Components touched**" in body and "[**core**](https://example.test/Codertocat/Hello-World/CONTRIBUTING.md#core)" in body
    assert "[alice](https://github.com/alice)" in body and "[core-team-lead](https://github.com/core-team-lead)" in body
    assert "| **parser** | [carol](https://github.com/carol) | core |" in body
    assert "| **cli** | [dave](https://github.com/dave) | parser |" in body
    assert "1 changed file(s) belong to no component; CODEOWNERS: [release](https://github.com/release)." in body
    assert "- Tests prove the change.\n- Core stays pure.\n- Grammar tests updated." in body
    assert "[Architecture decision tree](https://example.test/Codertocat/Hello-World/CONTRIBUTING.md#tree)" in body
    assert "within 2 days" in body
    assert "@" not in body  # nobody is pinged by the card

    assert only(out, A.AddLabels).labels == ("area/core",)
    request = only(out, A.RequestReviewers)
    assert request.reviewers == ("alice", "core-team-lead")   # the author bob is skipped
    assert records(out, "record_review_requests")[0].args["logins"] == ["alice", "core-team-lead"]
    first = records(out, "remember_first_timer")[0].args
    assert first["first_timer"] is True and first["author_id"] == 501


@pytest.mark.parametrize("action", ["reopened", "synchronize", "edited", "ready_for_review"])
async def test_every_card_event_renders_the_same_card(db, action):
    gh = reader(files("docs/guide.md"))
    opened = only(await run(db, pr_payload("opened"), gh), A.UpsertComment)
    again = only(await run(db, pr_payload(action), gh), A.UpsertComment)
    assert again == opened


async def test_other_actions_and_closed_prs_get_no_card(db):
    gh = reader(files("docs/guide.md"))
    assert await run(db, pr_payload("labeled"), gh) == []
    payload = pr_payload("edited")
    payload["pull_request"]["state"] = "closed"
    assert await run(db, payload, gh) == []
    assert gh.calls == []


async def test_drafts_wait_unless_the_rules_say_otherwise(db):
    gh = reader(files("src/core/a.py"))
    assert await run(db, pr_payload("opened", draft=True), gh) == []
    rules = bundled_rules({"components": {**RULES["components"], "drafts": True}})
    out = await run(db, pr_payload("opened", draft=True), gh, rules)
    assert "_Draft: reviewers are requested once it is marked ready for review._" in only(out, A.UpsertComment).body
    assert not [a for a in out if isinstance(a, A.RequestReviewers)]
    ready = await run(db, pr_payload("ready_for_review"), gh, rules)
    assert only(ready, A.RequestReviewers).reviewers == ("alice", "bob")


async def test_body_mode_keeps_author_ticks(db):
    rules = bundled_rules({"components": {**RULES["components"], "card": "body"}})
    previous = (f"My change.\n\n<!-- {BODY_MARKER}:start -->\n- [x] Tests prove the change.\n"
                f"- [ ] Core stays pure.\n<!-- {BODY_MARKER}:end -->\n- [x] Core stays pure.")
    out = await run(db, pr_payload("edited", body=previous), reader(files("src/core/a.py")), rules)
    section = only(out, A.UpsertBodySection)
    assert section.marker == BODY_MARKER
    # ticked inside the card stays ticked; a tick in the author's own text is not the card's
    assert "- [x] Tests prove the change.\n- [ ] Core stays pure." in section.body
    assert not [a for a in out if isinstance(a, A.UpsertComment)]


async def test_area_labels_only_removes_its_own(db):
    await state.record_bot_label(db, "Codertocat/Hello-World", 7, "area/docs", "pr_context.on_pull_request")
    await state.record_bot_label(db, "Codertocat/Hello-World", 7, "area/cli", "pr_context.on_pull_request")
    await state.record_bot_label(db, "Codertocat/Hello-World", 7, "area/parser", "classify")
    payload = pr_payload("synchronize", labels=["area/docs", "area/parser", "area/legacy"])
    out = await run(db, payload, reader(files("src/core/a.py", "src/cli/main.py")))
    # area/cli was added by the bot and is gone: a person removed it, so it stays removed
    assert only(out, A.AddLabels).labels == ("area/core",)
    assert [a.label for a in out if isinstance(a, A.RemoveLabel)] == ["area/docs"]


@pytest.mark.parametrize("listed,changed_files", [(3000, 3500), (3000, 3000), (2, 5)])
async def test_an_incomplete_listing_adds_area_labels_but_removes_none(db, listed, changed_files):
    # The bot labelled area/docs on an earlier push; the docs file is now past what the
    # files API lists (3,000 at most, or fewer than the PR's changed_files): still touched.
    await state.record_bot_label(db, "Codertocat/Hello-World", 7, "area/docs", "pr_context.on_pull_request")
    payload = pr_payload("synchronize", changed_files=changed_files, labels=["area/docs"])
    out = await run(db, payload, reader(files(*[f"src/core/f{i}.py" for i in range(listed)])))
    assert only(out, A.AddLabels).labels == ("area/core",)
    assert [a.label for a in out if isinstance(a, A.RemoveLabel)] == []


async def test_an_area_label_a_person_took_off_is_not_put_back_and_put_back_is_theirs(db):
    repo = "Codertocat/Hello-World"
    await state.record_bot_label(db, repo, 7, "area/cli", "pr_context.on_pull_request")
    # A maintainer took it off (its unlabeled webhook reached the ledger).
    await state.release_bot_label(db, repo, 7, "Area/CLI", "maint")
    out = await run(db, pr_payload("synchronize", labels=[]), reader(files("src/cli/main.py")))
    assert not [a for a in out if isinstance(a, A.AddLabels)]
    # Put back by hand, it is the person's: not removed once the PR no longer touches the CLI.
    out = await run(db, pr_payload("synchronize", labels=["area/cli"]), reader(files("docs/x.md")))
    assert only(out, A.AddLabels).labels == ("area/docs",)
    assert not [a for a in out if isinstance(a, A.RemoveLabel)]


async def test_review_cap_counts_existing_requests_and_never_asks_twice(db):
    gh = reader(files("src/core/a.py", "src/parser/p.py", "docs/x.md"))
    out = await run(db, pr_payload("opened", requested=["zed"]), gh)
    assert only(out, A.RequestReviewers).reviewers == ("alice",)   # cap 2, zed already requested
    await perform_records(db, out)
    # alice was removed by a maintainer; the next push must not ask her again
    seen = len(gh.calls)
    out = await run(db, pr_payload("synchronize", requested=["zed"]), gh)
    assert not [a for a in out if isinstance(a, A.RequestReviewers)]
    # no free slot: no load look-ups, and no note on a mere push
    assert not [c for c in gh.calls[seen:] if c[0] == SEARCH_URL and "review-requested" in c[1]["q"]]
    assert not [a for a in out if isinstance(a, A.Note) and "review" in a.text]


async def test_busy_reviewers_are_skipped_and_least_loaded_go_first(db):
    gh = reader(files("src/core/a.py", "src/parser/p.py"), loads={"alice": 5, "bob": 3, "carol": 0})
    out = await run(db, pr_payload("opened"), gh)
    assert only(out, A.RequestReviewers).reviewers == ("carol", "bob")
    note = [a.text for a in out if isinstance(a, A.Note) and "review requested" in a.text][0]
    assert "alice: 5 open review requests (limit 5)" in note
    queries = [v["q"] for url, v in gh.calls if url == SEARCH_URL and "review-requested" in v["q"]]
    assert "is:pr is:open review-requested:alice user:Codertocat" in queries


async def test_store_load_counts_the_bots_active_requests(db):
    for n in range(5):
        await remember_review_requests(db, "o/r", n, {"alice": "requested"})
        await FEATURE.writers["record_review_requests"](db, repo="o/r", number=n, logins=["alice"])
    await FEATURE.writers["review_finished"](db, repo="o/r", number=0, login="alice")
    rules = bundled_rules({"components": {**RULES["components"], "reviewers": {
        "max_per_pr": 1, "max_open_reviews": 4, "load_source": "store"}}})
    gh = reader(files("src/core/a.py"))
    out = await run(db, pr_payload("opened"), gh, rules)
    assert only(out, A.RequestReviewers).reviewers == ("bob",)   # alice has 4 active
    assert not [c for c in gh.calls if "review-requested" in str(c)]


async def test_first_timer_by_user_id_and_decided_once(db):
    # a merged PR by someone else who once had this login does not count
    gh = reader(files("docs/a.md"), merged_by={999: [1]})
    out = await run(db, pr_payload("opened", association="CONTRIBUTOR"), gh)
    body = only(out, A.UpsertComment).body
    assert "**Welcome ann, and thanks for your first pull request here!** Next steps:" in body
    assert "1. Sign the CLA.\n2. Run the tests." in body
    await FEATURE.writers["remember_first_timer"](db, **records(out, "remember_first_timer")[0].args)
    gh2 = reader(files("docs/a.md"), merged_by={501: [3]})
    again = await run(db, pr_payload("synchronize"), gh2)
    assert "Welcome" in only(again, A.UpsertComment).body   # remembered, not searched again
    assert not [c for c in gh2.calls if c[0] == SEARCH_URL and "is:merged" in c[1]["q"]]
    assert not records(again, "remember_first_timer")


async def test_earlier_merged_pr_means_not_a_first_timer(db):
    gh = reader(files("docs/a.md"), merged_by={501: [3]})
    out = await run(db, pr_payload("opened", association="FIRST_TIME_CONTRIBUTOR"), gh)
    assert "Welcome" not in only(out, A.UpsertComment).body
    assert "is:pr is:merged author:ann repo:Codertocat/Hello-World" in [
        v["q"] for url, v in gh.calls if url == SEARCH_URL]


async def test_merged_pr_on_record_counts_across_the_org(db):
    closed = pr_payload("closed", number=3, merged=True, org=True)
    closed["pull_request"]["merged_at"] = "2026-01-02T03:04:05Z"
    closed["repository"]["full_name"] = "Codertocat/Other"
    out = await run(db, closed, reader([]))
    for record in out:
        await FEATURE.writers[record.op](db, **record.args)
    rules = bundled_rules({"components": {**RULES["components"], "first_timers": {"scope": "org"}}})
    gh = reader(files("docs/a.md"))
    out = await run(db, pr_payload("opened", org=True), gh, rules)
    assert "Welcome" not in only(out, A.UpsertComment).body
    assert not [c for c in gh.calls if c[0] == SEARCH_URL and "is:merged" in c[1]["q"]]
    # in repo scope that merge, in another repository, does not count
    out = await run(db, pr_payload("opened", number=8, org=True), reader(files("docs/a.md")))
    assert "Welcome" in only(out, A.UpsertComment).body


async def test_search_failure_falls_back_to_author_association(db):
    def broken(url_vars):
        raise PermanentGitHubError("Validation Failed", status=422)
    gh = RecordingReader(items={SEARCH_URL: broken}, lists={FILES_URL: files("docs/a.md")})
    out = await run(db, pr_payload("opened", association="FIRST_TIME_CONTRIBUTOR"), gh)
    assert "Welcome" in only(out, A.UpsertComment).body
    assert not records(out, "remember_first_timer")   # a guess is not kept: searched again next time
    # a failed load count does not block the review request
    assert only(out, A.RequestReviewers).reviewers == ("erin",)


async def test_search_failure_welcomes_an_author_whose_earlier_pr_was_closed_unmerged(db):
    """GitHub says NONE, not FIRST_TIME_CONTRIBUTOR, for some authors with no commit in the
    repository (one whose earlier pull request was closed unmerged, say): no merged pull
    request either, so a first-timer by this feature's rule. CONTRIBUTOR has one merged."""
    def broken(url_vars):
        raise PermanentGitHubError("Validation Failed", status=422)
    for association, welcomed in (("NONE", True), ("CONTRIBUTOR", False), ("COLLABORATOR", False)):
        gh = RecordingReader(items={SEARCH_URL: broken}, lists={FILES_URL: files("docs/a.md")})
        out = await run(db, pr_payload("opened", association=association), gh)
        assert ("Welcome" in only(out, A.UpsertComment).body) is welcomed, association


async def test_user_text_is_neutralised(db):
    evil = "docs/@maintainers `x` <!-- contributor-flow:context-card:end --> [a](b).md"
    out = await run(db, pr_payload("opened", author="sneaky"), reader(files(evil)))
    body = only(out, A.UpsertComment).body
    assert "<!-- contributor-flow" not in body
    assert "``docs/@maintainers `x` <\u200b!-- contributor-flow:context-card:end --\u200b> [a](b).md``" in body


async def test_a_renamed_file_is_one_changed_file_on_the_card(db):
    """A rename touches its old and new path (both count for components and owners), but it
    is one changed file: the card counts files, not paths."""
    changed = [{"filename": "docs/b.md", "previous_filename": "docs/a.md", "status": "renamed"},
               {"filename": "tools/new.py", "previous_filename": "tools/old.py", "status": "renamed"},
               {"filename": "docs/c.md", "status": "modified"}]
    body = only(await run(db, pr_payload("opened"), reader(changed)), A.UpsertComment).body
    assert "| [erin](https://github.com/erin) | 2 |" in body
    assert "1 changed file(s) belong to no component" in body
    assert "`docs/a.md`" in body and "`docs/b.md`" in body   # both paths are listed


async def test_three_thousand_files_are_said_to_be_incomplete(db):
    out = await run(db, pr_payload("opened", changed_files=3500), reader(files("docs/a.md")))
    assert ("GitHub lists at most 3,000 files of a pull request; this one changes 3,500"
            in only(out, A.UpsertComment).body)


async def test_closing_and_review_events_end_review_load(db):
    out = await run(db, pr_payload("closed", merged=True), reader([]))
    assert [r.op for r in out] == ["pr_closed", "record_merged"]
    assert out[1].args["user_id"] == 501
    removed = pr_payload("review_request_removed")
    removed["requested_reviewer"] = {"login": "alice", "id": 1}
    out = await run(db, removed, reader([]))
    assert out == [A.Record("Codertocat/Hello-World", feature="pr_context", op="review_finished",
                            args={"repo": "Codertocat/Hello-World", "number": 7, "login": "alice"})]


async def stored_requests(db, number=7):
    rows = await db.fetchall("SELECT login, active FROM pr_context_review_requests"
                             " WHERE repo = ? AND number = ? ORDER BY login", ("Codertocat/Hello-World", number))
    return {r["login"]: bool(r["active"]) for r in rows}


async def test_a_reopen_brings_back_the_review_requests_github_still_has(db):
    """A close ends the PR's requests as load; on reopening, those GitHub still lists on the
    PR count again (``load_source: store``), and only those: one withdrawn while it was
    closed stays ended, and a request someone else made is not taken for the bot's."""
    rules = bundled_rules({"components": {**RULES["components"], "reviewers": {
        "max_per_pr": 3, "max_open_reviews": 1, "load_source": "store"}}})
    gh = reader(files("src/core/a.py"), codeowners="src/core/ @Codertocat/Core-Team\n")
    out = await run(db, pr_payload("opened"), gh, rules)
    request = only(out, A.RequestReviewers)
    assert (request.reviewers, request.team_reviewers) == (("alice", "bob"), ("Core-Team",))
    await perform_records(db, out)
    await perform_records(db, await run(db, pr_payload("closed"), reader([]), rules))
    assert await stored_requests(db) == {"alice": False, "bob": False, "codertocat/core-team": False}

    # Reopened: GitHub still has alice's and the team's requests (bob's was withdrawn while
    # the PR was closed), and zed's, which someone else made.
    reopened = pr_payload("reopened", requested=["Alice", "zed"])
    reopened["pull_request"]["requested_teams"] = [{"name": "Core team", "id": 3, "slug": "core-team"}]
    out = await run(db, reopened, gh, rules)
    assert not [a for a in out if isinstance(a, A.RequestReviewers)]   # bob was asked once already
    [sync] = records(out, "sync_review_requests")
    assert sync.args["requested"] == ["alice", "codertocat/core-team", "zed"]
    await perform_records(db, out)
    assert await stored_requests(db) == {"alice": True, "bob": False, "codertocat/core-team": True}
    # alice's open request is her load again: another PR asks bob, not her.
    other = await run(db, pr_payload("opened", number=8), reader(files("src/core/b.py")), rules)
    assert only(other, A.RequestReviewers).reviewers == ("bob",)
    # Already in line with GitHub: a second reopen (a redelivery) changes and says nothing.
    again = await run(db, reopened, gh, rules)
    assert not [a for a in again if isinstance(a, A.Note) and a.text.startswith("reopened")]
    await perform_records(db, again)
    assert await stored_requests(db) == {"alice": True, "bob": False, "codertocat/core-team": True}


def closed_at(at: str):
    payload = pr_payload("closed")
    payload["pull_request"].update(closed_at=at, updated_at=at)
    return payload


def reopened_at(at: str, requested=("alice", "bob")):
    payload = pr_payload("reopened", requested=requested)
    payload["pull_request"]["updated_at"] = at
    return payload


STORE_LOAD = {"max_per_pr": 2, "max_open_reviews": 1, "load_source": "store"}


async def test_a_reopen_delivered_after_a_later_close_brings_nothing_back(db):
    """Reopened at 09:00 and closed again at 10:00, the close delivered first: the PR is
    closed, so its requests stay ended (as load) and the reopen asks, labels and writes
    nothing on it."""
    rules = bundled_rules({"components": {**RULES["components"], "reviewers": STORE_LOAD}})
    gh = reader(files("src/core/a.py", "docs/x.md"))
    await perform_records(db, await run(db, pr_payload("opened"), reader(files("src/core/a.py")), rules))
    await perform_records(db, await run(db, closed_at("2026-03-02T10:00:00Z"), reader([]), rules))
    out = await run(db, reopened_at("2026-03-02T09:00:00Z"), gh, rules)
    assert [a for a in out if not isinstance(a, (A.Record, A.Note))] == []
    await perform_records(db, out)
    assert await stored_requests(db) == {"alice": False, "bob": False}
    other = await run(db, pr_payload("opened", number=8), reader(files("src/core/b.py")), rules)
    assert only(other, A.RequestReviewers).reviewers == ("alice", "bob")   # neither is busy


@pytest.mark.parametrize("close", ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"])
async def test_a_close_delivered_after_a_later_reopen_ends_nothing(db, close):
    """Closed at 09:00 and reopened at 10:00, the reopen delivered first: the PR is open and
    its requests still count. At one instant the one processed last wins (one-second
    timestamps cannot order them): then the close ends them, as it would have in order."""
    rules = bundled_rules({"components": {**RULES["components"], "reviewers": STORE_LOAD}})
    gh = reader(files("src/core/a.py"))
    await perform_records(db, await run(db, pr_payload("opened"), gh, rules))
    await perform_records(db, await run(db, reopened_at("2026-03-02T10:00:00Z"), gh, rules))
    await perform_records(db, await run(db, closed_at(close), reader([]), rules))
    late = close < "2026-03-02T10:00:00Z"
    assert await stored_requests(db) == {"alice": late, "bob": late}
    # And the reopen seen again (a redelivery) is in line with that order.
    await perform_records(db, await run(db, reopened_at("2026-03-02T10:00:00Z"), gh, rules))
    assert await stored_requests(db) == {"alice": True, "bob": True}


async def test_a_reopen_of_a_pr_the_bot_asked_nobody_on_takes_nobody_for_its_request(db):
    out = await run(db, pr_payload("reopened", requested=["zed"]), reader(files("setup.py")))
    assert not [a for a in out if isinstance(a, A.Note) and a.text.startswith("reopened")]
    await perform_records(db, out)
    assert await stored_requests(db) == {}


async def test_disabled_section_does_nothing(db):
    rules = bundled_rules({"components": {"enabled": False}})
    gh = reader(files("docs/a.md"))
    assert await run(db, pr_payload("opened"), gh, rules) == []


def check_run_payload(name="cla", status="completed", head_sha="h1", numbers=(7,)):
    from tests.fixtures.webhooks import load_example

    payload = load_example("check_run", "completed")
    payload["check_run"].update(name=name, status=status, head_sha=head_sha,
                                pull_requests=[{"number": n, "head": {"sha": head_sha}} for n in numbers])
    return payload


@pytest.mark.parametrize("name, status_, head, refreshed", [
    ("cla", "completed", "h1", True),
    ("patch-pipeline", "completed", "h1", True),
    ("cla", "in_progress", "h1", False),      # no verdict yet
    ("ci", "completed", "h1", False),         # not a check the card shows
    ("cla", "completed", "old", False),       # a newer push has its own check coming
])
async def test_check_completion_refreshes_only_the_card(db, monkeypatch, name, status_, head, refreshed):
    async def verdict(ctx, module, *args):
        return "CLA: ✅ everyone is covered" if module.endswith("cla") else None
    monkeypatch.setattr(status, "_borrowed_line", verdict)
    pr = pr_payload("opened")["pull_request"]
    pr["head"]["sha"] = "h1"
    gh = reader(files("src/core/a.py"))
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    payload = check_run_payload(name=name, status=status_, head_sha=head)
    payload["repository"] = pr_payload()["repository"]
    out = await run(db, payload, gh, event="check_run")
    if not refreshed:
        assert [a for a in out if not isinstance(a, (A.Record, A.Note))] == []
        return
    assert "- CLA: ✅ everyone is covered" in only(out, A.UpsertComment).body
    # a check result changes no labels and asks no reviewers
    assert not [a for a in out if isinstance(a, (A.AddLabels, A.RemoveLabel, A.RequestReviewers))]


@pytest.mark.parametrize("status_, card_made", [(403, True), (502, False)])
async def test_unreadable_codeowners(db, status_, card_made):
    """Without the contents permission the card goes without CODEOWNERS; a GitHub outage is
    retried (the error reaches the pipeline, which retries transient ones)."""
    from bot.github import TransientGitHubError

    def contents(url_vars):
        error = PermanentGitHubError if status_ < 500 else TransientGitHubError
        raise error("nope", status=status_)
    gh = RecordingReader(items={SEARCH_URL: search(), CONTENTS_URL: contents},
                         lists={FILES_URL: files("src/core/a.py")})
    if card_made:
        assert "[alice]" in only(await run(db, pr_payload("opened"), gh), A.UpsertComment).body
    else:
        with pytest.raises(TransientGitHubError):
            await run(db, pr_payload("opened"), gh)


def fork_check_run(pr, head_sha):
    """A check run on a fork's branch: GitHub names no pull request in it."""
    payload = check_run_payload(name="cla", head_sha=head_sha, numbers=())
    payload["repository"] = pr_payload()["repository"]
    return payload


def fork_pr(head_sha="f00d"):
    pr = pr_payload("opened")["pull_request"]
    pr["head"] = {**pr["head"], "sha": head_sha,
                  "repo": {**pr["head"]["repo"], "full_name": "contributor/Hello-World", "fork": True}}
    return pr


@pytest.fixture
def cla_verdict(monkeypatch):
    async def verdict(ctx, module, *args):
        return "CLA: ✅ everyone is covered" if module.endswith("cla") else None
    monkeypatch.setattr(status, "_borrowed_line", verdict)


async def test_fork_check_run_finds_its_pr_by_the_stored_head(db, cla_verdict):
    pr = fork_pr()
    gh = reader(files("src/core/a.py"))
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    opened = await run(db, {**pr_payload("opened"), "pull_request": pr}, gh)
    assert records(opened, "remember_head")[0].args == {
        "repo": "Codertocat/Hello-World", "number": 7, "head_sha": "f00d"}
    await perform_records(db, opened)
    seen = len(gh.calls)
    out = await run(db, fork_check_run(pr, "f00d"), gh, event="check_run")
    assert "- CLA: ✅ everyone is covered" in only(out, A.UpsertComment).body
    assert not records(out, "remember_head")             # the head did not move
    assert not [c for c in gh.calls[seen:] if c[0] == SEARCH_URL]   # no search needed


async def test_fork_check_run_without_a_stored_head_searches_by_commit(db, cla_verdict):
    pr = fork_pr()
    gh = reader(files("src/core/a.py"), by_commit={"f00d": [7]})
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    out = await run(db, fork_check_run(pr, "f00d"), gh, event="check_run")
    assert "- CLA: ✅ everyone is covered" in only(out, A.UpsertComment).body
    assert "f00d repo:Codertocat/Hello-World is:pr is:open" in [v["q"] for u, v in gh.calls if u == SEARCH_URL]
    # a PR that merely contains the commit (its head moved on) keeps its card as it is
    gh = reader(files("src/core/a.py"), by_commit={"0ld": [7]})
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    out = await run(db, fork_check_run(pr, "0ld"), gh, event="check_run")
    assert not [a for a in out if isinstance(a, A.UpsertComment)]


async def test_a_check_run_naming_another_repositorys_pr_reads_no_pr_of_that_number_here(db, cla_verdict):
    """GitHub lists every open PR whose head is the commit, a fork's own PRs included: #99 of
    the fork is no PR here (reading #99 here would be a 404, or another PR). The PR is found
    by its head instead."""
    pr = fork_pr()
    gh = reader(files("src/core/a.py"), by_commit={"f00d": [7]})
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    payload = fork_check_run(pr, "f00d")
    here = payload["repository"]
    payload["check_run"]["pull_requests"] = [{
        "number": 99, "head": {"sha": "f00d"},
        "base": {"ref": "main", "repo": {"id": here["id"] + 1, "url": "https://api.github.com/repos/contributor/Hello-World"}}}]
    out = await run(db, payload, gh, event="check_run")
    assert "- CLA: ✅ everyone is covered" in only(out, A.UpsertComment).body
    assert [v["pull_number"] for u, v in gh.calls if u == "/repos/{owner}/{repo}/pulls/{pull_number}"] == [7]


async def test_a_merge_groups_check_run_refreshes_no_card_and_searches_nothing(db, cla_verdict):
    """The bot's own checks on a merge queue's group commit (see merge_queue) name no pull
    request: looking one up by the commit would cost a search per group check for nothing."""
    pr = fork_pr()
    gh = reader(files("src/core/a.py"), by_commit={"9roup": [7]})
    gh.items["/repos/{owner}/{repo}/pulls/{pull_number}"] = pr
    payload = fork_check_run(pr, "9roup")
    payload["check_run"]["check_suite"]["head_branch"] = "gh-readonly-queue/main/pr-7-" + "a" * 40
    assert await run(db, payload, gh, event="check_run") == []
    assert gh.calls == []


async def test_one_owner_spelled_in_two_cases_is_one_owner_and_one_slot(db):
    gh = reader(files("src/core/a.py"), codeowners="src/core/ @Alice @BOB\n")
    out = await run(db, pr_payload("opened"), gh)
    body = only(out, A.UpsertComment).body
    assert body.lower().count("[alice](") == 1 and body.lower().count("[bob](") == 1
    assert only(out, A.RequestReviewers).reviewers == ("alice", "bob")


async def test_requests_in_another_case_fill_the_cap_once(db):
    """GitHub's payload says "Alice" and "Bob", the bot recorded "alice" and "bob": two of
    three slots, so the free one is offered (its candidate's load looked up), not none."""
    gh = reader(files("src/core/a.py", "src/parser/p.py"))
    await perform_records(db, await run(db, pr_payload("opened", requested=[]), gh))  # asks alice, bob
    await FEATURE.writers["review_finished"](db, repo="Codertocat/Hello-World", number=7, login="BOB")
    rules = bundled_rules({"components": {**RULES["components"], "reviewers": {
        "max_per_pr": 3, "max_open_reviews": 5, "load_source": "search"}}})
    busy = reader(files("src/core/a.py", "src/parser/p.py"), loads={"carol": 5})
    out = await run(db, pr_payload("synchronize", requested=["Alice", "Bob"]), busy, rules)
    # a slot is free, so carol's load is looked up: she has too many reviews already
    assert not [a for a in out if isinstance(a, A.RequestReviewers)]
    assert "is:pr is:open review-requested:carol user:Codertocat" in [
        v["q"] for u, v in busy.calls if u == SEARCH_URL]
    # "BOB" ended bob's request: his load is 0 again, alice's is 1
    assert await reviewers_load(db, "bob") == 0 and await reviewers_load(db, "ALICE") == 1


async def reviewers_load(db, login):
    from types import SimpleNamespace

    from bot.features.pr_context.reviewers import review_loads

    ctx = SimpleNamespace(db=db)
    return (await review_loads(ctx, [login], source="store", owner="o", owner_is_org=False))[login]


async def test_a_refused_owner_is_not_recorded_and_leaves_the_slot_to_others(db):
    gh = reader(files("src/core/a.py"))
    out = await run(db, pr_payload("opened"), gh)
    assert only(out, A.RequestReviewers).reviewers == ("alice", "bob")
    await perform_records(db, out, refused={"alice"})     # alice is no collaborator any more
    assert await store_requested(db) == {"bob"}
    out = await run(db, pr_payload("synchronize", requested=["bob"]), gh)
    assert not [a for a in out if isinstance(a, A.RequestReviewers)]   # nobody else owns core
    out = await run(db, pr_payload("opened", requested=["bob"]), reader(files("src/core/a.py", "docs/a.md")))
    assert only(out, A.RequestReviewers).reviewers == ("erin",)
    note = [a.text for a in out if isinstance(a, A.Note) and "review requested" in a.text][0]
    assert "alice: GitHub refused an earlier request" in note


async def store_requested(db):
    from bot.features.pr_context.store import requested_before

    return await requested_before(db, "Codertocat/Hello-World", 7)


async def test_a_bad_glob_that_escaped_the_rules_check_costs_its_component_not_the_card(db):
    """Rules are validated when loaded; should a bad pattern get through anyway (bundled
    rules edited in place), the delivery still renders a card."""
    from bot.rules.loader import Rules

    good = bundled_rules(RULES)
    values = {name: good.section(name) for name in good}
    values["components"]["components"].append({"name": "gen", "paths": ["gen/[z-a]*.py", "gen/*.txt"]})
    gh = reader(files("gen/x.py", "gen/y.txt", "src/core/a.py"))
    body = only(await run(db, pr_payload("opened"), gh, Rules(values)), A.UpsertComment).body
    assert "**gen**" in body and "gen/y.txt" in body and "core" in body
    assert "1 changed file(s) belong to no component" in body    # gen/x.py: the bad glob matched nothing


async def test_body_saved_with_crlf_is_not_rewritten_for_its_line_endings(db):
    from bot.executor.issues import replace_section

    rules = bundled_rules({"components": {**RULES["components"], "card": "body"}})
    gh = reader(files("src/core/a.py"))
    first = only(await run(db, pr_payload("opened", body="My change."), gh, rules), A.UpsertBodySection)
    ticked = replace_section("My change.", first.marker, first.body).replace(
        "- [ ] Core stays pure.", "- [x] Core stays pure.")
    web = ticked.replace("\n", "\r\n")                     # saved from GitHub's web editor
    again = only(await run(db, pr_payload("edited", body=web), gh, rules), A.UpsertBodySection)
    assert "- [x] Core stays pure." in again.body
    assert replace_section(web, again.marker, again.body) == web


async def test_area_label_present_in_another_case_is_the_bots_and_is_removed_when_untouched(db):
    """GitHub matches label names ignoring case: asked to add "area/Docs" on a repository
    that has "area/docs", it puts "area/docs" on the PR. That label is still the one the
    bot added, so it goes when the component is no longer touched, and it is not asked
    for again on every push."""
    rules = bundled_rules({"components": {**RULES["components"], "components": [
        {**c, "name": "Docs"} if c["name"] == "docs" else c for c in RULES["components"]["components"]]}})
    await state.record_bot_label(db, "Codertocat/Hello-World", 7, "area/Docs", "pr_context.on_pull_request")
    # still touched: nothing to add, nothing to remove
    out = await run(db, pr_payload("synchronize", labels=["area/docs"]), reader(files("docs/a.md")), rules)
    assert not [a for a in out if isinstance(a, (A.AddLabels, A.RemoveLabel))], out
    # no longer touched: the bot's label goes, by the name it has on the PR
    out = await run(db, pr_payload("synchronize", labels=["area/docs"]), reader(files("src/core/a.py")), rules)
    assert [a.label for a in out if isinstance(a, A.RemoveLabel)] == ["area/docs"]
    assert only(out, A.AddLabels).labels == ("area/core",)


async def test_area_label_a_person_set_in_another_case_is_not_asked_for_again(db):
    # Without it, the push asks for the area label of the component it touches...
    out = await run(db, pr_payload("synchronize", labels=[]), reader(files("src/core/a.py")))
    assert only(out, A.AddLabels).labels == ("area/core",)
    # ...with a person's "Area/Core" on the PR, it is already there: nothing is asked for.
    out = await run(db, pr_payload("synchronize", labels=["Area/Core"]), reader(files("src/core/a.py")))
    assert not [a for a in out if isinstance(a, (A.AddLabels, A.RemoveLabel))], out


@pytest.mark.parametrize("other_repo", ["Codertocat/Hello-World-docs", "Codertocat/Hello-World.github.io"])
async def test_a_merge_in_another_repository_with_the_same_number_counts_across_the_org(db, other_repo):
    """In org scope, #7 merged in a repository whose name contains this one's is an earlier
    merged pull request, not this very one."""
    def merged(url_vars):
        assert "is:merged" in url_vars["q"] and "org:Codertocat" in url_vars["q"]
        return {"total_count": 1, "items": [{"number": 7, "user": {"id": 501},
                                            "repository_url": f"https://api.github.com/repos/{other_repo}"}]}
    gh = RecordingReader(items={SEARCH_URL: merged}, lists={FILES_URL: files("docs/a.md")})
    rules = bundled_rules({"components": {**RULES["components"], "first_timers": {"scope": "org"},
                                          "reviewers": {"enabled": False}}})
    out = await run(db, pr_payload("opened", org=True), gh, rules)
    assert "Welcome" not in only(out, A.UpsertComment).body
    assert records(out, "remember_first_timer")[0].args["first_timer"] is False

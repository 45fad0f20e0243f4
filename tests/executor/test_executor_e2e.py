"""The executor against the fake GitHub over real HTTP: idempotence, the label ledger,
sticky comments, check runs, projects, discussions, reactions."""
from __future__ import annotations

import os

import pytest

from bot.github import TransientGitHubError

from bot.core import actions as A
from bot.runtime import open_runtime
from bot.settings import BUNDLED_RULES, Settings

REPO = "octo/repo"
RULES = os.environ.get("BOT_RULES_DIR") or BUNDLED_RULES


async def run(rt, delivery, *actions, feature="test", retrying=False):
    return await rt.executor.run(delivery_id=delivery, installation_id=1,
                                 batches=[(feature, list(actions))], retrying=retrying)


async def test_sticky_comment_found_past_100_comments_and_edited_only_on_change(rt, fake_github):
    issue = fake_github.add_issue(REPO, title="t")
    for i in range(120):
        fake_github.add_comment(REPO, issue.number, f"chatter {i}")
    card = A.UpsertComment(repo=REPO, number=issue.number, marker="<!-- card -->", body="v1")
    await run(rt, "d1", card)
    await run(rt, "d2", card)  # same content, new delivery: nothing to do
    await run(rt, "d3", A.UpsertComment(repo=REPO, number=issue.number, marker="<!-- card -->", body="v2"))
    posts = fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
    edits = fake_github.calls_to("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
    assert len(posts) == 1 and len(edits) == 1
    bodies = [c.body for c in fake_github.issue(REPO, issue.number).comments if "<!-- card -->" in c.body]
    assert len(bodies) == 1 and bodies[0].endswith("v2")


async def test_sticky_comment_is_found_by_marker_after_cache_loss(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    await run(rt, "d1", A.UpsertComment(repo=REPO, number=issue.number, marker="<!-- m -->", body="a"))
    await rt.db.execute("DELETE FROM created_objects")
    for i in range(105):
        fake_github.add_comment(REPO, issue.number, f"x{i}")
    await run(rt, "d2", A.UpsertComment(repo=REPO, number=issue.number, marker="<!-- m -->", body="b"))
    assert len(fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == 1


async def test_bot_removes_only_labels_it_added(rt, fake_github):
    issue = fake_github.add_issue(REPO, labels=["help wanted"])
    await run(rt, "d1", A.AddLabels(repo=REPO, number=issue.number, labels=("bug", "help wanted")))
    await run(rt, "d2", A.RemoveLabel(repo=REPO, number=issue.number, label="help wanted"),
              A.RemoveLabel(repo=REPO, number=issue.number, label="bug"))
    names = {l.name for l in fake_github.issue(REPO, issue.number).labels} \
        if hasattr(fake_github.issue(REPO, issue.number).labels[0], "name") \
        else set(fake_github.issue(REPO, issue.number).labels)
    assert names == {"help wanted"}
    deletes = fake_github.calls_to("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
    assert len(deletes) == 1 and deletes[0].path.endswith("/bug")


async def test_a_retried_delivery_skips_what_succeeded(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    batch = [A.AddLabels(repo=REPO, number=issue.number, labels=("x",)),
             A.Comment(repo=REPO, number=issue.number, body="hello")]
    await run(rt, "d1", *batch)
    out = await run(rt, "d1", *batch, retrying=True)
    assert len(out.skipped) == 2
    assert len(fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == 1


async def test_a_retry_that_words_a_comment_differently_does_not_post_it_again(rt, fake_github):
    # The retry decides again: an /explain now sees the first attempt's notes, a status is read
    # at another instant. The comment is found by its place in the delivery, not its text.
    issue = fake_github.add_issue(REPO)
    first = [A.Comment(repo=REPO, number=issue.number, body="explain v1"),
             A.Comment(repo=REPO, number=issue.number, body="second comment")]
    await run(rt, "d0", A.AddLabels(repo=REPO, number=issue.number, labels=("x",)))
    fake_github.faults.configure(share=1.0, kinds=("502",), only_methods=["DELETE"])
    with pytest.raises(TransientGitHubError):  # after the comments: the delivery is retried
        await run(rt, "d1", *first, A.RemoveLabel(repo=REPO, number=issue.number, label="x"))
    fake_github.faults.configure(share=0.0)
    again = [A.Comment(repo=REPO, number=issue.number, body="explain v2 (with a note)"),
             A.Comment(repo=REPO, number=issue.number, body="second comment")]
    await run(rt, "d1", *again, retrying=True)
    bodies = [c.body for c in fake_github.issue(REPO, issue.number).comments]
    assert len(bodies) == 2 and bodies[0].startswith("explain v1") and bodies[1].startswith("second")
    # another delivery's comment of the same place is its own
    await run(rt, "d2", A.Comment(repo=REPO, number=issue.number, body="explain v1"), retrying=True)
    assert len(fake_github.issue(REPO, issue.number).comments) == 3


async def test_comment_posted_but_answer_lost_is_not_posted_twice(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    action = A.Comment(repo=REPO, number=issue.number, body="once")
    await rt.api(1)  # token minted before the fault
    # The POST reached GitHub but its answer was lost (a 502): the client must not send it
    # again blindly; the delivery's retry finds the comment by its marker instead.
    fake_github.faults.configure(share=1.0, kinds=("502",), only_methods=["POST"], after_effect=True)
    with pytest.raises(TransientGitHubError):
        await run(rt, "d1", action)
    fake_github.faults.configure(share=0.0)
    await run(rt, "d1", action, retrying=True)
    onces = [c for c in fake_github.issue(REPO, issue.number).comments if c.body.startswith("once")]
    assert len(onces) == 1
    assert len(fake_github.calls_to("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")) == 1


async def test_check_run_is_created_once_then_updated(rt, fake_github):
    sha = "a" * 40
    await run(rt, "d1", A.UpsertCheckRun(repo=REPO, name="cla", head_sha=sha, status="in_progress",
                                          title="checking", summary="…"))
    await run(rt, "d2", A.UpsertCheckRun(repo=REPO, name="cla", head_sha=sha, conclusion="success",
                                          title="ok", summary="all signed"))
    runs = [r for r in fake_github.state.check_runs.values() if r.head_sha == sha]
    assert len(runs) == 1 and runs[0].conclusion == "success" and runs[0].status == "completed"


async def test_a_check_run_whose_record_was_lost_is_found_again_on_github(rt, fake_github):
    sha = "c" * 40
    check = dict(repo=REPO, name="cla", head_sha=sha, title="t", summary="s")
    await run(rt, "d1", A.UpsertCheckRun(**check, status="in_progress"))
    await rt.db.execute("DELETE FROM check_runs")
    await run(rt, "d2", A.UpsertCheckRun(**check, conclusion="success"))
    # Found by its name and head: concluded in place, not a second run.
    runs = [r for r in fake_github.state.check_runs.values() if r.head_sha == sha]
    assert [(r.status, r.conclusion) for r in runs] == [("completed", "success")]
    # Found completed, it is known to be: starting again opens a new run.
    await rt.db.execute("DELETE FROM check_runs")
    await run(rt, "d3", A.UpsertCheckRun(**check, status="in_progress"))
    runs = sorted((r for r in fake_github.state.check_runs.values() if r.head_sha == sha), key=lambda r: r.id)
    assert [(r.status, r.conclusion) for r in runs] == [("completed", "success"), ("in_progress", None)]
    assert fake_github.violations == []


async def test_a_completed_check_that_starts_again_gets_a_new_run(rt, fake_github):
    # GitHub does not take a completed run back to in_progress (the fake refuses it too): a
    # pipeline re-run from the Actions UI shows as a new run, which then concludes in place.
    sha = "b" * 40
    check = dict(repo=REPO, name="patch-pipeline", head_sha=sha, title="t", summary="s")
    await run(rt, "d1", A.UpsertCheckRun(**check, conclusion="failure"))
    out = await run(rt, "d2", A.UpsertCheckRun(**check, status="in_progress"))
    assert out.done and not out.failed
    await run(rt, "d3", A.UpsertCheckRun(**check, conclusion="success"))
    runs = sorted((r for r in fake_github.state.check_runs.values() if r.head_sha == sha), key=lambda r: r.id)
    assert [(r.status, r.conclusion) for r in runs] == [("completed", "failure"), ("completed", "success")]
    assert len(fake_github.calls_to("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")) == 1


async def test_cancel_workflow_run_stops_a_running_run_and_leaves_a_finished_one_alone(rt, fake_github):
    running = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="in_progress")
    out = await run(rt, "d1", A.CancelWorkflowRun(repo=REPO, run_id=running.id))
    assert out.done and not out.failed
    assert (running.status, running.conclusion) == ("completed", "cancelled")
    # GitHub answers 409 for a run that has ended meanwhile: there is nothing left to stop,
    # which is what was asked, not a failure.
    done = fake_github.add_workflow_run(REPO, "patch-pipeline.yml", status="completed", conclusion="success")
    out = await run(rt, "d2", A.CancelWorkflowRun(repo=REPO, run_id=done.id))
    assert out.done and not out.failed
    assert (done.status, done.conclusion) == ("completed", "success")
    assert len(fake_github.calls_to("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/cancel")) == 2
    assert fake_github.violations == []


async def test_project_item_and_status_via_graphql(rt, fake_github):
    project = fake_github.add_project("octo", 3, "RFC Draft Board",
                                      fields={"Status": ["Draft", "Review", "Accepted"]})
    issue = fake_github.add_issue(REPO)
    await run(rt, "d1", A.AddToProject(repo=REPO, number=issue.number, project_owner="octo",
                                       project_number=3, value="Draft"))
    ops = [c.json.get("query", "") for c in fake_github.graphql_calls()]
    assert any("addProjectV2ItemById" in q for q in ops)
    assert any("updateProjectV2ItemFieldValue" in q for q in ops)
    assert len(project.items) == 1


async def test_an_item_is_found_and_removed_past_the_first_page_of_the_issues_project_items(rt, fake_github):
    from tests.fakegithub.state import ProjectItem, make_node_id

    issue = fake_github.add_issue(REPO)
    # GitHub serves at most 100 project items a page: the board to leave is the 121st.
    boards = [fake_github.add_project("octo", n, f"Board {n}") for n in range(1, 122)]
    for board in boards:
        board.items.append(ProjectItem(id=make_node_id("PVTI", fake_github.state.next_id()),
                                       content_id=issue.node_id))
    out = await run(rt, "d1", A.RemoveFromProject(repo=REPO, number=issue.number, project_owner="octo",
                                                  project_number=121))
    assert not out.failed
    assert boards[-1].items == [] and all(len(b.items) == 1 for b in boards[:-1])
    assert len(fake_github.graphql_calls("deleteProjectV2Item")) == 1
    assert len(fake_github.graphql_calls("node")) == 2                      # two pages of items


def _status_of(project, issue) -> str | None:
    field = project.fields["Status"]
    [item] = [it for it in project.items if it.content_id == issue.node_id]
    return next((name for name, oid in field.options.items() if oid == item.values.get(field.id)), None)


async def test_a_renamed_option_is_found_although_the_board_is_cached(rt, fake_github):
    project = fake_github.add_project("octo", 3, "Triage", fields={"Status": ["Todo", "Done"]})
    first, second = fake_github.add_issue(REPO), fake_github.add_issue(REPO)
    out = await run(rt, "d1", A.AddToProject(repo=REPO, number=first.number, project_owner="octo",
                                             project_number=3, value="Todo"))
    assert not out.failed
    # A maintainer renames the option (its id stays) and the rules follow, within the cache's life.
    options = project.fields["Status"].options
    options["Needs triage"] = options.pop("Todo")
    out = await run(rt, "d2", A.AddToProject(repo=REPO, number=second.number, project_owner="octo",
                                             project_number=3, value="Needs triage"))
    assert not out.failed
    assert _status_of(project, second) == "Needs triage"


async def test_an_option_made_again_with_a_new_id_is_found_although_the_board_is_cached(rt, fake_github):
    project = fake_github.add_project("octo", 3, "Triage", fields={"Status": ["Todo", "Done"]})
    first, second = fake_github.add_issue(REPO), fake_github.add_issue(REPO)
    await run(rt, "d1", A.AddToProject(repo=REPO, number=first.number, project_owner="octo",
                                       project_number=3, value="Todo"))
    # Editing a field's options through the API makes them again, with new ids.
    project.fields["Status"].options["Todo"] = "fresh-todo-id"
    out = await run(rt, "d2", A.AddToProject(repo=REPO, number=second.number, project_owner="octo",
                                             project_number=3, value="Todo"))
    assert not out.failed
    assert _status_of(project, second) == "Todo"


async def test_the_field_is_found_whatever_the_case_the_rules_spell_it(rt, fake_github):
    project = fake_github.add_project("octo", 3, "Triage", fields={"Status": ["Todo", "Done"]})
    issue = fake_github.add_issue(REPO)
    out = await run(rt, "d1", A.AddToProject(repo=REPO, number=issue.number, project_owner="octo",
                                             project_number=3, field="status", value="todo"))
    assert not out.failed
    assert _status_of(project, issue) == "Todo"


async def test_missing_board_is_a_clear_permanent_failure(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    out = await run(rt, "d1", A.AddToProject(repo=REPO, number=issue.number, project_owner="octo",
                                             project_number=99, value="Draft"))
    assert out.failed and "octo#99 not found" in out.failed[0][1]


async def test_discussion_created_once_per_dedupe_key(rt, fake_github):
    fake_github.add_discussion_category(REPO, "Reports")
    for d in ("d1", "d2"):
        await run(rt, d, A.CreateDiscussion(repo=REPO, category="Reports", title="Week 48",
                                            body="…", dedupe_key="2026-W48"))
    creates = [c for c in fake_github.graphql_calls() if "createDiscussion" in c.json.get("query", "")]
    assert len(creates) == 1
    await run(rt, "d3", A.CreateDiscussion(repo=REPO, category="Reports", title="Week 49",
                                          body="…", dedupe_key="2026-W49"))
    lookups = [c for c in fake_github.graphql_calls() if "discussionCategories" in c.json.get("query", "")]
    assert len(lookups) == 1  # ids cached by name


async def test_report_outcome_reacts_confused_after_a_failure(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    comment = fake_github.add_comment(REPO, issue.number, "/assign @nobody", user="alice")
    await run(rt, "d1",
              A.React(repo=REPO, number=issue.number, comment_id=comment.id, content="eyes"),
              A.Close(repo=REPO, number=99999),  # 404: fails permanently
              A.ReportOutcome(repo=REPO, number=issue.number, comment_id=comment.id))
    reactions = {(r.content, r.user) for r in comment.reactions}
    assert ("confused", fake_github.bot_login) in reactions
    assert ("eyes", fake_github.bot_login) not in reactions


async def test_a_retry_still_reports_an_action_that_failed_for_good_before(rt, fake_github):
    issue = fake_github.add_issue(REPO)
    comment = fake_github.add_comment(REPO, issue.number, "/close\n/unassign @x", user="alice")
    batch = [A.React(repo=REPO, number=issue.number, comment_id=comment.id, content="eyes"),
             A.Close(repo=REPO, number=99999),                              # 404: fails for good
             A.Unassign(repo=REPO, number=issue.number, assignees=("x",)),  # 502: retried later
             A.ReportOutcome(repo=REPO, number=issue.number, comment_id=comment.id)]
    await rt.api(1)  # token minted before the fault
    fake_github.faults.configure(share=1.0, kinds=("502",), only_methods=["DELETE"])
    with pytest.raises(TransientGitHubError):
        await run(rt, "d1", *batch)
    fake_github.faults.configure(share=0.0)
    out = await run(rt, "d1", *batch, retrying=True)  # the 404 is skipped, not forgotten
    assert "Close" in " ".join(out.skipped)
    reactions = {(r.content, r.user) for r in comment.reactions}
    assert ("confused", fake_github.bot_login) in reactions
    assert ("+1", fake_github.bot_login) not in reactions


async def test_dry_run_sends_nothing_but_records_local_state(fake_github, tmp_path):
    settings = Settings(webhook_secret="x", api_url=fake_github.url, rules_dir=RULES,
                        database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    async with open_runtime(settings) as rt:
        assert rt.dry_run
        out = await rt.executor.run(delivery_id="d", installation_id=1, batches=[("t", [
            A.Comment(repo=REPO, number=1, body="x"),
            A.Note(repo=REPO, feature="t", number=1, text="decided")])])
        assert out.dry_run and out.done
        from bot.store.state import decisions_for
        assert [d["summary"] for d in await decisions_for(rt.db, REPO, 1)] == ["decided"]
    assert [c for c in fake_github.calls if c.method != "GET"] == []


def test_body_section_markers_accept_both_forms_and_keep_the_authors_text():
    from bot.executor.issues import replace_section

    body = "Author's words.\n\n- [x] their own list"
    once = replace_section(body, "<!-- cf:card -->", "card v1")
    assert once.startswith(body) and "<!-- cf:card:start -->\ncard v1\n<!-- cf:card:end -->" in once
    twice = replace_section(once + "\n\nmore author text", "cf:card", "card v2")
    assert "card v1" not in twice and "card v2" in twice
    assert twice.startswith(body) and twice.endswith("more author text")


async def test_one_refused_reviewer_does_not_keep_the_others_from_being_asked(rt, fake_github):
    """GitHub refuses a whole review request (422) for one name that cannot be asked; the
    others are asked one by one, and the ledger says who GitHub accepted."""
    from bot.store.state import review_request_results

    for login in ("alice", "gone", "ann"):
        fake_github.add_user(login)
    fake_github.set_permission(REPO, "alice", "write")
    pr = fake_github.add_pull(REPO, user="ann", files=["a.py"])
    out = await run(rt, "d1", A.RequestReviewers(repo=REPO, number=pr.number, reviewers=("gone", "alice")))
    assert out.done and not out.failed
    assert fake_github.issue(REPO, pr.number).pull.requested_reviewers == ["alice"]
    ledger = await review_request_results(rt.db, REPO, pr.number, ["alice", "gone"])
    assert ledger == {"alice": "requested", "gone": "refused"}
    # nobody accepted: the action fails, and the refusal is on record
    out = await run(rt, "d2", A.RequestReviewers(repo=REPO, number=pr.number, reviewers=("Gone",)))
    assert out.failed and "422" in out.failed[0][1]
    assert len(fake_github.calls_to("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")) == 4


async def test_body_saved_with_crlf_is_not_patched_when_the_card_is_the_same(rt, fake_github):
    issue = fake_github.add_issue(REPO, body="My text.")
    card = A.UpsertBodySection(repo=REPO, number=issue.number, marker="cf:card", body="- [ ] one\n- [ ] two")
    await run(rt, "d1", card)
    saved = fake_github.issue(REPO, issue.number).body
    assert "\r" not in saved
    fake_github.issue(REPO, issue.number).body = saved.replace("\n", "\r\n")   # the web editor
    await run(rt, "d2", card)
    # the card as an earlier version wrote it, in "\n", into a body saved with "\r\n"
    author, _, section = saved.partition("<!--")
    fake_github.issue(REPO, issue.number).body = author.replace("\n", "\r\n") + "<!--" + section
    await run(rt, "d2b", card)
    assert len(fake_github.calls_to("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")) == 1
    # a real change is written in the body's own line endings, the author's text untouched
    await run(rt, "d3", A.UpsertBodySection(repo=REPO, number=issue.number, marker="cf:card", body="- [x] one"))
    body = fake_github.issue(REPO, issue.number).body
    assert body == "My text.\r\n\r\n<!-- cf:card:start -->\r\n- [x] one\r\n<!-- cf:card:end -->"


def test_body_section_keeps_crlf_line_endings():
    from bot.executor.issues import replace_section

    body = "Author's words.\r\nSecond line."
    once = replace_section(body, "cf:card", "card\nv1")
    assert once == "Author's words.\r\nSecond line.\r\n\r\n<!-- cf:card:start -->\r\ncard\r\nv1\r\n<!-- cf:card:end -->"
    assert replace_section(once, "cf:card", "card\nv1") == once
    assert replace_section("a\nb", "cf:card", "c") == "a\nb\n\n<!-- cf:card:start -->\nc\n<!-- cf:card:end -->"


async def test_a_discussion_someone_else_wrote_with_the_marker_is_not_taken_for_the_bots(rt, fake_github):
    """The marker is a hash of a predictable key (repository, feature, category, week): anyone
    who may open a discussion in the category can write it. Such a post must not count as the
    week's report (nor its idempotence record point at it): the bot still posts its own."""
    from bot.executor.projects import discussion_marker
    from bot.store import state as st
    from tests.fakegithub.state import Discussion, make_node_id

    category = fake_github.add_discussion_category(REPO, "Reports")
    fake_github.add_user("mallory")
    action = A.CreateDiscussion(repo=REPO, category="Reports", title="Week 50", body="figures",
                                dedupe_key="2026-W50")
    repo = fake_github.repo(REPO)
    forged = Discussion(id=make_node_id("D", 990001), number=repo.next_number, repo=REPO, title="Week 50",
                        body="nothing to see\n\n" + discussion_marker(st.created_key(action, "funnel")),
                        category_id=category.id, user="mallory")
    repo.next_number += 1
    repo.discussions.append(forged)
    fake_github.state.nodes[forged.id] = forged

    out = await run(rt, "d1", action, feature="funnel", retrying=True)
    assert not out.failed
    assert [d.user for d in repo.discussions] == ["mallory", fake_github.bot_login]
    mine = repo.discussions[1]
    assert mine.body.startswith("figures")
    recorded = await st.created_object(rt.db, st.created_key(action, "funnel"))
    assert recorded and recorded.endswith(f"/discussions/{mine.number}")


@pytest.mark.parametrize("author, ours", [
    ({"__typename": "Bot", "login": "contributor-flow"}, True),         # GitHub's GraphQL spelling
    ({"__typename": "Bot", "login": "contributor-flow[bot]"}, True),
    ({"__typename": "User", "login": "contributor-flow"}, False),       # a person holding the name
    ({"__typename": "Bot", "login": "other-app"}, False),
    (None, False),                                                      # a deleted account
])
def test_only_the_bots_own_discussion_counts(author, ours):
    from bot.executor.projects import _by_the_bot

    assert _by_the_bot(author, "contributor-flow[bot]") is ours

"""Journeys of a contributor working from a fork, of a card kept in the PR description, and
of co-authors signing the CLA away from the pull request that waits for them: the real bot
over real HTTP against the fake GitHub, with GitHub's example payloads reshaped as GitHub sends
them for these cases (a fork's ``head.repo`` is the contributor's repository, ``null`` once
the fork is deleted; a check run on a fork's head names no pull request).

The App is installed on the organisation only, as usual: the contributor's fork is out of its
reach, and everything about the PR's head (its commits, its files) is read through the base
repository, which serves a PR's head commit whatever repository it was pushed to."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
import yaml

from bot.store import deliveries
from tests.conftest import BOTH_BACKENDS
from tests.fakegithub.state import PullFile
from tests.fixtures.webhooks import load_example
from tests.signing.cosign_fake import KeyPair, sig_file

from .harness import retarget
from .test_contributor_journey_e2e import (  # noqa: F401  (fixtures used by name)
    CARD, CLA, COMMENTS_URL, PHRASE, REPO, USER_PINGS, assert_no_user_pings,
    assert_one_comment_per_post, bot, bot_comments, check_completed, cla_runs, issue_event, labels,
    marked, pr_event, relabel, removed_labels, rendered_text, rules_dir,
)

FORK = "newbie/repo"
PATCH = "patches/kernel/0001-fs-fix-the-save-path.patch"
WORKFLOW = "patch-pipeline.yml"
DISPATCHES_URL = "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"
CHECK_RUNS_URL = "/repos/{owner}/{repo}/check-runs"
CONTENTS_URL = "/repos/{owner}/{repo}/contents/{path}"
ISSUE_URL = "/repos/{owner}/{repo}/issues/{issue_number}"
START = "<!-- contributor-flow:context-card:start -->"
END = "<!-- contributor-flow:context-card:end -->"


@pytest.fixture(autouse=True)
def sigstore_cache(tmp_path_factory, monkeypatch):
    """sigstore-python's caches in a temporary place, as the patch pipeline's own tests do."""
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))


@pytest.fixture(scope="module")
def release_key() -> KeyPair:
    return KeyPair()


@pytest.fixture(scope="module")
def own_key() -> KeyPair:
    """The contributor's own signing key: trusted by nobody."""
    return KeyPair()


def repo_config(**sections) -> str:
    return yaml.safe_dump(sections)


# -- what GitHub sends --------------------------------------------------------------------------

def fork_pr_event(fake, action: str, number: int, sender: str, **extra) -> dict:
    """A pull_request event as GitHub sends it for a fork: ``head.repo`` is the fork (a
    repository of the contributor, marked ``fork``), ``null`` once the fork is deleted."""
    payload = pr_event(fake, action, number, sender, **extra)
    head_repo = payload["pull_request"]["head"]["repo"]
    if head_repo is not None and head_repo["full_name"] != REPO:
        head_repo["fork"] = True
    return payload


def edited_event(fake, number: int, sender: str, **changes) -> dict:
    """``pull_request.edited`` (GitHub's examples have none: it is opened's shape), with
    ``changes.<field>.from`` the value before the edit."""
    payload = fork_pr_event(fake, "opened", number, sender)
    payload["action"] = "edited"
    payload["changes"] = {name: {"from": old} for name, old in changes.items()}
    return payload


async def fork_check_completed(bot, name: str, head_sha: str) -> None:
    """``check_run.completed`` for the newest run of ``name`` on a fork's head: GitHub lists
    no pull request on it (the head branch is not in the base repository)."""
    fake = bot.fake
    run = [r for r in fake.state.check_runs.values() if r.head_sha == head_sha and r.name == name][-1]
    payload = retarget(load_example("check_run", "completed"), REPO, fake)
    payload["check_run"] = {**fake.serializer.check_run(run), "pull_requests": []}
    payload["sender"] = fake.serializer.user(fake.bot_login)
    await bot.deliver("check_run", payload)


async def done(bot, event: str, payload: dict) -> None:
    """Deliver and insist the bot finished it (not merely gave up on it)."""
    delivery = await bot.deliver(event, payload)
    assert await bot.status(delivery) == "done", (event, payload.get("action"))


def push_commit(fake, pr, spec: dict, *, files: dict[str, str], repos=(REPO, FORK),
                changed: list[str] | None = None) -> str:
    """The contributor pushes one commit: it becomes the PR's head, its files readable at
    that sha in the fork and, through the PR's head ref, in the base repository."""
    pull = pr.pull
    commit = fake.make_commit(spec, default_author=pr.user, parent=pull.head_sha)
    pull.commits.append(commit)
    fake.repo(REPO).commits[commit.sha] = commit
    pull.head_sha = commit.sha
    for repo in repos:
        for path, text in files.items():
            fake.put_file(repo, path, text, ref=commit.sha)
    for name in changed or ():
        if name not in {f.filename for f in pull.files}:
            pull.files.append(PullFile(filename=name))
    return commit.sha


# -- what a maintainer sees ---------------------------------------------------------------------

def runs(fake, name: str, head_sha: str) -> list:
    return [r for r in fake.state.check_runs.values() if r.head_sha == head_sha and r.name == name]


def card_of(fake, number: int) -> str:
    [card] = marked(fake, number, CARD)
    return card.body


def calls_index(fake, method: str, template: str, pred=lambda c: True) -> list[int]:
    return [i for i, c in enumerate(fake.calls)
            if c.method == method and c.template == template and c.status < 300 and pred(c)]


def split_body(body: str) -> tuple[str, str, str]:
    """(author's text before the card, the card section, author's text after it)."""
    i = body.index(START)
    j = body.index(END, i)
    return body[:i], body[i + len(START):j], body[j + len(END):]


def body_patches(fake, number: int) -> int:
    return len([c for c in fake.calls_to("PATCH", ISSUE_URL)
                if c.path == f"/repos/{REPO}/issues/{number}" and c.status < 300])


# -- the journeys -------------------------------------------------------------------------------

@BOTH_BACKENDS
async def test_a_pull_request_from_a_fork_from_card_and_signatures_to_a_deleted_fork(
        bot, release_key, own_key):
    fake = bot.fake
    fake.installation.account = "octo"      # installed on the organisation: the fork is out of reach
    fake.put_file(REPO, ".github/contributor-flow.yml", repo_config(
        cla={"committer_required": True},
        pipeline={"trust": {"keys": [{"name": "kernel-release", "pem": release_key.public_pem}]}}))
    fake.put_file(REPO, ".github/CODEOWNERS", "/patches/ @carol\n")
    fake.add_workflow(REPO, WORKFLOW, name="Patch pipeline")
    fake.add_user("quinn", emails=["quinn@fork.example"])
    fake.add_user("mallory")
    fake.add_user("web-flow", emails=["noreply@github.com"])
    # pat has a commit on a default branch (a merged pull request): commit search, which
    # searches default branches only, links the trailer's email.
    fake.add_pull("octo/elsewhere", user="pat", merged=True,
                  commits=[{"message": "Pat's own work", "author": "pat"}])
    fake.add_repo(FORK, owner_type="User")

    # The contributor's fork changes core code, docs and a kernel patch, signs the patch with
    # their own key, and tries to make the repository trust that key and to own everything.
    fork_config = repo_config(pipeline={"trust": {"keys": [
        {"name": "kernel-release", "pem": own_key.public_pem}]}})
    patch_v1 = "Subject: [PATCH] fs: fix the save path\n\n--- a/fs/save.c\n+++ b/fs/save.c\n"
    pr = fake.add_pull(
        REPO, user="newbie", head_repo=FORK, head_ref="fix-crash",
        title="Fix the crash on save @octo/everyone", body="Fixes the crash.\n\ncc @someone-else",
        files=["src/core/editor.py", "docs/@carol-notes.md", PATCH, PATCH + ".sig",
               ".github/CODEOWNERS", ".github/contributor-flow.yml"],
        commits=[{"message": "Fix the crash on save\n\nCo-authored-by: Pat <pat@corp.example>",
                  "author": "newbie@home.example", "committer": "quinn@fork.example"},
                 {"message": "Add the fs patch", "author": "newbie@home.example",
                  "committer": "noreply@github.com", "committer_name": "GitHub"}])
    first = pr.pull.head_sha
    for repo in (REPO, FORK):
        fake.put_file(repo, PATCH, patch_v1, ref=first)
        fake.put_file(repo, PATCH + ".sig", sig_file(own_key, patch_v1.encode()).decode(), ref=first)
        fake.put_file(repo, ".github/CODEOWNERS", "* @mallory\n", ref=first)
        fake.put_file(repo, ".github/contributor-flow.yml", fork_config, ref=first)
    opened = fork_pr_event(fake, "opened", pr.number, "newbie")
    assert opened["pull_request"]["head"]["repo"]["full_name"] == FORK     # what GitHub sends
    assert opened["pull_request"]["base"]["repo"]["full_name"] == REPO
    await done(bot, "pull_request", opened)

    # CLA: on the base repository, for the fork's head; author, co-author and committer
    # must sign, GitHub's web-flow committer never.
    [run] = cla_runs(fake, first)
    assert run.repo == REPO
    assert (run.status, run.conclusion) == ("completed", "action_required"), run.output
    summary = run.output["summary"]
    for who in ("`newbie`", "`pat`", "`quinn`"):
        assert who in summary, who
    assert "web-flow" not in summary
    assert "cla: no" in labels(fake, pr.number)
    [cla_comment] = marked(fake, pr.number, CLA)
    assert all(f"@{who}" in cla_comment.body for who in ("newbie", "pat", "quinn"))

    # The signature gate read the patch through the base repository, at the fork's head, and
    # judged it by the base branch's rules: the fork's own key is nobody's trust.
    [sig] = runs(fake, "patch-signature", first)
    assert sig.repo == REPO and sig.conclusion == "failure", sig.output
    assert "does not verify with any trusted key" in sig.output["summary"]
    assert fake.state.dispatches == [] and runs(fake, "patch-pipeline", first) == []
    reads = [c for c in fake.calls if c.method == "GET" and c.template == CONTENTS_URL
             and unquote(c.path).endswith(PATCH)]
    assert reads and all(c.path.startswith(f"/repos/{REPO}/") and c.query.get("ref") == first
                         for c in reads), [(c.path, c.query) for c in reads]
    assert not [c for c in fake.calls if c.path.startswith(f"/repos/{FORK}")]

    # The card: components with owners linked (CODEOWNERS of the base branch, not the
    # fork's), the checklist, the guide, the first-timer's welcome; reviewers asked.
    await fork_check_completed(bot, "cla", first)
    await fork_check_completed(bot, "patch-signature", first)
    card = card_of(fake, pr.number)
    assert "[alice](https://github.com/alice)" in card and "[bob](https://github.com/bob)" in card
    assert "CODEOWNERS: [carol](https://github.com/carol)" in card
    assert "mallory" not in card
    assert "- Core stays pure." in card
    assert "CONTRIBUTING.md#core" in card
    assert "Welcome newbie, and thanks for your first pull request here!" in card
    assert "CLA: ❌ waiting for" in card and "`quinn`" in card
    assert "Patch signatures: ❌ not verified" in card
    assert sorted(fake.issue(REPO, pr.number).pull.requested_reviewers) == ["alice", "bob"]
    assert {"area/core", "area/docs", "cla: no"} <= labels(fake, pr.number)

    # The author and the committer sign on the PR; pat has not yet.
    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    await bot.comment(REPO, pr.number, PHRASE, "quinn")
    [run] = cla_runs(fake, first)
    assert run.conclusion == "action_required" and "`pat`" in run.output["summary"].split("### Covered")[0]

    # The contributor pushes again: the patch is now signed with the release key (a
    # maintainer signed it for them) and the fork's attempts on the rules are dropped.
    patch_v2 = patch_v1 + "+\tkeep the old path for one release\n"
    posts_before = len(fake.calls_to("POST", COMMENTS_URL))
    calls_before = len(fake.calls)
    second = push_commit(fake, pr, {"message": "Sign the patch", "author": "newbie@home.example"},
                         files={PATCH: patch_v2,
                                PATCH + ".sig": sig_file(release_key, patch_v2.encode()).decode()},
                         changed=["docs/guide.md"])
    pr.pull.files = [f for f in pr.pull.files if not f.filename.startswith(".github/")]
    await done(bot, "pull_request", fork_pr_event(fake, "synchronize", pr.number, "newbie",
                                                  before=first, after=second))

    [run] = cla_runs(fake, second)
    assert run.repo == REPO and run.conclusion == "action_required"     # still waiting for pat
    [sig] = runs(fake, "patch-signature", second)
    assert (sig.repo, sig.conclusion, sig.output["title"]) == (REPO, "success", "1 patch signed")
    assert "key kernel-release" in sig.output["summary"]
    [dispatch] = fake.state.dispatches
    assert (dispatch.repo, dispatch.workflow, dispatch.ref) == (REPO, WORKFLOW, "main")
    assert dispatch.inputs["head_sha"] == second and dispatch.inputs["pr_number"] == str(pr.number)
    assert dispatch.inputs["signer"] == "key:kernel-release"
    [pipeline] = runs(fake, "patch-pipeline", second)
    assert pipeline.repo == REPO and pipeline.status == "queued"
    # Only after verification: the patch and its signature read at the new head, the
    # verdict published, then the dispatch.
    [sent] = calls_index(fake, "POST", DISPATCHES_URL)
    patch_reads = calls_index(fake, "GET", CONTENTS_URL,
                              lambda c: c.query.get("ref") == second
                              and unquote(c.path).endswith((PATCH, PATCH + ".sig")))
    verdict = [i for i in calls_index(fake, "POST", CHECK_RUNS_URL,
                                      lambda c: (c.json or {}).get("name") == "patch-signature")
               if i >= calls_before]
    assert len(patch_reads) >= 2 and verdict and calls_before < max(patch_reads) < min(verdict) < sent

    # The card follows the new head (edited in place): its CLA and patch lines, its files.
    await fork_check_completed(bot, "cla", second)
    await fork_check_completed(bot, "patch-signature", second)
    card = card_of(fake, pr.number)
    assert "guide.md" in card
    assert "Patch pipeline (signed by key:kernel-release)" in card
    assert "Patch signatures: ❌" not in card
    assert "CLA: ❌ waiting for `pat` to sign" in card
    # A late completion of the first head's check changes nothing on the card.
    await fork_check_completed(bot, "patch-signature", first)
    assert card_of(fake, pr.number) == card

    # pat signs: the new head's check passes, the labels follow.
    await bot.comment(REPO, pr.number, PHRASE, "pat")
    [run] = cla_runs(fake, second)
    assert run.conclusion == "success"
    await fork_check_completed(bot, "cla", second)
    assert "CLA: ✅ everyone is covered" in card_of(fake, pr.number)
    assert "cla: yes" in labels(fake, pr.number) and "cla: no" not in labels(fake, pr.number)
    assert len(fake.calls_to("POST", COMMENTS_URL)) == posts_before    # card and CLA comment edited

    # The contributor deletes the fork: GitHub keeps the PR, with head.repo null.
    del fake.state.repos[FORK]
    edited = edited_event(fake, pr.number, "newbie", title="Fix the crash on save @octo/everyone")
    fake.issue(REPO, pr.number).title = edited["pull_request"]["title"] = "Fix the crash on save"
    assert edited["pull_request"]["head"]["repo"] is None
    card_before = card_of(fake, pr.number)
    await done(bot, "pull_request", edited)
    await bot.comment(REPO, pr.number, "/cla recheck", "newbie")
    await bot.comment(REPO, pr.number, "/verify-patch", "maint")
    await relabel(bot, pr.number, "needs-review", "maint", add=True)
    rerun = retarget(load_example("check_run", "completed"), REPO, fake)
    rerun["action"] = "rerequested"
    rerun["check_run"] = {**fake.serializer.check_run(cla_runs(fake, second)[-1]), "pull_requests": []}
    rerun["sender"] = fake.serializer.user("maint")
    await done(bot, "check_run", rerun)
    await fork_check_completed(bot, "cla", second)
    assert [r.conclusion for r in cla_runs(fake, second)] == ["success"]
    assert [r.conclusion for r in runs(fake, "patch-signature", second)] == ["success"]
    # /verify-patch decided the head again (read through the base repository) and dispatched.
    assert [d.inputs["head_sha"] for d in fake.state.dispatches] == [second, second]
    assert card_of(fake, pr.number) == card_before
    assert labels(fake, pr.number) >= {"cla: yes", "area/core", "area/docs", "needs-review"}
    fake.issue(REPO, pr.number).state = "closed"
    await done(bot, "pull_request", fork_pr_event(fake, "closed", pr.number, "newbie"))
    for d in await deliveries.listing(bot.runtime.db, limit=1000):
        assert d["status"] == "done", d

    assert "needs-review" not in removed_labels(fake, pr.number)
    assert removed_labels(fake, pr.number) == ["cla: no"]
    assert_no_user_pings(fake, pr.number)
    assert_one_comment_per_post(fake, pr.number)
    assert fake.violations == []


@BOTH_BACKENDS
async def test_a_card_in_the_description_never_costs_the_author_a_word_or_a_tick(bot):
    """``card: body``: the card is a section of the description between markers, written
    once and edited in place; whatever the author writes around it, ticks in it, and in
    whatever order GitHub's webhooks arrive (a push's payload is a snapshot of the
    description taken at the push), the author's last word stands."""
    fake = bot.fake
    fake.put_file(REPO, ".github/contributor-flow.yml", repo_config(components={"card": "body"}))
    mine = ("Fixes the crash on save (@octo/everyone).\n\n"
            "- [ ] my own todo: update the screenshots\n\ncc @someone-else")
    pr = fake.add_pull(REPO, user="newbie", title="Fix the crash on save @octo/everyone", body=mine,
                       files=["src/core/editor.py", "docs/@carol-notes.md"],
                       commits=[{"message": "Fix the crash", "author": "newbie@home.example"}])
    await done(bot, "pull_request", pr_event(fake, "opened", pr.number, "newbie"))

    body = fake.issue(REPO, pr.number).body
    before, card, after = split_body(body)
    assert (before, after) == (mine + "\n\n", "")
    for text in ("- [ ] Core stays pure.", "- [ ] Tests prove the change", "Welcome newbie",
                 "[alice](https://github.com/alice)", "CONTRIBUTING.md#core", "`docs/@carol-notes.md`"):
        assert text in card, text
    assert marked(fake, pr.number, CARD) == []                       # no card comment as well
    # The CLA verdict comes in: the card is edited in place, the author's text untouched.
    await check_completed(bot, pr.number)
    body = fake.issue(REPO, pr.number).body
    before, card, after = split_body(body)
    assert (before, after) == (mine + "\n\n", "")
    assert "CLA: ❌ waiting for `newbie` to sign" in card and body.count(START) == 1

    # GitHub tells the bot about its own edit: nothing to do.
    writes = body_patches(fake, pr.number)
    await done(bot, "pull_request", edited_event(fake, pr.number, fake.bot_login, body=mine))
    assert body_patches(fake, pr.number) == writes

    # The author ticks an item of the card and one of their own, adds a line, and saves
    # from GitHub's web editor (CRLF line endings): the bot has nothing to change.
    ticked = (body.replace("- [ ] my own todo", "- [x] my own todo")
              .replace("- [ ] Core stays pure.", "- [x] Core stays pure.")
              .replace("cc @someone-else", "cc @someone-else\n\nAlso fixes autosave.")
              .replace("\n", "\r\n"))
    fake.issue(REPO, pr.number).body = ticked
    await done(bot, "pull_request", edited_event(fake, pr.number, "newbie", body=body))
    assert fake.issue(REPO, pr.number).body == ticked
    assert body_patches(fake, pr.number) == writes

    # The author pushes (GitHub's synchronize payload holds the description as it was at
    # the push), then changes their mind before the bot gets to it: unticks the card's item,
    # ticks another, rewrites their first line. GitHub delivers that edit first, the push
    # after it (GitHub promises no order; a delivery that failed comes back later).
    first = pr.pull.head_sha
    second = push_commit(fake, pr, {"message": "Document the fix", "author": "newbie@home.example"},
                         files={}, repos=(REPO,), changed=["docs/guide.md"])
    sync = pr_event(fake, "synchronize", pr.number, "newbie", before=first, after=second)
    assert sync["pull_request"]["body"] == ticked
    latest = (ticked.replace("- [x] Core stays pure.", "- [ ] Core stays pure.")
              .replace("- [ ] Tests prove the change", "- [x] Tests prove the change")
              .replace("Fixes the crash on save (", "Fixes the crash on save and on autosave ("))
    fake.issue(REPO, pr.number).body = latest
    await done(bot, "pull_request", edited_event(fake, pr.number, "newbie", body=ticked))
    await done(bot, "pull_request", sync)

    body = fake.issue(REPO, pr.number).body
    before, card, after = split_body(body)
    want_before, _, want_after = split_body(latest)
    assert (before, after) == (want_before, want_after)              # every word, every byte
    assert "- [ ] Core stays pure." in card and "- [x] Tests prove the change" in card
    assert "- [x] my own todo" in before
    assert "`docs/guide.md`" in card and body.count(START) == 1 and body.count(END) == 1
    assert "\n" not in body.replace("\r\n", "")                      # still the editor's line endings

    # The author signs; the card says so, and still keeps every tick and word.
    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    await check_completed(bot, pr.number)
    body = fake.issue(REPO, pr.number).body
    before, card, after = split_body(body)
    assert (before, after) == (want_before, want_after)
    assert "CLA: ✅ everyone is covered" in card
    assert "- [ ] Core stays pure." in card and "- [x] Tests prove the change" in card

    # What users wrote (the title, a file name, the description) is never made a ping by
    # the bot: its card section and its comments name people only as profile links.
    for ping in USER_PINGS:
        assert not re.search(re.escape(ping) + r"\b", rendered_text(card)), ping
    assert_no_user_pings(fake, pr.number)
    assert_one_comment_per_post(fake, pr.number)
    assert fake.violations == []


@BOTH_BACKENDS
async def test_co_authors_sign_on_an_issue_and_on_another_pull_request(bot):
    """README: a comment that is the phrase signs, wherever it is written; every open PR
    waiting for the signer is checked again at once. So a co-author may sign on an issue
    (their own bug report) or on someone else's pull request, and the PR that waits for
    them turns green, its labels follow, and its one CLA comment is edited in place."""
    fake = bot.fake
    fake.add_user("quinn", emails=["quinn@corp.example"])
    fake.add_user("rosa", emails=["rosa@home.example"])
    # pat and quinn have commits on a default branch (a merged pull request): commit search,
    # which searches default branches only, links their emails.
    fake.add_pull("octo/elsewhere", user="pat", merged=True,
                  commits=[{"message": "Pat's own work", "author": "pat"},
                           {"message": "Quinn's", "author": "quinn"}])
    pr = fake.add_pull(
        REPO, user="newbie", head_ref="crash", files=["src/core/editor.py"],
        commits=[{"message": "Fix the crash on save\n\nCo-authored-by: Pat <pat@corp.example>\n"
                             "Co-authored-by: Quinn <quinn@corp.example>",
                  "author": "newbie@home.example"}])
    head = pr.pull.head_sha
    await done(bot, "pull_request", pr_event(fake, "opened", pr.number, "newbie"))
    await bot.comment(REPO, pr.number, PHRASE, "newbie")
    [run] = cla_runs(fake, head)
    assert run.conclusion == "action_required"
    waiting = run.output["summary"].split("### Covered")[0]
    assert "`pat`" in waiting and "`quinn`" in waiting and "`newbie`" not in waiting
    assert "cla: no" in labels(fake, pr.number)
    [cla_comment] = marked(fake, pr.number, CLA)
    cla_comment_id = cla_comment.id

    # pat signs on their own bug report, not on the PR.
    issue = fake.add_issue(REPO, title="Saving drops the last line", user="pat", body="Steps: save.")
    await done(bot, "issues", issue_event(fake, "opened", issue.number, "pat"))
    issue_labels = labels(fake, issue.number)
    await bot.comment(REPO, issue.number, PHRASE, "pat")
    [run] = cla_runs(fake, head)                                        # the same run, updated
    assert run.conclusion == "action_required"
    waiting = run.output["summary"].split("### Covered")[0]
    assert "`quinn`" in waiting and "`pat`" not in waiting
    assert "cla: no" in labels(fake, pr.number) and "cla: yes" not in labels(fake, pr.number)
    [cla_comment] = marked(fake, pr.number, CLA)
    assert cla_comment.id == cla_comment_id
    assert "@quinn" in cla_comment.body and "@pat" not in cla_comment.body
    # The issue only gets a thumbs-up on the signature: no label, no comment.
    [signed_there] = [c for c in fake.issue(REPO, issue.number).comments if c.user == "pat"]
    assert [r.content for r in signed_there.reactions if r.user == fake.bot_login] == ["+1"]
    assert labels(fake, issue.number) == issue_labels and not {"cla: yes", "cla: no"} & issue_labels
    assert not [c for c in bot_comments(fake, issue.number) if CLA in c.body]

    # rosa's own pull request, signed; quinn, who has nothing to do with it, signs there.
    other = fake.add_pull(REPO, user="rosa", head_ref="docs", files=["docs/a.md"],
                          commits=[{"message": "Docs", "author": "rosa@home.example"}])
    await done(bot, "pull_request", pr_event(fake, "opened", other.number, "rosa"))
    await bot.comment(REPO, other.number, PHRASE, "rosa")
    assert [r.conclusion for r in cla_runs(fake, other.pull.head_sha)] == ["success"]
    await bot.comment(REPO, other.number, PHRASE, "quinn")

    [run] = cla_runs(fake, head)
    assert run.conclusion == "success", run.output
    assert "cla: yes" in labels(fake, pr.number) and "cla: no" not in labels(fake, pr.number)
    assert removed_labels(fake, pr.number) == ["cla: no"]
    [cla_comment] = marked(fake, pr.number, CLA)
    assert cla_comment.id == cla_comment_id and "CLA check passed" in cla_comment.body
    await check_completed(bot, pr.number)
    assert "CLA: ✅ everyone is covered" in card_of(fake, pr.number)
    # rosa's PR: still green, its labels and its one comment as they were.
    assert [r.conclusion for r in cla_runs(fake, other.pull.head_sha)] == ["success"]
    assert "cla: yes" in labels(fake, other.number) and "cla: no" not in labels(fake, other.number)
    assert len(marked(fake, other.number, CLA)) == 1

    # Each signature is on record where it was made.
    rows = await bot.runtime.db.fetchall("SELECT login, comment_url FROM cla_signatures ORDER BY login")
    where = {r["login"]: r["comment_url"] for r in rows}
    assert f"/issues/{issue.number}#issuecomment-{signed_there.id}" in where["pat"]
    assert f"/issues/{other.number}#issuecomment-" in where["quinn"]
    for number in (pr.number, other.number, issue.number):
        assert_no_user_pings(fake, number)
        assert_one_comment_per_post(fake, number)
    assert fake.violations == []


def test_a_written_section_keeps_the_ticks_it_has_on_github_when_asked():
    """The executor's half of the journey above, as a table: with ``ticks`` the ticks on
    GitHub win for items written again, new items come as decided, text outside is kept."""
    from bot.executor.issues import replace_section

    on_github = ("Mine.\r\n\r\n<!-- m:start -->\r\n- [x] a\r\n- [ ] b\r\n- [X] gone\r\n<!-- m:end -->"
                 "\r\n- [ ] mine")
    decided = "- [ ] a\n- [x] b\n- [ ] new"
    assert replace_section(on_github, "m", decided, ticks=True) == (
        "Mine.\r\n\r\n<!-- m:start -->\r\n- [x] a\r\n- [ ] b\r\n- [ ] new\r\n<!-- m:end -->\r\n- [ ] mine")
    assert replace_section(on_github, "m", decided) == (
        "Mine.\r\n\r\n<!-- m:start -->\r\n- [ ] a\r\n- [x] b\r\n- [ ] new\r\n<!-- m:end -->\r\n- [ ] mine")
    assert replace_section("Mine.", "m", decided, ticks=True) == (
        "Mine.\n\n<!-- m:start -->\n- [ ] a\n- [x] b\n- [ ] new\n<!-- m:end -->")

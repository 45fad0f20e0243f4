"""Pure CLA/DCO logic: git trailer rules, phrase matching, who must sign, verdicts, reports."""
from __future__ import annotations

import pytest

from bot.core import cla
from bot.core.cla import Account, Allowlist, Commit, Person
from bot.core import cla_report

# --- trailers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("message, expected", [
    # the title paragraph never holds trailers
    ("Signed-off-by: A <a@x.org>", []),
    ("Fix it\n\nSigned-off-by: A <a@x.org>", [("Signed-off-by", "A <a@x.org>")]),
    # only the last paragraph counts
    ("Fix\n\nCo-authored-by: B <b@x.org>\n\nMore text.", []),
    # mixed paragraph without a git-generated line: not a trailer block
    ("Fix\n\nSome words here\nCo-authored-by: B <b@x.org>", []),
    # mixed paragraph, >= 25% trailers and a git-generated one: a trailer block
    ("Fix\n\nnot a trailer\nSigned-off-by: A <a@x.org>\nCo-authored-by: B <b@x.org>",
     [("Signed-off-by", "A <a@x.org>"), ("Co-authored-by", "B <b@x.org>")]),
    # mixed but under 25% trailers
    ("Fix\n\none\ntwo\nthree\nfour\nSigned-off-by: A <a@x.org>", []),
    ("Fix\n\none\ntwo\nthree\nSigned-off-by: A <a@x.org>", [("Signed-off-by", "A <a@x.org>")]),
    # continuation lines fold into the value
    ("Fix\n\nCo-authored-by: Jane\n  Doe <j@x.org>", [("Co-authored-by", "Jane Doe <j@x.org>")]),
    # whitespace before the colon is allowed, token case kept
    ("Fix\n\nco-authored-by : B <b@x.org>", [("co-authored-by", "B <b@x.org>")]),
    # comment lines and trailing blank lines are ignored; CRLF tolerated
    ("Fix\r\n\r\nCo-authored-by: B <b@x.org>\r\n# comment\r\n\r\n", [("Co-authored-by", "B <b@x.org>")]),
    # an indented first line is not a trailer
    ("Fix\n\n  Co-authored-by: B <b@x.org>", []),
    ("", []),
])
def test_parse_trailers_follows_git(message, expected):
    assert cla.parse_trailers(message) == expected


def test_trailer_values_are_case_insensitive():
    msg = "x\n\nCO-AUTHORED-BY: A <a@x>\nCo-authored-by: B <b@x>\nSigned-off-by: C <c@x>"
    assert cla.trailer_values(msg, "co-authored-by") == ["A <a@x>", "B <b@x>"]


@pytest.mark.parametrize("value, expected", [
    ("Jane Doe <jane@example.com>", Person("Jane Doe", "jane@example.com")),
    ("<jane@example.com>", Person("", "jane@example.com")),
    ("Jane Doe jane@example.com", None),
    ("Jane <not an email>", None),
])
def test_parse_person(value, expected):
    assert cla.parse_person(value) == expected


@pytest.mark.parametrize("email, account_id, login", [
    ("583231+octocat@users.noreply.github.com", 583231, None),
    ("41898282+github-actions[bot]@users.noreply.github.com", 41898282, None),
    ("octocat@users.noreply.github.com", None, "octocat"),
    ("octocat@example.com", None, None),
    # not an id GitHub can have: no lookup, and nothing that would overflow the store
    ("99999999999999999999+bob@users.noreply.github.com", None, None),
    ("0+bob@users.noreply.github.com", None, None),
    # digits of other scripts are no id GitHub writes (int() would read "１０２" as 102, bob's)
    ("\uff11\uff10\uff12+bob@users.noreply.github.com", None, None),
    ("\u0661\u0660\u0662+bob@users.noreply.github.com", None, None),
])
def test_noreply_addresses(email, account_id, login):
    assert cla.noreply_id(email) == account_id
    assert cla.noreply_login(email) == login


def test_a_noreply_address_is_only_a_claim_until_looked_up():
    # GitHub linked no account to this author: an address naming a bot (or anyone) does not
    # make one up; the commit is unlinked. A co-author's noreply address waits for the lookup.
    msg = "Fix\n\nCo-authored-by: Cop <175728472+Copilot@users.noreply.github.com>"
    commit = cla.Commit("a" * 40, msg, cla.Person("M", "4242+mallory[bot]@users.noreply.github.com"),
                        cla.Person("M", "4242+mallory[bot]@users.noreply.github.com"))
    items = cla.contributions([commit], committer_required=False)
    assert [(i.role, i.account) for i in items] == [("author", None), ("co-author", None)]
    assert cla.emails_to_resolve([commit]) == ["175728472+copilot@users.noreply.github.com"]
    copilot = Account("Copilot", 175728472, "Bot")
    items = cla.contributions([commit], committer_required=False,
                              resolved={"175728472+copilot@users.noreply.github.com": copilot})
    assert items[1].account == copilot


def test_the_opener_must_be_covered_unless_already_among_the_commit_identities():
    alice, bob = Account("alice", 101), Account("bob", 102)
    commit = cla.Commit("a" * 40, "Fix", cla.Person("A", "alice@corp.example"), cla.Person("A", "alice@corp.example"),
                        author_account=alice, committer_account=alice)
    items = cla.contributions([commit], committer_required=False, opener=bob)
    assert [(i.role, i.account) for i in items] == [("opener", bob), ("author", alice)]
    # already an author: covered as that contribution is (its email's domain included)
    items = cla.contributions([commit], committer_required=False, opener=alice)
    assert [(i.role, i.account) for i in items] == [("author", alice)]
    allow = cla.Allowlist(email_domains=("corp.example",))
    v = cla.evaluate([commit], mode="cla", version="1", committer_required=False, allow=allow,
                     signatures={}, opener=bob)
    assert [(s.account.login, s.shas, s.opened) for s in v.missing] == [("bob", (), True)]
    v = cla.evaluate([commit], mode="cla", version="1", committer_required=False, allow=allow,
                     signatures={}, opener=alice)
    assert v.passed
    # only a committer, with committers not required: owed as the opener
    bot = Account("dependabot[bot]", 49699333, "Bot")
    by_bot = cla.Commit("b" * 40, "Bump", cla.Person("D", "d@x"), cla.Person("B", "bob@x"),
                        author_account=bot, committer_account=bob)
    v = cla.evaluate([by_bot], mode="cla", version="1", committer_required=False, allow=cla.Allowlist(),
                     signatures={}, opener=bob)
    assert [(s.account.login, s.opened) for s in v.missing] == [("bob", True)]
    v = cla.evaluate([by_bot], mode="cla", version="1", committer_required=False, allow=cla.Allowlist(),
                     signatures={102: "1"}, opener=bob)
    assert v.passed and [s.account.login for s in v.signed] == ["bob"]


# --- phrase --------------------------------------------------------------------------------------

PHRASE = "I have read the CLA Document and I hereby sign the CLA"


@pytest.mark.parametrize("body, signs", [
    (PHRASE, True),
    ("i have read the cla document and i hereby sign the cla", True),
    ("  I have read the CLA Document\nand I hereby   sign the CLA.  ", True),
    ("I have read the CLA Document and I hereby sign the CLA!!", True),
    ("I have read the CLA Document and I hereby sign the CLA\r\n", True),
    # quoting the bot's instructions is not signing
    ("> " + PHRASE, False),
    ("```\n" + PHRASE + "\n```", False),
    ("> " + PHRASE + "\n\n" + PHRASE, True),
    # more words: ambiguous, not a signature
    (PHRASE + " but not really", False),
    ("I have read the CLA Document", False),
    ("", False),
])
def test_is_signature(body, signs):
    assert cla.is_signature(body, PHRASE) is signs


# --- who must sign --------------------------------------------------------------------------------

ALICE = Account("alice", 1)
BOB = Account("bob", 2)
CAROL = Account("carol", 3)
BOT = Account("dependabot[bot]", 49699333, "Bot")
WEB_FLOW = Account("web-flow", 19864447)


def commit(sha="a" * 40, *, author=("Alice", "alice@example.com"), author_account=ALICE,
           committer=None, committer_account=None, message="Change\n", parents=1) -> Commit:
    committer = committer or author
    return Commit(sha, message, Person(*author), Person(*committer), author_account,
                  committer_account if committer_account is not None else author_account, parents)


def verdict(commits, *, mode="cla", version="1", committer_required=False, allow=Allowlist(),
            signatures=None, resolved=None):
    return cla.evaluate(commits, mode=mode, version=version, committer_required=committer_required,
                        allow=allow, signatures=signatures or {}, resolved=resolved or {})


def test_author_signed_passes_and_unsigned_needs_action():
    assert verdict([commit()], signatures={1: "1"}).conclusion == "success"
    v = verdict([commit()])
    assert v.conclusion == "action_required"
    assert [s.account.login for s in v.missing] == ["alice"]


def test_co_authors_must_sign_and_resolve_through_known_commits_and_noreply():
    msg = ("Pair work\n\nCo-authored-by: Bob <bob@example.com>\n"
           "Co-authored-by: Carol <3+carol@users.noreply.github.com>")
    commits = [commit("1" * 40, message=msg),
               commit("2" * 40, author=("Bob", "bob@example.com"), author_account=BOB)]
    # bob is linked on the PR's own commit; carol's noreply address names id 3, looked up
    assert cla.emails_to_resolve(commits) == ["3+carol@users.noreply.github.com"]
    v = verdict(commits, signatures={1: "1"},
                resolved={"3+carol@users.noreply.github.com": Account("carol", 3)})
    assert {s.account.login: s.shas for s in v.missing} == {
        "bob": ("1" * 40, "2" * 40), "carol": ("1" * 40,)}


def test_unlinked_co_author_email_fails_with_the_commit_named():
    msg = "Work\n\nCo-authored-by: Dan <dan@nowhere.example>"
    commits = [commit(message=msg)]
    assert cla.emails_to_resolve(commits) == ["dan@nowhere.example"]
    v = verdict(commits, signatures={1: "1"}, resolved={"dan@nowhere.example": None})
    assert v.conclusion == "failure"
    assert v.unlinked == (cla.Unlinked("a" * 40, "co-author", Person("Dan", "dan@nowhere.example")),)
    # resolved by the feature's lookup: now just a missing signature
    v = verdict(commits, signatures={1: "1"}, resolved={"dan@nowhere.example": Account("dan", 9)})
    assert v.conclusion == "action_required" and v.missing[0].account.login == "dan"


def test_unlinked_author_email():
    v = verdict([commit(author=("Eve", "eve@laptop.local"), author_account=None)])
    assert v.conclusion == "failure"
    assert v.unlinked[0].person.email == "eve@laptop.local" and v.unlinked[0].role == "author"


def test_committer_only_when_the_rules_say_so_and_never_web_flow():
    c = commit(committer=("Bob", "bob@example.com"), committer_account=BOB)
    assert verdict([c], signatures={1: "1"}).passed
    assert [s.account.login for s in verdict([c], signatures={1: "1"}, committer_required=True).missing] == ["bob"]
    web = commit(committer=("GitHub", "noreply@github.com"), committer_account=WEB_FLOW)
    assert verdict([web], signatures={1: "1"}, committer_required=True).passed


@pytest.mark.parametrize("allow, account, email, reason", [
    (Allowlist(bots=True), BOT, "49699333+dependabot[bot]@users.noreply.github.com", "bot"),
    (Allowlist(logins=frozenset({"alice"})), ALICE, "alice@example.com", "allowlisted login"),
    (Allowlist(email_domains=("corp.com",)), None, "x@dev.corp.com", "allowlisted email domain"),
    (Allowlist(member_ids=frozenset({1})), ALICE, "alice@example.com", "organisation member"),
])
def test_allowlist(allow, account, email, reason):
    v = verdict([commit(author=("X", email), author_account=account)], allow=allow)
    assert v.passed and v.allowlisted[0][1] == reason


def test_bots_are_not_allowlisted_when_switched_off():
    bot_commit = commit(author=("dependabot", "d@x.org"), author_account=BOT)
    assert verdict([bot_commit], allow=Allowlist(bots=True)).allowlisted == (("dependabot[bot]", "bot"),)
    v = verdict([bot_commit], allow=Allowlist(bots=False))
    # Switched off, the bot is one more author who has not signed.
    assert not v.passed and v.allowlisted == ()
    assert [s.account.login for s in v.missing] == ["dependabot[bot]"]


@pytest.mark.parametrize("email, allowlisted", [
    ("x@corp.com", True), ("x@dev.corp.com", True),
    ("x@notcorp.com", False), ("x@corp.com.evil.org", False), ("x@corp-com.org", False),
])
def test_email_domain_does_not_match_lookalikes(email, allowlisted):
    v = verdict([commit(author=("X", email), author_account=None)],
                allow=Allowlist(email_domains=("corp.com",)))
    assert v.passed == allowlisted
    assert [reason for _, reason in v.allowlisted] == (["allowlisted email domain"] if allowlisted else [])
    # Not allowlisted, an email linked to no account is to be fixed in the commits.
    assert [u.person.email for u in v.unlinked] == ([] if allowlisted else [email])


def test_version_bump_asks_for_a_new_signature():
    v = verdict([commit()], version="2", signatures={1: "1"})
    assert v.conclusion == "action_required"
    assert v.missing[0].signed_version == "1"
    assert "signed version 1; the CLA is now version 2" in cla_report.summary(v, cla_report.Instructions("p", "u"))


# --- DCO -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("message, passes", [
    ("Fix\n\nSigned-off-by: Alice <alice@example.com>", True),
    ("Fix\n\nSigned-off-by: Alice Other Name <ALICE@example.com>", True),
    ("Fix\n\nSigned-off-by: Bob <bob@example.com>", False),
    ("Fix\n\nSigned-off-by: Alice <alice@example.com>\n\nlater paragraph", False),
    ("Fix", False),
])
def test_dco(message, passes):
    v = verdict([commit(message=message)], mode="dco")
    assert v.passed is passes
    assert v.conclusion == ("success" if passes else "failure")


def test_dco_skips_merges_and_bots_and_both_mode_combines():
    merge = commit("m" * 40, message="Merge branch", parents=2)
    bot = commit("b" * 40, author=("dependabot", "d@x.org"), author_account=BOT, message="bump")
    assert verdict([merge, bot], mode="dco").passed
    v = verdict([commit(message="Fix")], mode="both")
    assert v.missing and v.dco_failures and v.conclusion == "failure"


# --- reports -------------------------------------------------------------------------------------

def test_report_neutralises_user_text_and_pings_only_in_the_comment():
    evil = "@everyone </details> ```"
    msg = f"x\n\nCo-authored-by: {evil} <evil@x.org>"
    v = verdict([commit(message=msg)], signatures={}, resolved={"evil@x.org": None})
    ins = cla_report.Instructions(PHRASE, "https://example.org/cla")
    summary = cla_report.summary(v, ins)
    body = cla_report.comment(v, ins)
    for text in (summary, body):
        assert "@everyone" not in text and "</details>" not in text
        assert "evil@x.org" in text and "`" + "a" * 7 + "`" in text
        assert "add the email to your GitHub account" in text and "amend the commit" in text
    assert "@alice" in body and "@alice" not in summary
    assert PHRASE in body and "https://example.org/cla" in body


def test_an_unlinked_noreply_address_gets_a_way_out_that_works():
    # GitHub will not add a users.noreply.github.com address to an account: "add the email"
    # cannot help, the address the account really has can.
    stale = "987654321+grace@users.noreply.github.com"
    ins = cla_report.Instructions(PHRASE, "")
    v = verdict([commit(message=f"x\n\nCo-authored-by: Grace <{stale}>")], signatures={},
                resolved={stale: None})
    for text in (cla_report.summary(v, ins), cla_report.comment(v, ins)):
        assert "noreply address shown in your GitHub email settings" in text
    plain = verdict([commit(message="x\n\nCo-authored-by: E <e@x.org>")], signatures={},
                    resolved={"e@x.org": None})
    assert "noreply" not in cla_report.summary(plain, ins)


def test_report_is_bounded_for_huge_prs():
    commits = [commit(f"{i:040x}", author=(f"U{i}", f"u{i}@nowhere"), author_account=None) for i in range(300)]
    v = verdict(commits)
    summary = cla_report.summary(v, cla_report.Instructions(PHRASE, ""))
    assert len(v.unlinked) == 300
    assert "and 250 more" in summary and len(summary) < 65_535
    assert "300 commits checked" in summary


def test_titles_and_status_line():
    assert cla_report.title(verdict([commit()], signatures={1: "1"})) == "Everyone has signed the CLA"
    assert cla_report.title(verdict([commit()])) == "1 person needs to sign the CLA"
    assert cla_report.status_line("no", ["alice"], 1, 0) == \
        "CLA: ❌ waiting for `alice` to sign; 1 unlinked email"
    assert cla_report.status_line("yes", [], 0, 0).startswith("CLA: ✅")


# --- cost: a commit message may carry any number of Co-authored-by trailers -------------------
# Counted as Python lines run (as in test_commands_parser), not timed: linear work grows about
# 4x for 4x the trailers, quadratic work 16x.

def _lines_run(fn) -> int:
    import sys

    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += event == "line"
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def _co_authored(n: int, sha: str = "a" * 40) -> Commit:
    trailers = "\n".join(f"Co-authored-by: P{i} <p{i}@nowhere.example>" for i in range(n))
    return commit(sha, message=f"Squash\n\n{trailers}\n")


def test_evaluating_many_unlinked_co_authors_is_linear():
    small = _lines_run(lambda: verdict([_co_authored(300)]))
    large = _lines_run(lambda: verdict([_co_authored(1200)]))
    assert large < 6 * small, (small, large)
    v = verdict([_co_authored(1200), _co_authored(1200, "b" * 40), _co_authored(1200)])
    # the same people on two commits (one listed twice): each commit named once per person
    assert len(v.unlinked) == 2400 and v.unlinked_emails == 1200
    assert [u.sha for u in v.unlinked[:2]] == ["a" * 40] * 2 and v.unlinked[1200].sha == "b" * 40

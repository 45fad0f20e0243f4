"""Acceptance: the CLA/DCO report's instructions can be copied as written, and commit text
(names, emails) cannot ping, inject markup or pass for another bot comment's marker."""
from bot.core import cla_report
from bot.core.cla import DcoFailure, Person, Unlinked, Verdict


def test_dco_help_command_is_copyable_for_any_branch_name():
    v = Verdict(mode="dco", version="1", commits=1, dco_failures=(
        DcoFailure("a" * 40, Person("Jane", "jane@example.com"), ()),))
    text = cla_report.summary(v, cla_report.Instructions("I agree", "", base_ref="release_1.0"))
    # Inside a code span backslash escapes show literally: the command must be verbatim.
    assert "git rebase --signoff origin/release_1.0" in text


def test_hostile_commit_identity_is_inert():
    hostile = Person("@org/team </details> ```", "<!-- contributor-flow:context-card -->")
    v = Verdict(mode="cla", version="1", commits=1, unlinked=(Unlinked("b" * 40, "author", hostile),))
    for text in (cla_report.summary(v, cla_report.Instructions("I agree", "")),
                 cla_report.comment(v, cla_report.Instructions("I agree", ""))):
        assert "<!-- contributor-flow:context-card -->" not in text
        assert "@org/team" not in text
        assert "</details>" not in text and "```" not in text.split("```text")[0]
        # Inert, but still reported: the unlinked commit and its identity are listed.
        [line] = [ln for ln in text.splitlines() if ln.startswith("- commit `bbbbbbb` (author): ")]
        assert "@\u200borg/team" in line and "contributor-flow:context-card" in line

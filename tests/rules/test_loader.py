"""Bundled rules and repository overrides: merging, and broken files changing nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.rules.loader import Rules, load_bundled, merge_repo_override
from bot.rules.registry import CORE, Section, with_core
from bot.rules.schema import Bool, Duration, Field, List, Map, Obj, Str

CLA = Section("cla", Obj({
    "phrase": Field(Str(), default="I agree"),
    "exempt": Field(List(Str()), default=["dependabot[bot]"]),
    "labels": Field(Map(Str())),
    "check": Field(Obj({"name": Field(Str(), default="CLA"), "strict": Field(Bool(), default=False)})),
}))
SLA = Section("sla", Obj({"first_response": Field(Duration(), default="72h")}))
SECTIONS = [CLA, SLA]
REPO_ROOT = Path(__file__).resolve().parents[2]


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


def test_every_section_gets_an_enabled_switch_and_core_is_always_present():
    assert CLA.schema.fields["enabled"].default is True
    assert list(with_core(SECTIONS)) == ["core", "cla", "sla"]
    with pytest.raises(ValueError):
        with_core([CLA, Section("cla", Obj({}))])
    with pytest.raises(ValueError):
        Section("bad", Obj({"enabled": Field(Str())}))


def test_missing_files_mean_defaults(tmp_path):
    write(tmp_path, "cla.yml", "phrase: I have read the CLA\nlabels: {signed: cla/yes}\n")
    rules, problems = load_bundled(tmp_path, SECTIONS)
    assert problems == []
    assert rules.section("cla") == {
        "enabled": True, "phrase": "I have read the CLA", "exempt": ["dependabot[bot]"],
        "labels": {"signed": "cla/yes"}, "check": {"name": "CLA", "strict": False},
    }
    assert rules.section("sla") == {"enabled": True, "first_response": 259200.0}
    assert rules.section("core")["max_attempts"] == 6


def test_bundled_problems_name_the_file_and_line(tmp_path):
    write(tmp_path, "cla.yml", "phrase:\n  - a list\n")
    write(tmp_path, "nosuch.yml", "enabled: true\n")
    write(tmp_path, "notes.txt", "ignored: not a rules file\n")
    rules, problems = load_bundled(tmp_path, SECTIONS)
    assert [str(p) for p in problems] == [
        f"{tmp_path}/cla.yml:2: cla.phrase: expected a string, got a list",
        f"{tmp_path}/nosuch.yml: no feature reads a section named 'nosuch' (known sections: cla, core, sla)",
    ]
    assert rules.section("cla")["phrase"] == "I agree"  # the broken file's section keeps its defaults


def test_the_shipped_rules_directory_is_valid_for_core():
    rules, problems = load_bundled(REPO_ROOT / "rules", [])
    core_problems = [p for p in problems if p.file.endswith("core.yml")]
    assert core_problems == []
    assert rules.section("core") == CORE.schema.defaults()


def test_override_merges_maps_key_by_key_and_replaces_lists():
    bundled = Rules.defaults(SECTIONS)
    bundled, problems = merge_repo_override(
        bundled, "cla:\n  labels: {signed: cla/yes, missing: cla/no}\n", "bundled", SECTIONS)
    assert problems == []
    text = """\
cla:
  exempt: ["renovate[bot]"]
  labels: {missing: cla/missing}
  check: {strict: true}
sla:
core:
  dry_run: true
"""
    rules, problems = merge_repo_override(bundled, text, ".github/contributor-flow.yml", SECTIONS)
    assert problems == []
    cla = rules.section("cla")
    assert cla["exempt"] == ["renovate[bot]"]
    assert cla["labels"] == {"signed": "cla/yes", "missing": "cla/missing"}
    assert cla["check"] == {"name": "CLA", "strict": True}
    assert cla["phrase"] == "I agree"
    assert rules.section("sla") == bundled.section("sla")  # `sla:` with nothing under it
    assert rules.section("core")["dry_run"] is True


def test_enabled_honours_the_section_switch_and_core():
    bundled = Rules.defaults(SECTIONS)
    rules, _ = merge_repo_override(bundled, "sla: {enabled: false}\n", "f", SECTIONS)
    assert (rules.enabled("cla"), rules.enabled("sla")) == (True, False)
    rules, _ = merge_repo_override(bundled, "core: {enabled: false}\n", "f", SECTIONS)
    assert (rules.enabled("core"), rules.enabled("cla")) == (False, False)


@pytest.mark.parametrize(("text", "expected"), [
    ("cla:\n  phrase: ok\nsla:\n  first_response: soon\n",
     [".github/contributor-flow.yml:4: sla.first_response: expected a duration such as 90s, 5m, 72h "
      "or 2d, got a string ('soon')"]),
    ("cla: {phrase: ok}\ncal: {}\n",
     [".github/contributor-flow.yml:2: cal: unknown key (did you mean 'cla'? known keys: cla, core, sla)"]),
    ("cla: [\n", [".github/contributor-flow.yml:2: invalid YAML: while parsing a flow node expected "
                  "the node content, but found '<stream end>'"]),
    ("- cla\n", [".github/contributor-flow.yml:1: expected a mapping, got a list"]),
])
def test_a_broken_override_leaves_the_rules_untouched(text, expected):
    bundled = Rules.defaults(SECTIONS)
    rules, problems = merge_repo_override(bundled, text, ".github/contributor-flow.yml", SECTIONS)
    assert [str(p) for p in problems] == expected
    assert rules is bundled


def test_empty_override_changes_nothing():
    bundled = Rules.defaults(SECTIONS)
    assert merge_repo_override(bundled, "# nothing yet\n", "f", SECTIONS) == (bundled, [])


def test_rules_hand_out_copies():
    rules = Rules.defaults(SECTIONS)
    rules.section("cla")["exempt"].append("mutated")
    assert rules.section("cla")["exempt"] == ["dependabot[bot]"]


def test_alias_bombs_are_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}]" for i in range(1, 10)]
    rules, problems = merge_repo_override(Rules.defaults(SECTIONS), "\n".join(lines), "f", SECTIONS)
    assert [p.message for p in problems] == [
        "more than 100000 values once aliases are expanded; rules files are never that large"]


@pytest.mark.parametrize("depth", [51, 1000, 5000])
def test_a_file_nested_too_deep_is_a_problem_not_a_crash(depth):
    # ~2 KB of brackets made PyYAML recurse past Python's limit (RecursionError escaped).
    text = "cla:\n  exempt: " + "[" * depth + "]" * depth + "\n"
    rules, problems = merge_repo_override(Rules.defaults(SECTIONS), text, "f", SECTIONS)
    assert rules == Rules.defaults(SECTIONS)
    assert [str(p) for p in problems] == ["f:2: invalid YAML: nested more than 50 levels deep"]


def test_aliases_nesting_deeper_than_the_text_are_a_problem():
    # Each line is shallow, but every alias holds the previous one: 200 levels once expanded.
    lines = ["cla:", "  exempt: &a0 [x]"] + [f"a{i}: &a{i} [*a{i-1}]" for i in range(1, 200)]
    rules, problems = merge_repo_override(Rules.defaults(SECTIONS), "\n".join(lines), "f", SECTIONS)
    assert [p.message for p in problems] == ["nested more than 50 levels deep once aliases are expanded"]


def test_ordinary_nesting_is_still_read():
    text = "cla:\n  labels: {" + ", ".join(f"k{i}: v" for i in range(40)) + "}\n"
    rules, problems = merge_repo_override(Rules.defaults(SECTIONS), text, "f", SECTIONS)
    assert problems == [] and rules.section("cla")["labels"]["k39"] == "v"


def test_bundled_files_nested_too_deep_are_reported(tmp_path):
    write(tmp_path, "cla.yml", "exempt: " + "[" * 2000 + "]" * 2000 + "\n")
    rules, problems = load_bundled(tmp_path, SECTIONS)
    assert [p.message for p in problems] == ["invalid YAML: nested more than 50 levels deep"]
    assert rules.section("cla")["exempt"] == ["dependabot[bot]"]


@pytest.mark.parametrize("key, value", [("bot_login", "someone-else"), ("config_path", ".github/other.yml")])
def test_a_repository_cannot_set_who_the_bot_is_or_where_overrides_live(key, value):
    bundled = Rules.defaults(SECTIONS)
    text = f"cla:\n  exempt: [x]\ncore:\n  max_attempts: 3\n  {key}: {value}\n"
    rules, problems = merge_repo_override(bundled, text, ".github/contributor-flow.yml", SECTIONS)
    assert [(p.path, p.line) for p in problems] == [(f"core.{key}", 5)]
    assert "cannot be set by a repository" in problems[0].message
    assert rules is bundled                      # nothing of the file applied


@pytest.mark.parametrize("key", ["[a, b]", "{a: 1}"])
def test_a_key_that_is_no_string_under_core_is_reported_not_raised(key):
    """The deployment-only check reads ``core``'s keys before validation does: a key YAML
    makes a list or a mapping (``? [a, b]``) must become the same problem as anywhere else."""
    bundled = Rules.defaults(SECTIONS)
    text = f"core:\n  max_attempts: 3\n  ? {key}\n  : 1\n"
    rules, problems = merge_repo_override(bundled, text, ".github/contributor-flow.yml", SECTIONS)
    assert rules is bundled
    assert [p.line for p in problems] == [3] and "keys must be strings" in problems[0].message


def test_config_check_reports_a_pull_requests_file_with_such_a_key():
    """An outside contributor's pull request changing the file gets its failing check run
    (the handler raised instead, and the PR got no check at all)."""
    from bot.features.config_check import CHECK_NAME, report

    [check] = report("a" * 40, "o/r", ".github/contributor-flow.yml", "core:\n  ? {a: 1}\n  : 1\n")
    assert (check.name, check.conclusion) == (CHECK_NAME, "failure")
    assert "keys must be strings" in check.summary

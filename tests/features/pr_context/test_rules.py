"""The components section: bundled defaults are valid, overrides are strict."""
from __future__ import annotations

from pathlib import Path

from bot.core.impact import component_problems
from bot.features.pr_context.handlers import components_from
from bot.features.pr_context.rules import SECTION
from bot.rules.loader import validate_section_text

from .payloads import rules_with

BUNDLED = Path(__file__).resolve().parents[3] / "rules" / "components.yml"


def test_bundled_components_are_valid_and_consistent():
    value, problems = validate_section_text(BUNDLED.read_text(), SECTION, str(BUNDLED))
    assert problems == []
    assert value["card"] == "comment" and value["response_time"] == 72 * 3600
    assert component_problems(components_from(value)) == []
    assert rules_with().section("components") == value


def test_override_replaces_the_component_list():
    rules = rules_with({"components": {"components": [{"name": "web", "paths": ["web/"]}]}})
    assert [c["name"] for c in rules.section("components")["components"]] == ["web"]
    assert rules.section("components")["components"][0]["depends_on"] == []


def test_unknown_keys_and_bad_values_are_problems():
    text = "components:\n  - name: web\n    path: [web/]\ncard: sidebar\n"
    _, problems = validate_section_text(text, SECTION, "x.yml")
    messages = [f"{p.line}: {p.message}" for p in problems]
    assert any(m.startswith("3: unknown key (did you mean 'paths'?") for m in messages), messages
    assert any("required key is missing" in m for m in messages), messages
    assert any(m.startswith("4: expected one of comment, body") for m in messages), messages


def test_a_bad_path_glob_is_a_problem_and_the_override_is_not_applied():
    from bot.features import all_features
    from bot.rules.loader import merge_repo_override
    from bot.rules.registry import sections_of

    text = ("components:\n  components:\n    - name: gen\n"
            "      paths: [gen/ok/, 'gen/[z-a]*.py']\n")
    bundled = rules_with()
    rules, problems = merge_repo_override(bundled, text, ".github/contributor-flow.yml",
                                          sections_of(all_features()))
    assert [str(p) for p in problems] == [
        ".github/contributor-flow.yml:4: components.components[0].paths[1]: 'gen/[z-a]*.py'"
        " is not a valid path glob: character range z-a is reversed"]
    assert rules.section("components") == bundled.section("components")   # the good config stays


def test_owners_may_be_enterprise_managed_users_but_not_mentions():
    """An Enterprise Managed User's login ends in "_shortcode"; "@alice" is a mention, not a login."""
    text = ("components:\n  - name: web\n    paths: [web/]\n"
            "    owners: [alice_acme, acme/web-team, bob]\n")
    value, problems = validate_section_text(text, SECTION, "x.yml")
    assert problems == [] and value["components"][0]["owners"] == ["alice_acme", "acme/web-team", "bob"]
    _, problems = validate_section_text(text.replace("bob", "'@bob'"), SECTION, "x.yml")
    assert [p.line for p in problems] == [4]

"""The schema DSL: every problem carries file, key path and line; defaults are filled in."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from bot.rules.schema import (
    Any, Bool, Duration, Field, Float, Int, List, Map, Obj, OneOf, Problem, Str, validate,
)

ROUTING = Obj({
    "bug": Field(Obj({
        "rotation": Field(List(Obj({
            "login": Field(Str(pattern=r"[A-Za-z0-9-]+"), required=True),
            "weight": Field(Int(min=1), default=1),
        }), min_len=1), required=True),
    })),
})


def problems_for(yaml_text: str, schema, section: str = "cla", source: str = "rules/cla.yml") -> list[str]:
    node = yaml.compose(textwrap.dedent(yaml_text))
    value, problems = validate(node, schema, source, section)
    assert (value is None) == bool(problems)
    return [str(p) for p in problems]


BAD_CASES = [
    pytest.param(
        Obj({"phrase": Field(Str())}), "phrase: [a, b]\n",
        ["rules/cla.yml:1: cla.phrase: expected a string, got a list"], id="wrong-type"),
    pytest.param(
        Obj({"phrase": Field(Str())}), "# comment\n\nphrase: ok\nphrse: typo\n",
        ["rules/cla.yml:4: cla.phrse: unknown key (did you mean 'phrase'? known keys: phrase)"],
        id="unknown-key-with-line"),
    pytest.param(
        Obj({"routing": Field(ROUTING)}),
        """\
        routing:
          bug:
            rotation:
              - login: alice
              - login: bob
              - login: 42
        """,
        ["rules/cla.yml:6: cla.routing.bug.rotation[2].login: expected a string, got an integer (42)"],
        id="nested-list-item-path"),
    pytest.param(
        Obj({"routing": Field(ROUTING)}), "routing:\n  bug:\n    rotation:\n      - weight: 2\n",
        ["rules/cla.yml:4: cla.routing.bug.rotation[0].login: required key is missing"],
        id="required-missing"),
    pytest.param(
        Obj({"routing": Field(ROUTING)}), "routing:\n  bug:\n    rotation: []\n",
        ["rules/cla.yml:3: cla.routing.bug.rotation: expected at least 1 item(s), got 0"],
        id="min-len"),
    pytest.param(
        Obj({"n": Field(Int(min=0, max=10))}), "n: 11\n",
        ["rules/cla.yml:1: cla.n: 11 is above the maximum 10"], id="int-max"),
    pytest.param(
        Obj({"n": Field(Int())}), "n: true\n",
        ["rules/cla.yml:1: cla.n: expected an integer, got a boolean (true)"], id="bool-is-not-int"),
    pytest.param(
        Obj({"ratio": Field(Float(max=1))}), "ratio: '0.5'\n",
        ["rules/cla.yml:1: cla.ratio: expected a number, got a string ('0.5')"], id="float-type"),
    pytest.param(
        Obj({"on": Field(Bool())}), "on: 1\n",
        ["rules/cla.yml:1: cla.on: expected true or false, got an integer (1)"], id="bool"),
    pytest.param(
        Obj({"mode": Field(Str(choices=["strict", "lenient"]))}), "mode: loose\n",
        ["rules/cla.yml:1: cla.mode: expected one of strict, lenient; got 'loose'"], id="choices"),
    pytest.param(
        Obj({"login": Field(Str(pattern=r"[a-z]+"))}), "login: 'a b'\n",
        ["rules/cla.yml:1: cla.login: 'a b' does not match the pattern '[a-z]+'"], id="pattern"),
    pytest.param(
        Obj({"wait": Field(Duration())}), "wait: 72\n",
        ["rules/cla.yml:1: cla.wait: expected a duration such as 90s, 5m, 72h or 2d, got an integer (72)"],
        id="duration-needs-unit"),
    pytest.param(
        Obj({"labels": Field(Map(Str()))}), "labels:\n  bug: kind/bug\n  'good first': [x]\n",
        ["rules/cla.yml:3: cla.labels['good first']: expected a string, got a list"], id="map-value"),
    pytest.param(
        Obj({"who": Field(OneOf(Str(), List(Str())))}), "who: {a: 1}\n",
        ["rules/cla.yml:1: cla.who: expected a string or a list, got a mapping"], id="oneof-none-fits"),
    pytest.param(
        Obj({"who": Field(OneOf(Str(), List(Str())))}), "who: [a, 3]\n",
        ["rules/cla.yml:1: cla.who[1]: expected a string, got an integer (3)"], id="oneof-one-shape"),
    pytest.param(
        Obj({"a": Field(Int()), "b": Field(Int())}), "b: x\na: 1\na: 2\n",
        ["rules/cla.yml:1: cla.b: expected an integer, got a string ('x')",
         "rules/cla.yml:3: cla.a: duplicate key (first on line 2)"], id="duplicate-key-and-order"),
]


@pytest.mark.parametrize(("schema", "text", "expected"), BAD_CASES)
def test_bad_values_are_reported_with_file_path_and_line(schema, text, expected):
    assert problems_for(text, schema) == expected


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("5m", 300.0), ("72h", 259200.0), ("2d", 172800.0), ("1w", 604800.0),
    ("1h30m", 5400.0), ("1.5h", 5400.0),
])
def test_duration_parses_to_seconds(text, seconds):
    value, problems = validate({"wait": text}, Obj({"wait": Field(Duration())}), "f")
    assert problems == []
    assert value == {"wait": seconds}


def test_defaults_are_filled_in_nested_objects_and_checked_when_declared():
    schema = Obj({
        "phrase": Field(Str(), default="I have read the CLA"),
        "reminder": Field(Duration(), default="3d"),
        "labels": Field(Map(Str())),
        "exempt": Field(List(Str())),
        "comment": Field(Str()),
        "check": Field(Obj({"name": Field(Str(), default="CLA"), "strict": Field(Bool(), default=False)})),
    })
    value, problems = validate(yaml.compose("check: {strict: true}\n"), schema, "f")
    assert problems == []
    assert value == {
        "phrase": "I have read the CLA", "reminder": 259200.0, "labels": {}, "exempt": [],
        "comment": None, "check": {"name": "CLA", "strict": True},
    }
    with pytest.raises(ValueError, match="bad default for reminder"):
        Obj({"reminder": Field(Duration(), default=3)})


def test_defaults_are_not_shared_between_results():
    schema = Obj({"exempt": Field(List(Str()), default=["dependabot[bot]"])})
    first, _ = validate({}, schema, "f")
    first["exempt"].append("mutated")
    second, _ = validate({}, schema, "f")
    assert second == {"exempt": ["dependabot[bot]"]}


def test_plain_values_validate_without_line_numbers():
    value, problems = validate({"x": [1]}, Obj({"x": Field(List(Str()))}), "<override>", "cla")
    assert value is None
    assert problems == [Problem("<override>", "cla.x[0]", None, "expected a string, got an integer (1)")]
    assert str(problems[0]) == "<override>: cla.x[0]: expected a string, got an integer (1)"


def test_any_accepts_everything_and_merge_keys_resolve():
    schema = Obj({"base": Field(Any()), "item": Field(Obj({"a": Field(Int()), "b": Field(Int())}))})
    text = "base: &b {a: 1}\nitem:\n  <<: *b\n  b: 2\n"
    value, problems = validate(yaml.compose(text), schema, "f")
    assert problems == []
    assert value == {"base": {"a": 1}, "item": {"a": 1, "b": 2}}


def test_base_merges_mappings_key_by_key_and_replaces_lists_and_scalars():
    schema = Obj({
        "labels": Field(Map(Str())),
        "exempt": Field(List(Str())),
        "phrase": Field(Str(), default="agree"),
        "check": Field(Obj({"name": Field(Str(), default="CLA"), "strict": Field(Bool(), default=False)})),
    })
    base, _ = validate({"labels": {"bug": "kind/bug", "docs": "kind/docs"}, "exempt": ["a", "b"],
                        "phrase": "I agree", "check": {"name": "Legal"}}, schema, "bundled")
    value, problems = validate(
        yaml.compose("labels: {docs: area/docs, new: x}\nexempt: [c]\ncheck: {strict: true}\n"),
        schema, "override", base=base)
    assert problems == []
    assert value == {
        "labels": {"bug": "kind/bug", "docs": "area/docs", "new": "x"},
        "exempt": ["c"],
        "phrase": "I agree",
        "check": {"name": "Legal", "strict": True},
    }


def test_unreadable_tags_are_problems_not_crashes():
    value, problems = validate(yaml.compose("x: !!python/name:os.system ''\n"),
                               Obj({"x": Field(Str())}), "f")
    assert value is None
    assert len(problems) == 1 and problems[0].path == "x" and problems[0].line == 1

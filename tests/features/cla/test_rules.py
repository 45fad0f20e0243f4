"""The cla rules section: bundled defaults valid, repository overrides strict."""
from __future__ import annotations

import pytest
import yaml

from bot.features.cla.rules import SECTION
from bot.rules import validate

from .conftest import cla_rules


def test_bundled_defaults_match_the_schema_defaults():
    assert cla_rules().section("cla") == SECTION.schema.defaults()


@pytest.mark.parametrize("override, problem", [
    ({"mode": "cla-and-dco"}, "expected one of cla, dco, both"),
    ({"allowlist": {"team": ["acme/devs"]}}, "did you mean 'teams'"),
    ({"allowlist": {"teams": ["devs"]}}, "does not match"),
    ({"document_url": "cla.pdf"}, "does not match"),
    ({"version": 0}, "version: expected an integer or a string"),
    ({"phrase": "   "}, "does not match"),
])
def test_bad_overrides_are_reported(override, problem):
    _, problems = validate(yaml.safe_load(yaml.safe_dump(override)), SECTION.schema, "x")
    assert problem in " ".join(str(p) for p in problems)


def test_integer_version_is_accepted():
    assert cla_rules({"version": 3}).section("cla")["version"] == 3

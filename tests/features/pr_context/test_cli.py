"""python -m bot impact: the card's impact analysis, offline, for maintainers editing rules."""
from __future__ import annotations

import yaml

from bot.cli.main import main

from .payloads import COMPONENTS


def write(tmp_path, components):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "components.yml").write_text(yaml.safe_dump({"components": components}))
    return str(rules)


def test_impact_lists_direct_transitive_unmatched_and_owners(tmp_path, capsys):
    rules = write(tmp_path, COMPONENTS)
    (tmp_path / "CODEOWNERS").write_text("src/core/ @core-lead\nsetup.py @release\n")
    code = main(["impact", "--rules", rules, "--codeowners", str(tmp_path / "CODEOWNERS"),
                 "src/core/a.py", "src/x/y.py:src/cli/y.py", "setup.py"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        "direct      core  owners: alice, bob, core-lead  files: src/core/a.py",
        "direct      cli  owners: dave  files: src/cli/y.py",
        "transitive  parser  owners: carol  through: core",
        "unmatched   src/x/y.py",
        "unmatched   setup.py  codeowners: release",
    ]


def test_repo_override_and_problems(tmp_path, capsys):
    rules = write(tmp_path, COMPONENTS)
    config = tmp_path / "contributor-flow.yml"
    config.write_text(yaml.safe_dump({"components": {"components": [
        {"name": "web", "paths": ["web/"], "depends_on": ["ghost"]}]}}))
    code = main(["impact", "--rules", rules, "--config", str(config), "web/index.html"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.splitlines() == ["direct      web  owners: -  files: web/index.html"]
    assert "problem: component 'web' depends on unknown component 'ghost'" in captured.err

"""``python -m bot check-rules [PATH]``: validate rules files before they are deployed or pushed.

PATH is either a rules directory (every ``*.yml`` is checked as a bundled section file)
or one repository config file (checked as a ``.github/contributor-flow.yml`` laid over
the bundled rules, so its errors are exactly those the bot would report). Without PATH
the bundled ``rules/`` directory of this checkout is checked.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, TextIO

from .loader import RULES_SUFFIXES, load_bundled, merge_repo_override
from .registry import Section
from .schema import Problem


def default_rules_dir() -> Path:
    """The repository's ``rules/`` next to the ``bot`` package (a checkout or editable install)."""
    return Path(__file__).resolve().parents[2] / "rules"


def check_rules(path: str | None, sections: Iterable[Section], *,
                rules_dir: str | Path | None = None, out: TextIO | None = None) -> int:
    """Print every problem, one per line, and return 1; or print ``ok: N files checked``."""
    out = out if out is not None else sys.stdout
    sections = list(sections)
    bundled_dir = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    target = Path(path) if path is not None else bundled_dir
    problems: list[Problem]
    if target.is_dir():
        _, problems = load_bundled(target, sections)
        checked = sum(1 for p in target.iterdir() if p.is_file() and p.suffix in RULES_SUFFIXES)
    elif target.is_file():
        # The bundled rules' own problems matter here too: the bot would run with them.
        bundled, problems = load_bundled(bundled_dir, sections)
        text = target.read_text(encoding="utf-8", errors="replace")
        problems += merge_repo_override(bundled, text, str(target), sections)[1]
        checked = 1
    else:
        problems, checked = [Problem(str(target), "", None, "no such file or directory")], 0
    for problem in problems:
        print(problem, file=out)
    if problems:
        return 1
    print(f"ok: {checked} files checked", file=out)
    return 0

"""``python -m bot impact``: which components given paths touch, offline.

Maintainers editing ``components`` (bundled or in a repository's override) see at once
what a change to some paths would put on the card, and any inconsistency in the list.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.core.impact import ChangedFile, compute_impact, component_problems, owners_by_component, \
    parse_codeowners

from .rules import SECTION


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("impact", help="show the components that changed paths touch",
                       description="Print the components a change to PATH... touches directly, those "
                                   "depending on them, files in no component and owners, as the PR "
                                   "context card would. Exit 1 if the components have problems.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="changed file paths (old:new for a rename)")
    p.add_argument("--rules", default=None, help="rules directory (default: the bundled rules)")
    p.add_argument("--config", default=None, help="a repository's .github/contributor-flow.yml to apply")
    p.add_argument("--codeowners", default=None, help="a CODEOWNERS file to merge owners from")
    p.set_defaults(func=cmd_impact)


def _changed(arg: str) -> ChangedFile:
    old, sep, new = arg.partition(":")
    return ChangedFile(new, "renamed", old) if sep else ChangedFile(arg)


def cmd_impact(args: argparse.Namespace) -> int:
    from bot.features import all_features
    from bot.rules.loader import load_bundled, merge_repo_override
    from bot.rules.registry import sections_of
    from bot.settings import BUNDLED_RULES

    from .handlers import components_from

    sections = sections_of(all_features())
    rules, problems = load_bundled(args.rules or BUNDLED_RULES, sections)
    problems = [p for p in problems if Path(p.file).stem == SECTION.name]
    if args.config:
        rules, more = merge_repo_override(rules, Path(args.config).read_text(), args.config, sections)
        problems += more
    components = components_from(rules.section(SECTION.name))
    messages = [str(p) for p in problems] + component_problems(components)
    for message in messages:
        print(f"problem: {message}", file=sys.stderr)
    codeowners = parse_codeowners(Path(args.codeowners).read_text()) if args.codeowners else None
    impact = compute_impact(components, [_changed(p) for p in args.paths])
    owners = owners_by_component(components, impact, codeowners)

    def who(name: str) -> str:
        return ", ".join(owners.get(name, ())) or "-"

    for name in impact.direct:
        print(f"direct      {name}  owners: {who(name)}  files: {', '.join(impact.files[name])}")
    for name in impact.transitive:
        print(f"transitive  {name}  owners: {who(name)}  through: {impact.via[name]}")
    for path in impact.unmatched:
        print(f"unmatched   {path}" + (f"  codeowners: {', '.join(codeowners.owners_of(path))}"
                                        if codeowners and codeowners.owners_of(path) else ""))
    return 1 if messages else 0

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

    def read(path: str, option: str) -> str | None:
        try:
            return Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            print(f"{option} {path}: {exc.strerror or exc}", file=sys.stderr)
            return None

    config_text = read(args.config, "--config") if args.config else None
    codeowners_text = read(args.codeowners, "--codeowners") if args.codeowners else None
    if (args.config and config_text is None) or (args.codeowners and codeowners_text is None):
        return 1
    sections = sections_of(all_features())
    rules_dir = args.rules or BUNDLED_RULES
    rules, problems = load_bundled(rules_dir, sections)
    # This section's own problems, and the directory's (one that does not exist at all).
    problems = [p for p in problems
                if Path(p.file).stem == SECTION.name or Path(p.file) == Path(rules_dir)]
    if config_text is not None:
        rules, more = merge_repo_override(rules, config_text, args.config, sections)
        problems += more
    components = components_from(rules.section(SECTION.name))
    messages = [str(p) for p in problems] + component_problems(components)
    for message in messages:
        print(f"problem: {message}", file=sys.stderr)
    codeowners = parse_codeowners(codeowners_text) if codeowners_text is not None else None
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

"""Loading rules: bundled defaults from ``rules/*.yml``, then a repository's override.

Both steps return ``(rules, problems)`` rather than raising: the bundled files are
checked by CI and at start-up (the caller decides to refuse to start), and a broken
override must never take a repository's bot down: the caller keeps the rules it had
and tells the repository what is wrong.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from .registry import Section, with_core
from .schema import Field, Obj, Problem, validate

RULES_SUFFIXES = (".yml", ".yaml")


class Rules(Mapping[str, dict]):
    """Validated rules, section name -> plain dict with every default filled in.

    Reads hand out deep copies: one Rules object is shared by every event of a
    repository (and the bundled one by all repositories), so a feature that edits the
    dict it was given must not change what the next event sees.
    """

    def __init__(self, values: Mapping[str, dict]) -> None:
        self._values = copy.deepcopy(dict(values))

    @classmethod
    def defaults(cls, sections: Iterable[Section]) -> "Rules":
        return cls({name: s.schema.defaults() or {} for name, s in with_core(sections).items()})

    def __getitem__(self, name: str) -> dict:
        return copy.deepcopy(self._values[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Rules({self._values!r})"

    def section(self, name: str) -> dict:
        return self[name]

    def enabled(self, name: str) -> bool:
        """Whether a feature runs: its own switch, and the bot-wide ``core.enabled``."""
        own = bool(self._values[name]["enabled"])
        return own and (name == "core" or bool(self._values["core"]["enabled"]))

    def as_dict(self) -> dict[str, dict]:
        return copy.deepcopy(self._values)


# Rules nest a handful of levels (section, key, list, item, key...). PyYAML composes and the
# validator walks the tree recursively, so a repository's 2 KB file of 1,000 nested brackets
# would otherwise end in a RecursionError, not a report.
MAX_DEPTH = 50
# Validation walks aliases as many times as they are used, so nested aliases ("billion
# laughs") in a repository's file could otherwise keep the bot busy indefinitely.
MAX_VALUES = 100_000


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _DepthLimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses to compose past ``MAX_DEPTH`` levels of nesting, with the
    line where it happens."""

    _depth = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(problem=f"nested more than {MAX_DEPTH} levels deep",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, source: str) -> tuple[Node | None, list[Problem]]:
    """The node tree of one YAML document (None when empty), or the syntax error as a Problem."""
    try:
        loader = _DepthLimitedLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        return None, [Problem(source, "", line, f"invalid YAML: {message}")]
    except yaml.YAMLError as exc:
        return None, [Problem(source, "", None, f"invalid YAML: {exc}")]
    except RecursionError:  # a safety net: the depth limit above comes first
        return None, [Problem(source, "", None, "invalid YAML: nested too deeply")]
    if node is not None:
        limit = _beyond_limits(node)
        if limit:
            return None, [Problem(source, "", None, limit)]
    return node, []


def _beyond_limits(root: Node) -> str | None:
    """Why the tree is too big once aliases are expanded, if it is: too many values, or an
    alias of an alias... nesting deeper than the text itself does."""
    stack, seen = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            return (f"more than {MAX_VALUES} values once aliases are expanded; "
                    "rules files are never that large")
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep once aliases are expanded"
        if isinstance(node, MappingNode):
            stack.extend((part, depth + 1) for pair in node.value for part in pair)
        elif not isinstance(node, ScalarNode):
            stack.extend((child, depth + 1) for child in node.value)
    return None


def load_bundled(rules_dir: str | Path, sections: Iterable[Section]) -> tuple[Rules, list[Problem]]:
    """Rules from ``<rules_dir>/<section>.yml``. A missing file means that section's
    defaults; a broken one is reported and its section falls back to the defaults too."""
    indexed = with_core(sections)
    directory = Path(rules_dir)
    values = dict(Rules.defaults(indexed.values()).as_dict())
    if not directory.is_dir():
        return Rules(values), [Problem(str(directory), "", None, "rules directory not found")]
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in sorted(p for p in directory.iterdir() if p.suffix in RULES_SUFFIXES and p.is_file()):
        name, source = path.stem, str(path)
        section = indexed.get(name)
        if section is None:
            known = ", ".join(sorted(indexed))
            problems.append(Problem(source, "", None, f"no feature reads a section named {name!r} "
                                                      f"(known sections: {known})"))
            continue
        if name in seen:
            problems.append(Problem(source, "", None, f"section {name!r} is also in {seen[name]}"))
            continue
        seen[name] = path
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(Problem(source, "", None, f"not UTF-8 text (byte {exc.start})"))
            continue
        except OSError as exc:
            problems.append(Problem(source, "", None, f"cannot be read: {exc.strerror or exc}"))
            continue
        value, found = validate_section_text(text, section, source)
        problems += found
        if not found:
            values[name] = value
    return Rules(values), problems


def validate_section_text(text: str, section: Section, source: str) -> tuple[dict, list[Problem]]:
    """One bundled file: the section's own keys at the top level."""
    node, problems = parse_yaml(text, source)
    if problems:
        return {}, problems
    value, problems = validate(node if node is not None else {}, section.schema, source, section.name)
    return value, problems


def merge_repo_override(bundled: Rules, text: str, source: str,
                        sections: Iterable[Section]) -> tuple[Rules, list[Problem]]:
    """``bundled`` with a repository's config file laid over it (top-level keys are
    section names). With any problem the result is ``bundled`` itself, untouched: a
    half-applied override is worse than none."""
    indexed = with_core(sections)
    node, problems = parse_yaml(text, source)
    if problems:
        return bundled, problems
    if node is None:  # an empty (or all-comments) file changes nothing
        return bundled, []
    problems = _deployment_only(node, source)
    if problems:
        return bundled, problems
    whole_file = Obj({name: Field(section.schema) for name, section in indexed.items()})
    base: dict[str, Any] = bundled.as_dict()
    value, problems = validate(_empty_sections_as_mappings(node), whole_file, source, base=base)
    if problems:
        return bundled, problems
    return Rules(value), []


# Settings that are the deployment's, not a repository's: who the bot is (its own events are
# ignored by this login: a wrong one would make it answer itself) and where overrides live.
DEPLOYMENT_ONLY = {"bot_login": "the App's login, set by the deployment",
                   "config_path": "where overrides live is set by the deployment"}


def _deployment_only(node: Node, source: str) -> list[Problem]:
    problems = []
    for key, value in node.value if isinstance(node, MappingNode) else ():
        if not isinstance(key, ScalarNode) or key.value != "core" or not isinstance(value, MappingNode):
            continue
        for field_key, _ in value.value:
            # A key YAML makes a list or mapping (``? [a, b]``) holds a list: not hashable,
            # and no setting's name; validation reports it.
            if not isinstance(field_key, ScalarNode):
                continue
            why = DEPLOYMENT_ONLY.get(field_key.value)
            if why:
                problems.append(Problem(source, f"core.{field_key.value}", field_key.start_mark.line + 1,
                                        f"cannot be set by a repository ({why})"))
    return problems


def _empty_sections_as_mappings(node: Node) -> Node:
    """``cla:`` with every line under it commented out means "no change", not an error."""
    if not isinstance(node, MappingNode):
        return node
    pairs = []
    for key, value in node.value:
        if isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:null":
            value = MappingNode("tag:yaml.org,2002:map", [], value.start_mark, value.end_mark)
        pairs.append((key, value))
    return MappingNode(node.tag, pairs, node.start_mark, node.end_mark, node.flow_style)

"""Which components a change touches, who owns them, and what depends on them.

Pure functions over paths and declared components: no I/O, so every rule (glob
matching, CODEOWNERS precedence, transitive dependents) is tested table-driven.

Globs follow gitignore, the syntax CODEOWNERS already taught maintainers:
``*`` and ``?`` never cross ``/``; ``**`` spans directories (``**/x``, ``a/**/b``,
``a/**``); a leading ``/`` or a ``/`` inside the pattern anchors it to the repository
root, otherwise it matches at any depth (``*.md``, ``docs``); a pattern that names a
directory matches everything below it; a trailing ``/`` matches directories only.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

__all__ = [
    "ChangedFile", "Component", "Impact", "CodeOwners", "Glob", "compile_glob", "glob_match",
    "parse_codeowners", "touched_paths", "compute_impact", "dependents_of", "component_problems",
    "owners_by_component",
]


# --- globs ---------------------------------------------------------------------

@dataclass(frozen=True)
class Glob:
    pattern: str
    regex: re.Pattern[str]
    dir_only: bool
    covers_contents: bool = True

    def matches(self, path: str) -> bool:
        """The path itself, or one of its parent directories (which covers the path)."""
        path = path.strip("/")
        parts = path.split("/")
        if not self.dir_only and self.regex.fullmatch(path):
            return True
        if not self.covers_contents:
            return False
        # Parent directories, shortest first; a match on a directory owns what is inside.
        return any(self.regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts)))


def _translate(body: str, char_classes: bool) -> str:
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if c == "*":
            j = i
            while j < n and body[j] == "*":
                j += 1
            stars = j - i
            at_start = i == 0 or body[i - 1] == "/"
            at_end = j == n or body[j] == "/"
            if stars >= 2 and at_start and at_end:
                if j == n:          # "a/**": everything inside a
                    out.append(".*")
                else:               # "**/b" or "a/**/b": zero or more directories
                    out.append("(?:[^/]+/)*")
                    j += 1          # the slash is part of the directory run
            else:                   # other runs of stars are plain stars (gitignore)
                out.append("[^/]*")
            i = j
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[" and char_classes:
            negate = body[i + 1:i + 2] in ("!", "^")
            start = i + 2 if negate else i + 1
            end = body.find("]", start + 1)  # a "]" first in the class is literal
            if end == -1:
                out.append(re.escape(c))
            else:
                inner = body[start:end].replace("\\", "\\\\").replace("^", "\\^")
                out.append(f"[^/{inner}]" if negate else f"[{inner}]")
                i = end + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, *, char_classes: bool = True) -> Glob:
    """A gitignore-style pattern; ``char_classes=False`` reads ``[`` literally (CODEOWNERS)."""
    text = pattern.strip()
    dir_only = text.endswith("/")
    body = text.rstrip("/")
    anchored = body.startswith("/") or "/" in body
    body = body.lstrip("/")
    regex = _translate(body, char_classes)
    if not anchored:
        regex = "(?:[^/]+/)*" + regex
    # GitHub's one departure from gitignore: "docs/*" owns the files directly in docs/,
    # not those in its subdirectories.
    covers_contents = body.rsplit("/", 1)[-1] != "*" or "/" not in body
    return Glob(pattern, re.compile(regex, re.S), dir_only, covers_contents)


def glob_match(pattern: str, path: str, *, char_classes: bool = True) -> bool:
    return compile_glob(pattern, char_classes=char_classes).matches(path)


# --- CODEOWNERS ---------------------------------------------------------------

@dataclass(frozen=True)
class CodeOwnersRule:
    pattern: str
    owners: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class CodeOwners:
    rules: tuple[CodeOwnersRule, ...] = ()
    problems: tuple[str, ...] = ()

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The last matching rule wins, even when it lists no owner (that unsets them)."""
        for rule in reversed(self.rules):
            if glob_match(rule.pattern, path, char_classes=False):
                return rule.owners
        return ()


_OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9_.-]+)?|[^@\s|`]+@[^@\s|`]+\.[^@\s|`]+")


def parse_codeowners(text: str) -> CodeOwners:
    """Rules in file order. Owners are kept as written without the ``@`` (``org/team`` for
    teams); e-mail owners are kept but cannot be requested as reviewers."""
    rules: list[CodeOwnersRule] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *rest = _split_unescaped(line)
        if pattern.startswith("!"):
            problems.append(f"line {number}: negated patterns are not supported by GitHub")
            continue
        owners: list[str] = []
        for token in rest:
            if token.startswith("#"):  # an inline comment ends the owner list
                break
            if not _OWNER.fullmatch(token):
                problems.append(f"line {number}: {token!r} is not a user, team or e-mail")
                continue
            owners.append(token[1:] if token.startswith("@") else token)
        rules.append(CodeOwnersRule(pattern, tuple(owners), number))
    return CodeOwners(tuple(rules), tuple(problems))


def _split_unescaped(line: str) -> list[str]:
    """Split on whitespace, except a backslash-escaped space inside a pattern."""
    return [t.replace("\\ ", " ") for t in re.split(r"(?<!\\)\s+", line) if t]


# --- components and impact ------------------------------------------------------

@dataclass(frozen=True)
class Component:
    name: str
    paths: tuple[str, ...]
    owners: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def covers(self, path: str) -> bool:
        return any(glob_match(p, path) for p in self.paths)


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str = "modified"   # added|removed|modified|renamed|copied|changed|unchanged
    previous_path: str | None = None


def touched_paths(files: Iterable[ChangedFile]) -> list[str]:
    """Every path a change affects: a rename moves code out of one place and into another,
    so both its old and new path count; a deleted file still touches its component."""
    seen: dict[str, None] = {}
    for f in files:
        seen.setdefault(f.path, None)
        if f.previous_path and f.previous_path != f.path:
            seen.setdefault(f.previous_path, None)
    return list(seen)


@dataclass(frozen=True)
class Impact:
    direct: tuple[str, ...]                     # components whose paths the change touches
    transitive: tuple[str, ...]                 # components depending on those, not direct
    via: Mapping[str, str] = field(default_factory=dict)  # transitive -> what it depends on
    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # direct -> its paths
    unmatched: tuple[str, ...] = ()             # paths in no component

    @property
    def all(self) -> tuple[str, ...]:
        return self.direct + self.transitive


def dependents_of(components: Sequence[Component], roots: Iterable[str]) -> dict[str, str]:
    """Every component that depends, directly or through others, on one of ``roots``,
    mapped to the component it was reached through. Cycles are harmless: each component
    is visited once, and the roots themselves are never reported as their own dependents."""
    reverse: dict[str, list[str]] = {}
    for comp in components:
        for dep in comp.depends_on:
            reverse.setdefault(dep, []).append(comp.name)
    roots = list(roots)
    seen = set(roots)
    via: dict[str, str] = {}
    queue = deque(roots)
    while queue:
        current = queue.popleft()
        for dependent in reverse.get(current, ()):
            if dependent not in seen:
                seen.add(dependent)
                via[dependent] = current
                queue.append(dependent)
    return via


def compute_impact(components: Sequence[Component], files: Iterable[ChangedFile]) -> Impact:
    """Direct components in declaration order, then their transitive dependents (also in
    declaration order, so the card reads the same on every push)."""
    by_component: dict[str, list[str]] = {}
    unmatched: list[str] = []
    for path in touched_paths(files):
        hit = False
        for comp in components:
            if comp.covers(path):
                by_component.setdefault(comp.name, []).append(path)
                hit = True
        if not hit:
            unmatched.append(path)
    order = [c.name for c in components]
    direct = tuple(name for name in order if name in by_component)
    via = dependents_of(components, direct)
    transitive = tuple(name for name in order if name in via)
    return Impact(direct=direct, transitive=transitive, via={n: via[n] for n in transitive},
                  files={n: tuple(by_component[n]) for n in direct}, unmatched=tuple(unmatched))


def owners_by_component(components: Sequence[Component], impact: Impact,
                        codeowners: CodeOwners | None = None) -> dict[str, tuple[str, ...]]:
    """Declared owners, then the CODEOWNERS owners of the component's changed files
    (first seen first, no duplicates). Transitive components have no changed files, so
    only their declared owners. Paths in no component appear under the key ``""``."""
    declared = {c.name: c.owners for c in components}
    result: dict[str, tuple[str, ...]] = {}
    for name in impact.all:
        owners = dict.fromkeys(declared.get(name, ()))
        if codeowners is not None:
            for path in impact.files.get(name, ()):
                owners.update(dict.fromkeys(codeowners.owners_of(path)))
        result[name] = tuple(owners)
    if codeowners is not None and impact.unmatched:
        other: dict[str, None] = {}
        for path in impact.unmatched:
            other.update(dict.fromkeys(codeowners.owners_of(path)))
        if other:
            result[""] = tuple(other)
    return result


def component_problems(components: Sequence[Component]) -> list[str]:
    """Mistakes a schema cannot see: duplicate names, dependencies on unknown components."""
    problems: list[str] = []
    names: set[str] = set()
    for comp in components:
        if comp.name in names:
            problems.append(f"component {comp.name!r} is declared twice")
        names.add(comp.name)
        if not comp.paths:
            problems.append(f"component {comp.name!r} has no paths")
    for comp in components:
        for dep in comp.depends_on:
            if dep not in names:
                problems.append(f"component {comp.name!r} depends on unknown component {dep!r}")
            elif dep == comp.name:
                problems.append(f"component {comp.name!r} depends on itself")
    return problems

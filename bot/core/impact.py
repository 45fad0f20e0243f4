"""Which components a change touches, who owns them, and what depends on them.

Pure functions over paths and declared components: no I/O, so every rule (glob
matching, CODEOWNERS precedence, transitive dependents) is tested table-driven.

Globs follow gitignore, the syntax CODEOWNERS already taught maintainers:
``*`` and ``?`` never cross ``/``; ``**`` spans directories (``**/x``, ``a/**/b``,
``a/**``); a leading ``/`` or a ``/`` inside the pattern anchors it to the repository
root, otherwise it matches at any depth (``*.md``, ``docs``); a pattern that names a
directory matches everything below it; a trailing ``/`` matches directories only;
``[...]`` is a bracket expression (``[!...]`` negates, ``[[:digit:]]`` names a class). A
malformed pattern (reversed range, unclosed bracket) matches nothing and says why.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterable, Mapping, Sequence

__all__ = [
    "ChangedFile", "Component", "Impact", "CodeOwners", "Glob", "GlobError", "compile_glob",
    "glob_match", "glob_problem", "parse_codeowners", "touched_paths", "compute_impact",
    "dependents_of", "component_problems", "owners_by_component", "unique_owners",
]


# --- globs ---------------------------------------------------------------------

class GlobError(ValueError):
    """A pattern that cannot mean what it says (the rules check reports it)."""


# A pattern with a problem matches nothing, as git treats a malformed pattern: one bad
# path in a config costs that path, never the whole delivery.
_NEVER = re.compile(r"(?!)")

# POSIX classes inside brackets ("[[:digit:]]"), as gitignore (wildmatch) reads them.
_NAMED_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v", "upper": "A-Z", "xdigit": "0-9A-Fa-f",
}


@dataclass(frozen=True)
class Glob:
    pattern: str
    regex: re.Pattern[str]
    dir_only: bool
    covers_contents: bool = True
    problem: str = ""           # why the pattern matches nothing; "" for a good pattern
    # ``regex`` on the path itself, or on one of its parent directories (which owns what is
    # inside): one match per path, not one per directory level, as a PR's 3,000 files
    # against every component's globs would otherwise cost seconds.
    path_regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A parent directory is the text before one of the path's slashes, and something
        # follows every slash of a path stripped of its outer ones.
        inside = "/.+" if self.covers_contents else None
        if self.dir_only:
            whole = f"(?:{self.regex.pattern}){inside}" if inside else _NEVER.pattern
        else:
            whole = f"(?:{self.regex.pattern})(?:{inside})?" if inside else self.regex.pattern
        object.__setattr__(self, "path_regex", re.compile(whole, re.S))

    def matches(self, path: str) -> bool:
        """The path itself, or one of its parent directories (which covers the path)."""
        return self.path_regex.fullmatch(path.strip("/")) is not None


def _char_class(body: str, i: int) -> tuple[str, int]:
    """The regex for the bracket expression opening at ``body[i]``, and the index after it.
    Read as wildmatch reads it: ``!`` or ``^`` first negates, a ``]`` first (after those) is
    a member, ``\\`` escapes, ``a-z`` is a range, ``[:name:]`` a POSIX class; it never
    matches ``/``."""
    n = len(body)
    j = i + 1
    negate = j < n and body[j] in "!^"
    if negate:
        j += 1
    members: list[str] = []
    first = True
    while j < n and (first or body[j] != "]"):
        first = False
        if body.startswith("[:", j) and body.find(":]", j + 2) != -1:
            end = body.find(":]", j + 2)
            name = body[j + 2:end]
            if name not in _NAMED_CLASSES:
                raise GlobError(f"unknown character class [:{name}:]")
            members.append(_NAMED_CLASSES[name])
            j = end + 2
            continue
        low, j = _class_char(body, j)
        if j + 1 < n and body[j] == "-" and body[j + 1] != "]":
            high, j = _class_char(body, j + 1)
            if high < low:
                raise GlobError(f"character range {low}-{high} is reversed")
            members.append(f"{re.escape(low)}-{re.escape(high)}")
        else:
            members.append(re.escape(low))
    if j >= n:
        raise GlobError("unclosed [ (write \\[ for a literal bracket)")
    inner = "".join(members)
    return (f"[^/{inner}]" if negate else f"(?!/)[{inner}]"), j + 1


def _class_char(body: str, j: int) -> tuple[str, int]:
    if body[j] == "\\" and j + 1 < len(body):
        return body[j + 1], j + 2
    return body[j], j + 1


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
            regex, i = _char_class(body, i)
            out.append(regex)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, *, char_classes: bool = True) -> Glob:
    """A gitignore-style pattern; ``char_classes=False`` reads ``[`` literally (CODEOWNERS).
    Never raises: a malformed pattern gives a Glob that matches nothing and says why."""
    text = pattern.strip()
    dir_only = text.endswith("/")
    body = text.rstrip("/")
    anchored = body.startswith("/") or "/" in body
    body = body.lstrip("/")
    # GitHub's one departure from gitignore: "docs/*" owns the files directly in docs/,
    # not those in its subdirectories.
    covers_contents = body.rsplit("/", 1)[-1] != "*" or "/" not in body
    try:
        regex = _translate(body, char_classes)
        compiled = re.compile(regex if anchored else "(?:[^/]+/)*" + regex, re.S)
    except (GlobError, re.error) as exc:
        return Glob(pattern, _NEVER, dir_only, covers_contents, problem=str(exc))
    return Glob(pattern, compiled, dir_only, covers_contents)


@lru_cache(maxsize=1024)
def any_glob(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching a path that one of ``patterns`` matches: a component's globs
    are tried in one call per path (no capturing group, whose bookkeeping would cost more
    than the calls saved)."""
    good = [glob.path_regex.pattern for glob in map(compile_glob, patterns) if not glob.problem]
    return re.compile("|".join(f"(?:{regex})" for regex in good) or _NEVER.pattern, re.S)


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used as a component path, or None when it is fine."""
    return compile_glob(pattern).problem or None


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
        path = path.strip("/")
        for regex, owners in self._last_first:
            if regex.fullmatch(path):
                return owners
        return ()

    @cached_property
    def _last_first(self) -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
        return tuple((compile_glob(rule.pattern, char_classes=False).path_regex, rule.owners)
                     for rule in reversed(self.rules))


# A login (an Enterprise Managed User's ends in "_shortcode", as in bot.core.owners), an
# org/team, or an e-mail address.
_OWNER = re.compile(r"@[A-Za-z0-9][A-Za-z0-9-]*(?:_[A-Za-z0-9]{1,20}|/[A-Za-z0-9_.-]+)?"
                    r"|[^@\s|`]+@[^@\s|`]+\.[^@\s|`]+")


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
        return any_glob(self.paths).fullmatch(path.strip("/")) is not None


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
    # Changed files, not paths: a rename is one file with two paths. Direct -> how many of
    # its files the change has; "" -> files with a path in no component. Empty: count paths.
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def all(self) -> tuple[str, ...]:
        return self.direct + self.transitive

    def file_count(self, name: str) -> int:
        """Changed files touching direct component ``name`` ("" for no component)."""
        if name in self.counts:
            return self.counts[name]
        return len(self.unmatched if name == "" else self.files.get(name, ()))


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
    files = list(files)
    by_component: dict[str, list[str]] = {}
    unmatched: list[str] = []
    covering: dict[str, list[str]] = {}
    for path in touched_paths(files):
        covering[path] = [comp.name for comp in components if comp.covers(path)]
        for name in covering[path]:
            by_component.setdefault(name, []).append(path)
        if not covering[path]:
            unmatched.append(path)
    counts: dict[str, int] = {}
    for f in files:
        names = {name for path in touched_paths([f]) for name in covering[path] or [""]}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    order = [c.name for c in components]
    direct = tuple(name for name in order if name in by_component)
    via = dependents_of(components, direct)
    transitive = tuple(name for name in order if name in via)
    return Impact(direct=direct, transitive=transitive, via={n: via[n] for n in transitive},
                  files={n: tuple(by_component[n]) for n in direct}, unmatched=tuple(unmatched),
                  counts=counts)


def owners_by_component(components: Sequence[Component], impact: Impact,
                        codeowners: CodeOwners | None = None) -> dict[str, tuple[str, ...]]:
    """Declared owners, then the CODEOWNERS owners of the component's changed files
    (first seen first, no duplicates). Transitive components have no changed files, so
    only their declared owners. Paths in no component appear under the key ``""``."""
    declared = {c.name: c.owners for c in components}
    result: dict[str, tuple[str, ...]] = {}
    for name in impact.all:
        owners = list(declared.get(name, ()))
        if codeowners is not None:
            for path in impact.files.get(name, ()):
                owners += codeowners.owners_of(path)
        result[name] = unique_owners(owners)
    if codeowners is not None and impact.unmatched:
        other = unique_owners(o for path in impact.unmatched for o in codeowners.owners_of(path))
        if other:
            result[""] = other
    return result


def unique_owners(owners: Iterable[str]) -> tuple[str, ...]:
    """Each owner once, in first-seen order and spelling: GitHub logins and team slugs
    ignore case, so "alice" in components.yml and "@Alice" in CODEOWNERS are one person."""
    seen: dict[str, str] = {}
    for owner in owners:
        seen.setdefault(owner.lower(), owner)
    return tuple(seen.values())


def component_problems(components: Sequence[Component]) -> list[str]:
    """Mistakes a schema cannot see: duplicate names, dependencies on unknown components
    (bad globs too, which the rules schema also reports)."""
    problems: list[str] = []
    names: set[str] = set()
    for comp in components:
        if comp.name in names:
            problems.append(f"component {comp.name!r} is declared twice")
        names.add(comp.name)
        if not comp.paths:
            problems.append(f"component {comp.name!r} has no paths")
        for pattern in comp.paths:
            if (problem := glob_problem(pattern)) is not None:
                problems.append(f"component {comp.name!r}: path {pattern!r} is not a valid glob: {problem}")
    for comp in components:
        for dep in comp.depends_on:
            if dep not in names:
                problems.append(f"component {comp.name!r} depends on unknown component {dep!r}")
            elif dep == comp.name:
                problems.append(f"component {comp.name!r} depends on itself")
    return problems


# The files API lists at most this many files of a pull request.
GITHUB_FILE_LIMIT = 3000


def listing_incomplete(listed: int, total: int) -> bool:
    """Whether the files API left some of the PR's changed files out: it stops at 3,000,
    and ``total`` is the PR's own ``changed_files``."""
    return total > listed or listed >= GITHUB_FILE_LIMIT

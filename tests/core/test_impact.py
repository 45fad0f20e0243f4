"""Impact analysis: globs, CODEOWNERS precedence, transitive dependents, renames."""
from __future__ import annotations

import pytest

from bot.core.impact import (
    ChangedFile, Component, compute_impact, component_problems, dependents_of, glob_match,
    glob_problem, owners_by_component, parse_codeowners, touched_paths,
)


@pytest.mark.parametrize("pattern, path, expected", [
    # unanchored names match at any depth, and cover what is inside a directory
    ("*.md", "README.md", True),
    ("*.md", "docs/guide/intro.md", True),
    ("*.md", "docs/guide/intro.mdx", False),
    ("docs", "docs/guide/intro.md", True),
    ("docs", "src/docs/x.py", True),
    ("docs", "documentation/x.py", False),
    # a slash anchors to the root
    ("/docs", "src/docs/x.py", False),
    ("/docs", "docs/x.py", True),
    ("src/parser", "src/parser/lexer.py", True),
    ("src/parser", "lib/src/parser/lexer.py", False),
    ("src/parser", "src/parser_utils.py", False),
    # trailing slash: directories only
    ("build/", "build", False),
    ("build/", "build/out.o", True),
    ("build/", "a/build/out.o", True),
    ("/build/", "a/build/out.o", False),
    # * and ? stay inside one segment
    ("src/*.py", "src/a.py", True),
    ("src/*.py", "src/sub/a.py", False),
    ("src/?.py", "src/a.py", True),
    ("src/?.py", "src/ab.py", False),
    # "docs/*" owns direct children only (GitHub's rule)
    ("docs/*", "docs/getting-started.md", True),
    ("docs/*", "docs/build-app/troubleshooting.md", False),
    # ** spans directories
    ("**/logs", "logs/a.txt", True),
    ("**/logs", "deeply/nested/logs/a.txt", True),
    ("src/**", "src/a/b/c.py", True),
    ("src/**", "src", False),
    ("src/**/test_*.py", "src/test_a.py", True),
    ("src/**/test_*.py", "src/x/y/test_a.py", True),
    ("src/**/test_*.py", "src/x/y/a_test.py", False),
    ("**/*.proto", "api/v1/service.proto", True),
    ("**", "anything/at/all", True),
    ("src/a**b", "src/axxb", True),   # stars not alone in a segment are plain stars
    ("src/a**b", "src/ax/xb", False),
    # character classes and escapes
    ("src/[ab].py", "src/a.py", True),
    ("src/[ab].py", "src/c.py", False),
    ("src/[!ab].py", "src/c.py", True),
    ("src/[!ab].py", "src/a.py", False),
    ("src/\\*.py", "src/*.py", True),
    ("src/\\*.py", "src/a.py", False),
    ("a+b(c).txt", "a+b(c).txt", True),   # regex characters are literal
    # bracket expressions as gitignore reads them: a "]" first is a member, also negated
    ("src/[!]x].py", "src/a.py", True),
    ("src/[!]x].py", "src/].py", False),
    ("src/[!]x].py", "src/x.py", False),
    ("src/[^]x].py", "src/].py", False),
    ("src/[]x].py", "src/].py", True),
    ("src/[]x].py", "src/a.py", False),
    ("src/[a-c].py", "src/b.py", True),
    ("src/[a-].py", "src/-.py", True),     # "-" last is literal
    ("src/[\\]].py", "src/].py", True),   # escaped inside the brackets
    ("v[[:digit:]].txt", "v1.txt", True),
    ("v[[:digit:]].txt", "va.txt", False),
    ("a[&&~|]b", "a~b", True),             # never a regex set operation
    ("a[+-0]b", "a/b", False),              # no class ever matches "/"
    ("a[!x]b", "a/b", False),
    # outer slashes of a path do not count; a directory match covers every depth below it
    ("docs", "/docs/a.md/", True),
    ("src/**", "src//x", True),
    ("docs/*", "docs/a/", True),
    ("/tools/*", "tools/x/y", False),
    ("build/", "a//build/o", False),       # an empty segment is no directory name
])
def test_glob(pattern, path, expected):
    assert glob_match(pattern, path) is expected


@pytest.mark.parametrize("pattern, problem", [
    ("gen/[z-a]*.py", "character range z-a is reversed"),
    ("gen/[a", "unclosed ["),
    ("gen/[]", "unclosed ["),
    ("x[[:nope:]]", "unknown character class [:nope:]"),
    ("gen/[a-z]*.py", None),
    ("gen/\\[a", None),
])
def test_bad_globs_say_why_and_match_nothing(pattern, problem):
    found = glob_problem(pattern)
    assert (found is None) if problem is None else (problem in found), found
    if problem:
        assert glob_match(pattern, "gen/x.py") is False   # never raises


def test_a_component_with_a_malformed_glob_still_matches_by_its_good_ones():
    component = Component(name="gen", paths=("gen/[z-a]*.py", "docs/"))
    assert component.covers("docs/a.md")
    assert not component.covers("gen/a.py")
    assert not Component(name="bad", paths=("gen/[z-a]*.py",)).covers("gen/a.py")


def test_codeowners_brackets_are_literal():
    rules = parse_codeowners("src/[ab].py @x\n")
    assert rules.owners_of("src/a.py") == ()
    assert rules.owners_of("src/[ab].py") == ("x",)


CODEOWNERS = """\
# default owners
*       @org/everyone
*.js    @js-owner # inline comment
/docs/  docs@example.com
apps/   @octocat
/apps/github
/build/logs/ @doctocat @org/infra
"""


@pytest.mark.parametrize("path, owners", [
    ("README.md", ("org/everyone",)),
    ("web/app.js", ("js-owner",)),
    ("docs/app.js", ("docs@example.com",)),       # last match wins over *.js
    ("x/apps/main.py", ("octocat",)),
    ("apps/github/main.py", ()),                  # a rule without owners unsets them
    ("apps/other/main.py", ("octocat",)),
    ("build/logs/a.txt", ("doctocat", "org/infra")),
])
def test_codeowners_last_match_wins(path, owners):
    assert parse_codeowners(CODEOWNERS).owners_of(path) == owners


def test_codeowners_problems_are_reported_not_fatal():
    parsed = parse_codeowners("!secret @a\nsrc/ not-an-owner @b\n")
    assert [r.pattern for r in parsed.rules] == ["src/"]
    assert parsed.rules[0].owners == ("b",)
    assert len(parsed.problems) == 2


def test_codeowners_keeps_enterprise_managed_users():
    """An Enterprise Managed User's login ends in "_shortcode" (as bot.core.owners and
    markdown.is_login accept): a CODEOWNERS naming one names an owner, not a problem."""
    parsed = parse_codeowners("src/ @alice_acme @acme/core-team @bob\n")
    assert parsed.owners_of("src/a.py") == ("alice_acme", "acme/core-team", "bob")
    assert parsed.problems == ()


def test_codeowners_escaped_space_in_pattern():
    parsed = parse_codeowners("my\\ docs/ @writer\n")
    assert parsed.owners_of("my docs/a.md") == ("writer",)


COMPONENTS = [
    Component("core", ("src/core/**",), owners=("alice",)),
    Component("parser", ("src/parser/**", "**/*.grammar"), owners=("bob",), depends_on=("core",)),
    Component("cli", ("src/cli/",), owners=("carol",), depends_on=("parser",)),
    Component("docs", ("docs/", "*.md"), owners=("dora",)),
    Component("plugins", ("plugins/**",), depends_on=("cli", "core")),
]


def F(path, status="modified", previous=None):
    return ChangedFile(path, status, previous)


@pytest.mark.parametrize("name, files, direct, transitive, unmatched", [
    ("leaf change", [F("src/cli/main.py")], ("cli",), ("plugins",), ()),
    ("root change reaches everything depending on it",
     [F("src/core/x.py")], ("core",), ("parser", "cli", "plugins"), ()),
    ("glob anywhere", [F("tests/fixtures/a.grammar")], ("parser",), ("cli", "plugins"), ()),
    ("one file in two components", [F("src/core/README.md")], ("core", "docs"),
     ("parser", "cli", "plugins"), ()),
    ("unmatched files are listed", [F("setup.py"), F("docs/a.rst")], ("docs",), (), ("setup.py",)),
    ("deleted file still touches its component",
     [F("src/parser/old.py", "removed")], ("parser",), ("cli", "plugins"), ()),
    ("rename counts old and new path",
     [F("plugins/p.py", "renamed", "src/cli/p.py")], ("cli", "plugins"), (), ()),
    ("rename within a component", [F("docs/b.md", "renamed", "docs/a.md")], ("docs",), (), ()),
    ("nothing changed", [], (), (), ()),
])
def test_compute_impact(name, files, direct, transitive, unmatched):
    impact = compute_impact(COMPONENTS, files)
    assert impact.direct == direct, name
    assert impact.transitive == transitive, name
    assert impact.unmatched == unmatched, name
    assert impact.all == direct + transitive


def test_via_names_the_dependency_that_brought_a_component_in():
    impact = compute_impact(COMPONENTS, [F("src/core/x.py")])
    assert impact.via == {"parser": "core", "cli": "parser", "plugins": "core"}
    assert impact.files == {"core": ("src/core/x.py",)}


@pytest.mark.parametrize("graph, roots, expected", [
    ({"a": ["b"], "b": ["a"]}, ["a"], {"b"}),                    # two-cycle
    ({"a": ["c"], "b": ["a"], "c": ["b"]}, ["a"], {"b", "c"}),   # three-cycle
    ({"a": ["a"]}, ["a"], set()),                                # self-loop
    ({"a": [], "b": ["a"], "c": ["b"], "d": ["c", "a"]}, ["b"], {"c", "d"}),
    ({"a": ["missing"]}, ["missing"], {"a"}),                    # unknown names do not crash
    ({"a": [], "b": []}, [], set()),
])
def test_dependents_are_cycle_safe(graph, roots, expected):
    comps = [Component(n, (n + "/",), depends_on=tuple(d)) for n, d in graph.items()]
    assert set(dependents_of(comps, roots)) == expected


def test_cycle_in_components_terminates_and_excludes_direct():
    comps = [Component("a", ("a/",), depends_on=("b",)), Component("b", ("b/",), depends_on=("a",))]
    impact = compute_impact(comps, [F("a/x"), F("b/y")])
    assert impact.direct == ("a", "b")
    assert impact.transitive == ()


def test_touched_paths_deduplicates_and_keeps_order():
    files = [F("b.py"), F("a.py", "renamed", "b.py"), F("c.py", "renamed", "c.py")]
    assert touched_paths(files) == ["b.py", "a.py", "c.py"]


def test_owners_merge_codeowners_without_duplicates():
    codeowners = parse_codeowners("src/core/ @alice @core-team\nsetup.py @release\n*.md @dora\n")
    impact = compute_impact(COMPONENTS, [F("src/core/x.py"), F("setup.py")])
    owners = owners_by_component(COMPONENTS, impact, codeowners)
    assert owners["core"] == ("alice", "core-team")
    assert owners["parser"] == ("bob",)       # transitive: declared owners only
    assert owners["plugins"] == ()
    assert owners[""] == ("release",)          # files in no component
    assert owners_by_component(COMPONENTS, impact)["core"] == ("alice",)


def test_owners_merge_ignores_case_keeping_the_first_spelling():
    codeowners = parse_codeowners("src/core/ @Alice @Core-Team @org/Team\nsrc/core/b.py @core-team @org/team\n"
                                  "setup.py @Release\nMakefile @release\n")
    impact = compute_impact(COMPONENTS, [F("src/core/x.py"), F("src/core/b.py"), F("setup.py"), F("Makefile")])
    owners = owners_by_component(COMPONENTS, impact, codeowners)
    assert owners["core"] == ("alice", "Core-Team", "org/Team")
    assert owners[""] == ("Release",)


def test_component_problems():
    comps = [Component("a", ("a/",), depends_on=("a", "ghost")), Component("a", ())]
    problems = component_problems(comps)
    assert "component 'a' is declared twice" in problems
    assert "component 'a' has no paths" in problems
    assert "component 'a' depends on unknown component 'ghost'" in problems
    assert "component 'a' depends on itself" in problems
    bad = component_problems([Component("gen", ("gen/[z-a]*.py",))])
    assert bad == ["component 'gen': path 'gen/[z-a]*.py' is not a valid glob: character range z-a is reversed"]
    assert component_problems(COMPONENTS) == []

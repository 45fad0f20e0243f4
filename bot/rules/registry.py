"""Rules sections: each feature declares the part of the configuration it reads.

A section named ``cla`` is read from ``rules/cla.yml`` (bundled defaults) and from the
``cla:`` key of a repository's ``.github/contributor-flow.yml``. Every section gets an
``enabled`` switch, so any feature can be turned off per repository without code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .schema import Bool, Field, Int, List, Obj, Str

_SECTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
ENABLED_DOC = "Turns this feature on or off for the repository."


@dataclass(frozen=True)
class Section:
    name: str
    schema: Obj
    doc: str = ""

    def __post_init__(self) -> None:
        if not _SECTION_NAME.fullmatch(self.name):
            raise ValueError(f"section name {self.name!r} must match {_SECTION_NAME.pattern}")
        existing = self.schema.fields.get("enabled")
        if existing is None:
            schema = self.schema.with_field("enabled", Field(Bool(), default=True, doc=ENABLED_DOC))
            object.__setattr__(self, "schema", schema)
        elif not isinstance(existing.type, Bool):
            raise ValueError(f"section {self.name!r}: 'enabled' is reserved for the on/off switch")


CORE = Section(
    name="core",
    doc="Settings of the bot itself. core.enabled: false turns every feature off for a repository.",
    schema=Obj({
        "bot_login": Field(Str(), default="contributor-flow[bot]",
                           doc="The App's bot login; its own events are ignored."),
        "allowed_bots": Field(List(Str()), default=[],
                              doc="Bot logins whose events are processed anyway."),
        "max_attempts": Field(Int(min=1, max=100), default=6,
                              doc="How many times a delivery is tried before it is given up."),
        "config_path": Field(Str(), default=".github/contributor-flow.yml",
                             doc="Where a repository's override lives on its default branch."),
        "dry_run": Field(Bool(), default=False,
                         doc="Log actions instead of performing them, even with credentials."),
    }),
)


def with_core(sections: Iterable[Section]) -> dict[str, Section]:
    """Sections by name, ``core`` first (added if the caller did not). Duplicates are a bug."""
    indexed: dict[str, Section] = {CORE.name: CORE}
    for section in sections:
        if section.name in indexed and indexed[section.name] is not section:
            raise ValueError(f"two rules sections are named {section.name!r}")
        indexed[section.name] = section
    return indexed


def sections_of(features: Sequence[object]) -> list[Section]:
    """The sections declared by features (``Feature.rules``), in feature order."""
    return [f.rules for f in features if getattr(f, "rules", None) is not None]  # type: ignore[attr-defined]

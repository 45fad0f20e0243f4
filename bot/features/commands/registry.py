"""The one registry of slash commands, collected from every feature's ``CommandSpec``s,
with the roles the repository's rules give each command."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..base import CommandSpec, Feature


class DuplicateCommand(ValueError):
    pass


@dataclass(frozen=True)
class RegisteredCommand:
    spec: CommandSpec
    feature: str
    roles: tuple[str, ...]     # effective: the rules' list, else the spec's default

    @property
    def name(self) -> str:
        return self.spec.name

    def applies_to(self, is_pr: bool) -> bool:
        return self.spec.on_prs if is_pr else self.spec.on_issues


class Registry:
    def __init__(self, commands: Mapping[str, RegisteredCommand]) -> None:
        self._commands = dict(commands)

    @classmethod
    def build(cls, features: Iterable[Feature], rules: Any | None = None) -> "Registry":
        """Every command of every feature enabled in ``rules`` (a ``Rules``), except those
        the ``commands`` section switches off. A name registered twice is a bug."""
        section = _section(rules)
        overrides: Mapping[str, Any] = section.get("commands") or {}
        commands: dict[str, RegisteredCommand] = {}
        owners: dict[str, str] = {}
        for feature in features:
            for spec in feature.commands:
                name = spec.name.lower()
                if name in owners:
                    raise DuplicateCommand(f"/{name} is registered by {owners[name]} and {feature.name}")
                owners[name] = feature.name
                if not _feature_enabled(rules, feature):
                    continue
                override = overrides.get(name) or {}
                if override.get("enabled") is False:
                    continue
                roles = tuple(override.get("roles") or ()) or tuple(spec.roles)
                commands[name] = RegisteredCommand(spec, feature.name, roles)
        return cls(commands)

    def get(self, name: str) -> RegisteredCommand | None:
        return self._commands.get(name.lower())

    def __iter__(self):
        return iter(sorted(self._commands.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self._commands)

    def suggest(self, name: str) -> str | None:
        """The closest known name, when one is close enough to be a typo."""
        close = difflib.get_close_matches(name.lower(), list(self._commands), n=1, cutoff=0.75)
        return close[0] if close else None


def _section(rules: Any | None) -> Mapping[str, Any]:
    if rules is None:
        return {}
    try:
        return rules.section("commands")
    except KeyError:
        return {}


def _feature_enabled(rules: Any | None, feature: Feature) -> bool:
    # The switch lives in the feature's rules section, whose name need not be the
    # feature's (patch_pipeline reads ``pipeline``, route reads ``routing``).
    if rules is None or feature.rules is None:  # a feature without a section has no switch
        return True
    return bool(rules.enabled(feature.rules.name))

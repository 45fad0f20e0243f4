"""Slash commands, Prow-style: one parser, one registry, one permission model.

Handlers read commands from issue comments, review bodies, review comments and the
body of a new issue or pull request; every feature's ``CommandSpec``s are collected
into one registry (``bot.features.all_features()``), the rules (``rules/commands.yml``)
say which roles may use each command, and the generic commands live here.
"""
from __future__ import annotations

from typing import Sequence

from ..base import Feature
from . import info, labeling, lifecycle, people, review
from .dispatch import FeaturesProvider, make_comment_handler, registry_for
from .rules import SECTION

EVENTS = (
    "issue_comment.created", "issue_comment.edited",
    "pull_request_review.submitted", "pull_request_review.edited",
    "pull_request_review_comment.created", "pull_request_review_comment.edited",
    "issues.opened", "pull_request.opened",
)


def _all_features() -> Sequence[Feature]:
    from .. import all_features  # at call time: the list includes this very feature

    return all_features()


def build_feature(features: FeaturesProvider = _all_features) -> Feature:
    """The commands feature, collecting commands from ``features()`` (tests pass their own)."""
    handler = make_comment_handler(features)
    generic = (*info.commands(lambda ctx: registry_for(ctx, features)), *people.COMMANDS,
               *labeling.COMMANDS, *lifecycle.COMMANDS, *review.COMMANDS)
    return Feature(name="commands", handlers={name: [handler] for name in EVENTS},
                   commands=generic, rules=SECTION)


FEATURE = build_feature()

"""Rules: the bot's YAML configuration (bundled ``rules/*.yml`` + a repository's override).

Feature authors need only the schema DSL and ``Section``::

    from bot.rules import Section, Obj, Field, Str, Duration
    RULES = Section("cla", Obj({"phrase": Field(Str(), default="I agree", doc="...")}), doc="...")
"""
from .registry import CORE, Section
from .schema import Any, Bool, Duration, Field, Float, Int, List, Map, Obj, OneOf, Problem, Str, validate

__all__ = [
    "CORE", "Section", "Any", "Bool", "Duration", "Field", "Float", "Int", "List", "Map", "Obj",
    "OneOf", "Problem", "Str", "validate",
]

"""Route registry: `@route("GET", "/repos/{owner}/{repo}/...")` binds a handler to a spec operation.

The template must be spelled exactly as in the vendored OpenAPI description (see
tests/fixtures/github/operations.txt); `load_all()` checks that once per process.
"""

from __future__ import annotations

import importlib
from typing import Awaitable, Callable, Union

from ..context import Ctx, Reply

Handler = Callable[[Ctx], Union[Reply, Awaitable[Reply]]]
HANDLERS: dict[tuple[str, str], Handler] = {}

MODULES = ("issues", "comments", "labels", "reactions", "pulls", "reviews", "repos", "checks",
           "actions", "apps", "orgs", "search", "users", "deployments")
_loaded = False


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        key = (method.upper(), template)
        if key in HANDLERS:
            raise RuntimeError(f"two handlers for {method} {template}")
        HANDLERS[key] = fn
        return fn
    return register


def load_all() -> dict[tuple[str, str], Handler]:
    global _loaded
    if not _loaded:
        for name in MODULES:
            importlib.import_module(f"{__name__}.{name}")
        from .. import spec
        known = {(op.method, op.template) for op in spec.operations()}
        unknown = sorted(f"{m} {t}" for (m, t) in HANDLERS if (m, t) not in known)
        if unknown:
            raise RuntimeError(f"handlers for operations missing from the spec: {unknown}")
        _loaded = True
    return HANDLERS

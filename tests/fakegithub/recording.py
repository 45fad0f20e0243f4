"""Every request the fake answered, for assertions in tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECRET_HEADERS = {"authorization", "cookie"}


@dataclass
class Call:
    method: str
    path: str
    template: str | None  # OpenAPI path template, "/graphql", or None when nothing matched
    query: dict[str, str]
    json: Any
    headers: dict[str, str]  # lower-cased names, without credentials
    status: int = 0
    time: float = 0.0  # time.monotonic() when the request arrived
    faulted: str | None = None  # fault kind injected, if any
    graphql_operation: str | None = None  # first field of the operation, e.g. "addProjectV2ItemById"


def public_headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in SECRET_HEADERS}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.violations: list[str] = []

    def calls_to(self, method: str, template: str, *, ok_only: bool = False) -> list[Call]:
        """Calls matching method and path template (or exact path); ok_only keeps 2xx/304 answers."""
        return [c for c in self.calls
                if c.method == method.upper() and template in (c.template, c.path)
                and (not ok_only or 200 <= c.status < 300 or c.status == 304)]

    def graphql_calls(self, operation: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.template == "/graphql"
                and (operation is None or c.graphql_operation == operation)]

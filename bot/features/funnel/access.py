"""Who may see which repository on the dashboard.

Anyone sees the installed repositories known to be public. ``BOT_DASHBOARD_TOKEN``, given
as a Bearer token or as the password of HTTP Basic auth (any user name), shows the private
ones too. A repository that is not installed, is of unknown visibility to an anonymous
viewer, or has the funnel or the bot switched off is not there at all (404): a page must
not tell that a private repository exists.
"""
from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from aiohttp import web

from ...store import state

REALM = 'Basic realm="contributor-flow dashboard", charset="UTF-8"'


def _presented(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
        except (binascii.Error, ValueError):
            return None
    return None


def authorised(request: web.Request, token: str | None) -> bool:
    """Whether the viewer presented the token. Credentials that do not match are a 401, not
    the public view: a mistyped token is told apart from none."""
    header = request.headers.get("Authorization")
    if not token or header is None:
        return False
    given = _presented(header)
    # aiohttp decodes header bytes that are not UTF-8 to lone surrogates: surrogateescape
    # gives those bytes back (a wrong token, a 401) where a plain encode() raised (a 500).
    if given is None or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                                token.encode("utf-8", "surrogateescape")):
        raise web.HTTPUnauthorized(text="wrong dashboard token", headers={"WWW-Authenticate": REALM})
    return True


def challenge(request: web.Request, token: str | None) -> None:
    """``/dashboard/login``: ask a browser for the token until it gives the right one."""
    if not token:
        raise web.HTTPNotFound(text="no dashboard token is configured")
    if not authorised(request, token):
        raise web.HTTPUnauthorized(text="the dashboard token is asked as the password",
                                   headers={"WWW-Authenticate": REALM})


async def rules_of(runtime: Any, repo: str, installation_id: int | None) -> Any:
    """The rules in force for ``repo``; when GitHub cannot say now, the last good ones the
    bot holds for it, and only without those the bundled rules (the page is still useful).
    An installation GitHub no longer has (or suspended) is a job's to forget or leave out
    (``Runtime.repo_handles``); until then the page shows what the bot holds."""
    from ...github import InstallationUnavailable

    try:
        return await runtime.rules_or_last_good(repo, installation_id) or runtime.bundled
    except InstallationUnavailable:
        return await runtime.repo_rules.fallback(repo) or runtime.bundled


async def shown(runtime: Any, private_too: bool) -> dict[str, Any]:
    """Installed repositories this viewer may see, each with its rules."""
    found = {}
    for row in await state.installations(runtime.db):
        if row["is_private"] != 0 and not private_too:  # None: not known to be public
            continue
        rules = await rules_of(runtime, row["repo"], row["installation_id"])
        if rules.enabled("funnel"):
            found[row["repo"]] = rules
    return found


async def public_names(runtime: Any) -> set[str]:
    """Lower-case names of the installed repositories known to be public: what an
    organisation's figures may count for an anonymous viewer (not known counts as private)."""
    return await state.public_repos(runtime.db)


async def one_shown(runtime: Any, typed: str, private_too: bool) -> tuple[str, Any]:
    """(installed name, rules) of the repository typed in any case, or a 404."""
    row = await state.installation_named(runtime.db, typed)
    if row is not None and (row["is_private"] == 0 or private_too):
        rules = await rules_of(runtime, row["repo"], row["installation_id"])
        if rules.enabled("funnel"):
            return row["repo"], rules
    hint = "" if private_too or not runtime.settings.dashboard_token else (
        " (private ones are shown once signed in at /dashboard/login)")
    raise web.HTTPNotFound(text=f"no such repository on this dashboard{hint}")

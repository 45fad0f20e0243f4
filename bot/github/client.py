"""InstallationAPI: gidgethub's GitHubAPI bound to one installation's transport and ETag cache.

gidgethub builds URLs, headers, pagination and the conditional-request cache; our transport sends
(with retries and pacing); this class only routes, fixes two gidgethub pitfalls and translates
errors:
- the ETag cache is keyed by URL only, so a media-type read (e.g. a PR as a patch) through the
  caching client would send the JSON representation's ETag: non-JSON reads use an uncached twin;
- `graphql()` ignores `base_url`: we always pass our own endpoint.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import aiohttp
import gidgethub.aiohttp
from gidgethub import sansio

from .endpoints import endpoint_label
from .errors import GitHubError, PermanentGitHubError, translate
from .transport import Transport

__all__ = ["InstallationAPI", "USER_AGENT", "JSON_ACCEPT"]

USER_AGENT = "contributor-flow"
JSON_ACCEPT = sansio.accept_format()  # application/vnd.github.v3+json
UrlVars = Mapping[str, Any] | None


def _wants_json(accept: str) -> bool:
    return "json" in accept.lower()


class InstallationAPI(gidgethub.aiohttp.GitHubAPI):
    """A GitHub client for one installation (or the app itself), with retries and pacing."""

    def __init__(self, session: aiohttp.ClientSession, transport: Transport, *,
                 installation_id: int | None = None) -> None:
        cache = transport.state.cache
        super().__init__(session, USER_AGENT, cache=cache, base_url=transport.policy.api_url)
        self.installation_id = installation_id
        self._transport = transport
        self._graphql_url = transport.policy.graphql_url
        self._uncached = self if cache is None else _Uncached(session, transport, installation_id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(installation={self._transport.state.key})"

    # gidgethub hooks -------------------------------------------------------------------------
    async def _request(self, method: str, url: str, headers: Mapping[str, str],
                       body: bytes = b"") -> tuple[int, Mapping[str, str], bytes]:
        return await self._transport.send(method, url, headers, body)

    async def sleep(self, seconds: float) -> None:
        await self._transport.policy.sleep(seconds)

    # Public API ------------------------------------------------------------------------------
    async def getitem(self, url: str, url_vars: UrlVars = None, *, accept: str = JSON_ACCEPT,
                      **kwargs: Any) -> Any:
        client = self if _wants_json(accept) else self._uncached
        with self._translated(url, url_vars):
            return await gidgethub.aiohttp.GitHubAPI.getitem(client, url, url_vars, accept=accept,
                                                             **kwargs)

    async def getiter(self, url: str, url_vars: UrlVars = None, *, accept: str = JSON_ACCEPT,
                      **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
        client = self if _wants_json(accept) else self._uncached
        pages = gidgethub.aiohttp.GitHubAPI.getiter(client, url, url_vars, accept=accept, **kwargs)
        try:
            while True:
                with self._translated(url, url_vars):
                    try:
                        item = await pages.__anext__()
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            await pages.aclose()

    async def get_text(self, url: str, url_vars: UrlVars = None, *,
                       accept: str = "application/vnd.github.patch") -> str:
        """A media-type read (patch, diff, raw file), never through the ETag cache."""
        data = await self._uncached.getitem(url, url_vars, accept=accept)
        if data is None:
            return ""
        if isinstance(data, bytes):
            return data.decode("utf-8", "replace")
        if isinstance(data, str):
            return data
        raise PermanentGitHubError(f"expected text for {accept}, got JSON",
                                   status=200, endpoint=endpoint_label(url, self.base_url))

    async def post(self, url: str, url_vars: UrlVars = None, *, data: Any,
                   accept: str = JSON_ACCEPT, **kwargs: Any) -> Any:
        with self._translated(url, url_vars):
            return await super().post(url, url_vars, data=data, accept=accept, **kwargs)

    async def patch(self, url: str, url_vars: UrlVars = None, *, data: Any,
                    accept: str = JSON_ACCEPT, **kwargs: Any) -> Any:
        with self._translated(url, url_vars):
            return await super().patch(url, url_vars, data=data, accept=accept, **kwargs)

    async def put(self, url: str, url_vars: UrlVars = None, *, data: Any = b"",
                  accept: str = JSON_ACCEPT, **kwargs: Any) -> Any:
        with self._translated(url, url_vars):
            return await super().put(url, url_vars, data=data, accept=accept, **kwargs)

    async def delete(self, url: str, url_vars: UrlVars = None, *, data: Any = b"",
                     accept: str = JSON_ACCEPT, **kwargs: Any) -> None:
        with self._translated(url, url_vars):
            await super().delete(url, url_vars, data=data, accept=accept, **kwargs)

    async def graphql(self, query: str, *, endpoint: str | None = None,  # type: ignore[override]
                      **variables: Any) -> Any:
        """Always sent to our own API host: gidgethub would default to api.github.com."""
        with self._translated("/graphql"):
            return await super().graphql(query, endpoint=endpoint or self._graphql_url, **variables)

    # Errors ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _translated(self, url: str, url_vars: UrlVars = None) -> Iterator[None]:
        try:
            yield
        except GitHubError:
            raise
        except (gidgethub.GitHubException, json.JSONDecodeError, UnicodeDecodeError) as exc:
            reset = self.rate_limit.reset_datetime.timestamp() if self.rate_limit else None
            # Label the filled URL, as the metrics do, so templates and f-strings agree.
            filled = sansio.format_url(url, url_vars, base_url=self.base_url)
            raise translate(exc, endpoint_label(filled, self.base_url),
                            rate_limit_reset=reset) from exc


class _Uncached(InstallationAPI):
    """The same installation without the ETag cache, for non-JSON media types."""

    def __init__(self, session: aiohttp.ClientSession, transport: Transport,
                 installation_id: int | None) -> None:
        gidgethub.aiohttp.GitHubAPI.__init__(self, session, USER_AGENT, cache=None,
                                            base_url=transport.policy.api_url)
        self.installation_id = installation_id
        self._transport = transport
        self._graphql_url = transport.policy.graphql_url
        self._uncached = self

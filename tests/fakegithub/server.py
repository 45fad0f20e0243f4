"""FakeGitHub: an aiohttp server that answers like api.github.com, validating every request.

Request pipeline (one place, so every endpoint gets it): Retry-After check -> match the OpenAPI
operation -> auth -> fault injection -> validate params and body -> handler -> ETag/304 ->
rate-limit headers -> record the call.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from . import events, spec, validate
from .auth import AppAuth, Token
from .builders import StateBuilders
from .context import Ctx, GitHubError, Reply
from .faults import Faults
from .limits import MAX_CONCURRENT, Limits, is_content_creating
from .recording import Call, Recorder, public_headers
from .serialize import Serializer
from .state import Installation, State
from .webhooks import Deliveries

RATE_LIMIT = 5000
# GitHub lists at most 100,000 entries of a recursive tree (and 7 MB), then says `truncated`.
TREE_LIMIT = 100_000
# Endpoints outside /app that authenticate as the app (JWT) rather than as an installation.
JWT_TEMPLATES = {"/repos/{owner}/{repo}/installation", "/orgs/{org}/installation",
                 "/users/{username}/installation"}


class FakeGitHub(StateBuilders, Deliveries):
    def __init__(self, *, app_id: int = 4242, app_slug: str = "contributor-flow",
                 token_ttl: float = 3600.0, strict_query: bool = True) -> None:
        self.state = State()
        self.recorder = Recorder()
        self.faults = Faults()
        self.limits = Limits()
        self.auth = AppAuth(app_id, token_ttl)
        self.app_slug = app_slug
        self.strict_query = strict_query  # unknown query parameters are violations
        self.url = ""
        self.serializer = Serializer(self.state, "")
        self.rate_limit = RATE_LIMIT  # lower it to exercise primary rate-limit handling
        self.tree_limit = TREE_LIMIT  # lower it to exercise truncated recursive trees
        self.rate_used: dict[str, int] = {}
        self.rate_reset = int(time.time()) + 3600
        self._runner: web.AppRunner | None = None
        self.installation = self.add_installation(installation_id=1)
        # Writes made with an installation token are authored by the app's bot account.
        self.bot_login = f"{app_slug}[bot]"
        self.add_user(self.bot_login, type="Bot", emails=[])
        Deliveries.__init__(self)

    # -- public surface ---------------------------------------------------------------------
    @property
    def app_id(self) -> int:
        return self.auth.app_id

    @property
    def private_key_pem(self) -> str:
        return self.auth.private_key_pem

    @property
    def tokens_minted(self) -> int:
        return self.auth.tokens_minted

    @property
    def calls(self) -> list[Call]:
        return self.recorder.calls

    @property
    def violations(self) -> list[str]:
        return self.recorder.violations

    def calls_to(self, method: str, template: str, *, ok_only: bool = False) -> list[Call]:
        return self.recorder.calls_to(method, template, ok_only=ok_only)

    def graphql_calls(self, operation: str | None = None) -> list[Call]:
        return self.recorder.graphql_calls(operation)

    def installation_token(self, installation_id: int = 1, ttl: float | None = None) -> str:
        """A valid installation token without the JWT dance (not counted in tokens_minted)."""
        return self.auth.mint(installation_id, ttl).token

    def installation_covers(self, inst: Installation | None, full_name: str) -> bool:
        if inst is None:
            return True
        # GitHub compares owner and repository names case-insensitively.
        if inst.account and full_name.split("/")[0].casefold() != inst.account.casefold():
            return False
        return inst.repos is None or full_name.casefold() in {r.casefold() for r in inst.repos}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> "FakeGitHub":
        from .routes import load_all
        load_all()
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        self.serializer.base = self.url
        return self

    async def close(self) -> None:
        await self.close_deliveries()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeGitHub":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def violation(self, message: str) -> None:
        self.recorder.violations.append(message)

    # -- pipeline ---------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        raw = await request.read()
        authorization = request.headers.get("Authorization", "")
        credential = authorization or "(anonymous)"
        call = Call(method=request.method, path=request.path, template=None,
                    query=dict(request.query), json=None, headers=public_headers(request.headers),
                    time=arrived)
        early = self.faults.check_retry_after(credential)
        if early:
            self.violation(f"{early} ({request.method} {request.path})")
        if not self.limits.enter():
            self.violation(f"more than {MAX_CONCURRENT} concurrent requests ({request.method} {request.path})")
        try:
            if self.rate_used.get(credential, 0) >= self.rate_limit and request.path != "/rate_limit":
                raise GitHubError(403, "API rate limit exceeded for installation. If you reach out to "
                                       "GitHub Support for help, please include the request ID.")
            if not self._content_allowed(request, raw, credential):
                raise self.faults.error_for("secondary_403", credential, retry_after=60)
            reply, resource = await self._dispatch(request, raw, authorization, credential, call)
        except GitHubError as err:
            reply, resource = Reply(status=err.status, json=err.body(), headers=err.headers), "core"
        finally:
            self.limits.leave()
        response = self._finish(request, reply, credential, resource)
        call.status = response.status
        self.recorder.calls.append(call)
        return response

    async def _dispatch(self, request: web.Request, raw: bytes, authorization: str,
                        credential: str, call: Call) -> tuple[Reply, str]:
        method, path = request.method, request.path
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            call.json = raw.decode(errors="replace")
            self.violation(f"{method} {path}: body is not JSON")
            raise GitHubError(400, "Problems parsing JSON") from None
        call.json = body
        if path == "/graphql" and method == "POST":
            call.template = "/graphql"
            token = self.auth.check_token(authorization)
            from .graphql import answer_graphql
            return await self._faulted(method, credential, call,
                                       lambda: answer_graphql(self, body, token, call)), "graphql"
        # Match on the raw path: a label such as "kind/bug" arrives as kind%2Fbug.
        op, raw_params, path_known = spec.match(method, request.raw_path.split("?", 1)[0])
        raw_params = {k: unquote(v) for k, v in raw_params.items()}
        if op is None:
            self.violation(f"{method} {path}: no such operation in GitHub's REST API description"
                           + (" (the path exists with another method)" if path_known else ""))
            raise GitHubError(404, "Not Found")
        call.template = op.template
        installation = self._authenticate(op.template, authorization)
        params, query, problems = validate.check_params(op, raw_params, dict(request.query))
        if not self.strict_query:
            problems = [p for p in problems if not p.startswith("unknown query parameter")]
        problems += validate.check_body(op, body, bool(raw))
        from .routes import HANDLERS
        handler = HANDLERS.get((op.method, op.template))

        async def run() -> Reply:
            if problems:
                self.violation(f"{method} {op.template}: " + "; ".join(problems))
                raise GitHubError(422, "Invalid request.\n\n" + "\n".join(problems),
                                  errors=[{"message": p} for p in problems])
            if handler is None:
                self.violation(f"fake does not implement {method} {op.template}")
                raise GitHubError(501, f"fake does not implement {method} {op.template}")
            ctx = Ctx(fake=self, method=method, path=path, template=op.template, params=params,
                      query=query, body=body, headers={k.lower(): v for k, v in request.headers.items()},
                      installation=installation, raw_query=dict(request.query))
            issue = self._issue_for_events(ctx)
            before = events.snapshot(issue) if issue is not None else None
            result = handler(ctx)
            reply = await result if inspect.isawaitable(result) else result
            if issue is not None and before is not None:
                events.record_changes(self, issue, before)
            return reply

        resource = "search" if op.template.startswith("/search/") else "core"
        return await self._faulted(method, credential, call, run), resource

    def _content_allowed(self, request: web.Request, raw: bytes, credential: str) -> bool:
        if self.limits.content_per_minute is None:
            return True
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if not is_content_creating(request.method, request.path, body):
            return True
        return self.limits.content_allowed(credential)

    def _issue_for_events(self, ctx: Ctx) -> Any:
        """The issue a writing request targets, so its changes are logged as issue events."""
        number = ctx.params.get("issue_number", ctx.params.get("pull_number"))
        if ctx.method == "GET" or not isinstance(number, int) or "repo" not in ctx.params:
            return None
        repo = self.state.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        return repo.issues.get(number) if repo else None

    def _authenticate(self, template: str, authorization: str) -> Installation | None:
        if template == "/app" or template.startswith("/app/") or template in JWT_TEMPLATES:
            self.auth.check_jwt(authorization)
            return None
        token: Token = self.auth.check_token(authorization)
        inst = self.state.installations.get(token.installation_id)
        if inst is None:
            raise GitHubError(401, "Bad credentials")
        return inst

    async def _faulted(self, method: str, credential: str, call: Call, run: Any) -> Reply:
        decision = self.faults.decide(method)
        if decision.stall:
            await asyncio.sleep(decision.stall)
        if decision.kind is None:
            return await run()
        call.faulted = decision.kind
        if self.faults.plan.after_effect:
            try:
                await run()
            except GitHubError:
                pass
            raise GitHubError(502, "Server Error")
        raise self.faults.error_for(decision.kind, credential)

    def _finish(self, request: web.Request, reply: Reply, credential: str,
                resource: str) -> web.Response:
        headers = {"X-GitHub-Request-Id": f"FAKE:{len(self.recorder.calls):06d}",
                   "X-GitHub-Media-Type": "github.v3; format=json", **reply.headers}
        if reply.text is not None:
            payload = reply.text.encode()
            content_type = reply.content_type
        elif reply.json is not None or reply.status not in (202, 204):
            payload = json.dumps(reply.json).encode() if reply.json is not None else b""
            content_type = "application/json; charset=utf-8"
        else:
            payload, content_type = b"", "application/json; charset=utf-8"
        status = reply.status
        counts = True
        if request.method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha1(payload + content_type.encode()).hexdigest() + '"'
            headers["ETag"] = etag
            sent = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
            if etag in sent or etag[2:] in sent:
                status, payload, counts = 304, b"", False
        if counts:
            self.rate_used[credential] = self.rate_used.get(credential, 0) + 1
        used = self.rate_used.get(credential, 0)
        headers.update({"x-ratelimit-limit": str(self.rate_limit),
                        "x-ratelimit-remaining": str(max(self.rate_limit - used, 0)),
                        "x-ratelimit-used": str(used), "x-ratelimit-reset": str(self.rate_reset),
                        "x-ratelimit-resource": resource})
        if status in (204, 304):
            return web.Response(status=status, headers=headers)
        return _response(status, payload, content_type, headers)


def _response(status: int, payload: bytes, content_type: str, headers: dict[str, str]) -> web.Response:
    resp = web.Response(status=status, body=payload, headers=headers)
    resp.headers["Content-Type"] = content_type
    return resp

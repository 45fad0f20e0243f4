"""A mixed workload for fault injection (the e2e test and benchmarks/faults.py share it):
config pushes (a check run each), pull requests opened by a newcomer (context card comment,
CLA check run, ...), and `/label` commands from a maintainer (a label and a reaction).
Then the figures: deliveries done and dead, objects created twice, Retry-After violations."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.fixtures.webhooks import load_example

from .botprocess import config_push
from .harness import comment_payload, retarget

REPO = "octo/repo"
MAINTAINER, NEWCOMER = "mia", "ann"


def setup(fake, *, max_attempts: int) -> None:
    fake.add_repo(REPO, files={".github/contributor-flow.yml": f"core:\n  max_attempts: {max_attempts}\n"})
    fake.add_user(MAINTAINER)
    fake.add_user(NEWCOMER)
    fake.add_user(fake.bot_login, type="Bot")
    fake.set_permission(REPO, MAINTAINER, "write")
    fake.set_permission(REPO, NEWCOMER, "read")
    fake.add_label(REPO, "bug")


def _pull_opened(fake, i: int) -> dict[str, Any]:
    issue = fake.add_pull(REPO, title=f"Change {i}", user=NEWCOMER, files=[f"docs/page{i}.md"],
                          head_sha=f"{10_000 + i:040x}")
    payload = retarget(load_example("pull_request", "opened"), REPO, fake)
    payload["pull_request"] = fake.serializer.pull(issue)
    payload["repository"] = {**payload["repository"], **fake.serializer.repo(fake.repo(REPO))}
    payload["number"] = issue.number
    payload["sender"] = fake.serializer.user(NEWCOMER)
    return payload


def _label_command(fake, i: int) -> dict[str, Any]:
    issue = fake.add_issue(REPO, title=f"Bug {i}", user=NEWCOMER)
    comment = fake.add_comment(REPO, issue.number, "/label bug", MAINTAINER)
    return comment_payload(fake, REPO, issue.number, comment, MAINTAINER)


def workload(fake, n: int) -> list[tuple[str, str, dict[str, Any]]]:
    """``n`` deliveries as (event, delivery id, payload), the three kinds interleaved."""
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            out.append(("push", f"push-{i}", config_push(fake, REPO, i)))
        elif kind == 1:
            out.append(("pull_request", f"pr-{i}", _pull_opened(fake, i)))
        else:
            out.append(("issue_comment", f"cmd-{i}", _label_command(fake, i)))
    return out


@dataclass
class RetryAfterWatch:
    """Client-side view of Retry-After: a request the bot *starts* for a credential before
    the wait that credential was told has passed. (The fake also flags requests that were
    already on their way when the limit answer went out; those were not sent "again".)"""

    until: dict[str, float] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    requests: int = 0

    def attach(self, session: aiohttp.ClientSession) -> None:
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(self._start)
        trace.on_request_end.append(self._end)
        trace.freeze()
        session._trace_configs.append(trace)  # the runtime's one session, built by the app

    async def _start(self, session, ctx, params) -> None:
        self.requests += 1
        ctx.credential = params.headers.get("Authorization", "")
        until = self.until.get(ctx.credential)
        if until is not None and time.monotonic() < until:
            self.violations.append(f"{params.method} {params.url.path} "
                                   f"{until - time.monotonic():.2f}s before Retry-After")

    async def _end(self, session, ctx, params) -> None:
        wait = params.response.headers.get("Retry-After")
        if wait is not None:
            self.until[ctx.credential] = max(self.until.get(ctx.credential, 0.0),
                                             time.monotonic() + float(wait))


@dataclass
class Figures:
    deliveries: int
    done: int
    dead: int
    duplicates: int
    retry_after_violations: int   # requests started before the Retry-After given had passed
    in_flight_at_limit: int       # requests already sent when the limit answer went out
    faults_injected: int
    detail: list[str]

    def line(self) -> str:
        return (f"deliveries: {self.deliveries}; done: {self.done}; dead: {self.dead}; "
                f"duplicates created: {self.duplicates}; Retry-After violations: "
                f"{self.retry_after_violations} (requests already in flight when the limit answer "
                f"went out: {self.in_flight_at_limit}); faults injected: {self.faults_injected}")


def duplicates(fake) -> list[str]:
    """Objects the bot made twice: check runs (repo, sha, name), comments with the same body
    on one item, a label added twice to one item, a reaction given twice."""
    found = []
    runs = Counter((r.repo, r.head_sha, r.name) for r in fake.state.check_runs.values())
    found += [f"check run {k} x{n}" for k, n in runs.items() if n > 1]
    for repo in fake.state.repos.values():
        for issue in repo.issues.values():
            bodies = Counter(c.body for c in issue.comments if c.user == fake.bot_login)
            found += [f"comment on #{issue.number} x{n}: {b[:60]!r}" for b, n in bodies.items() if n > 1]
            for c in issue.comments:
                reacts = Counter(r.content for r in c.reactions if r.user == fake.bot_login)
                found += [f"reaction {k} on comment {c.id} x{n}" for k, n in reacts.items() if n > 1]
            labeled = Counter(e["label"]["name"] for e in issue.events if e["event"] == "labeled")
            found += [f"label {k} on #{issue.number} x{n}" for k, n in labeled.items() if n > 1]
    return found


def figures(fake, rows: list[dict], watch: RetryAfterWatch) -> Figures:
    dup = duplicates(fake)
    in_flight = [v for v in fake.violations if "Retry-After" in v]
    return Figures(deliveries=len(rows), done=sum(r["status"] == "done" for r in rows),
                   dead=sum(r["status"] == "dead" for r in rows), duplicates=len(dup),
                   retry_after_violations=len(watch.violations), in_flight_at_limit=len(in_flight),
                   faults_injected=len(fake.faults.injected), detail=dup + watch.violations)


def forget_in_flight(fake) -> None:
    """Drop the fake's Retry-After flags once counted (see RetryAfterWatch); keep the rest."""
    fake.violations[:] = [v for v in fake.violations if "Retry-After" not in v]

"""``GET /dashboard`` and ``GET /dashboard/{owner}/{repo}``: funnel, cohort and SLA charts
drawn server-side as SVG, with the same figures in tables; no script, no external asset."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any, Mapping

from aiohttp import web

from ...core.funnel import BotPolicy, Funnel, compute
from . import access, store
from .dates import parse_instant, window_text
from .query import bot_policy, funnel_for, scope_of
from .render import LABELS, hours, pct
from .svg import grouped_bars, hbar_chart
from .weekly import months_before

UTC = timezone.utc
CSS = ("body{font:14px/1.4 sans-serif;margin:2em auto;max-width:900px;color:#222}"
       "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
       "text-align:right}th:first-child,td:first-child{text-align:left}.chart{max-width:100%;height:auto}"
       "nav a{margin-right:1em}")


# A chart draws one cohort per month, on the event loop that also takes GitHub's webhooks:
# 0001 to 9999 would cost seconds there (and a page of 65 MB). GitHub's history fits.
MAX_WINDOW = timedelta(days=365 * 25)


def _window(request: web.Request) -> tuple[datetime, datetime]:
    """``?since=&until=`` read as the CLI reads them: a bare ``until`` date counts whole."""
    def bound(name: str, *, end_of_day: bool = False) -> datetime | None:
        text = request.query.get(name)
        if not text:
            return None
        try:
            return parse_instant(text, end_of_day=end_of_day)
        except ValueError:
            raise web.HTTPBadRequest(text=f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 instant"
                                          " (write + as %2B in an offset)") from None
    until = bound("until", end_of_day=True) or datetime.now(UTC)
    try:
        since = bound("since") or months_before(until, 6)
    except ValueError:  # six months before year 1
        raise web.HTTPBadRequest(text="until is too early for the default since: give since") from None
    if since >= until:
        raise web.HTTPBadRequest(text="since must be before until")
    if until - since > MAX_WINDOW:
        raise web.HTTPBadRequest(text=f"the window may span at most {MAX_WINDOW.days // 365} years")
    return since, until


def _page(title: str, body: str) -> web.Response:
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style>'
            f'</head><body><nav><a href="/dashboard/">All repositories</a></nav>{body}</body></html>')
    return web.Response(text=html, content_type="text/html",
                        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


def _funnel_section(funnel: Funnel) -> str:
    labels = [LABELS[s.name] for s in funnel.stages]
    chart = hbar_chart("funnel-chart", "Contributor funnel", labels,
                       [s.contributors for s in funnel.stages],
                       [f"({pct(s.rate_from_first)})" for s in funnel.stages])
    rows = "".join(f"<tr><td>{LABELS[s.name]}</td><td>{s.contributors}</td><td>{pct(s.rate_from_first)}</td>"
                   f"<td>{pct(s.rate_from_previous)}</td><td>{hours(s.median_hours_from_previous)}</td></tr>"
                   for s in funnel.stages)
    cohorts = grouped_bars("cohort-chart", "Monthly cohorts (UTC): stages reached", [c.month for c in funnel.cohorts],
                           labels, [[s.contributors for s in c.stages] for c in funnel.cohorts])
    return (f"<h2>Funnel</h2>{chart}<table><thead><tr><th>Stage</th><th>Contributors</th>"
            "<th>From first contact</th><th>From previous</th><th>Median time from previous</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><h2>Cohorts</h2>{cohorts}")


async def _sla_section(db: Any, repo: str, since: datetime, until: datetime) -> str:
    try:
        from ..sla.report import sla_figures
        figures = await sla_figures(db, repo, since, until, datetime.now(UTC))
    except Exception:  # the SLA feature absent or its tables unreadable: the page goes on
        return '<h2>First-response SLA</h2><p id="sla-unavailable">SLA figures unavailable.</p>'
    policies: Mapping[str, Any] = figures.get("policies") or {}
    names = list(policies)
    chart = grouped_bars("sla-chart", "Time to first response (hours)", names, ["p50", "p90"],
                         [[policies[n].get("first_response_p50_hours") or 0,
                           policies[n].get("first_response_p90_hours") or 0] for n in names], unit=" h")
    rows = "".join(f"<tr><td>{escape(n)}</td><td>{p['items']}</td><td>{p['answered']}</td>"
                   f"<td>{pct(p.get('within_target_share'))}</td><td>{p['breaches']}</td></tr>"
                   for n, p in policies.items())
    empty = "" if names else "<p>No SLA clocks started in this window.</p>"
    return (f"<h2>First-response SLA</h2>{chart}{empty}<table><thead><tr><th>Policy</th><th>Items</th>"
            f"<th>Answered</th><th>Within target</th><th>Breaches</th></tr></thead><tbody>{rows}</tbody></table>")


async def _sla_overview(db: Any, repos: list[str], since: datetime, until: datetime) -> str:
    """One group of bars per repository (all policies together)."""
    try:
        from ..sla.report import sla_figures
        now = datetime.now(UTC)
        alls = [(r, (await sla_figures(db, r, since, until, now))["all"]) for r in repos[:20]]
    except Exception:
        return '<h2>First-response SLA</h2><p id="sla-unavailable">SLA figures unavailable.</p>'
    chart = grouped_bars("sla-chart", "Time to first response (hours)", [r for r, _ in alls], ["p50", "p90"],
                         [[f.get("first_response_p50_hours") or 0, f.get("first_response_p90_hours") or 0]
                          for _, f in alls], unit=" h")
    return f"<h2>First-response SLA</h2>{chart}"


def _private_too(request: web.Request) -> bool:
    from ...web.app import RUNTIME

    return access.authorised(request, request.app[RUNTIME].settings.dashboard_token)


async def repo_page(request: web.Request) -> web.Response:
    """One repository as the weekly report counts it: its installed name whatever the case
    typed, its organisation in org mode, only the people who can be new in the window."""
    from ...web.app import RUNTIME

    runtime = request.app[RUNTIME]
    private_too = _private_too(request)
    since, until = _window(request)
    typed = f"{request.match_info['owner']}/{request.match_info['repo']}"
    repo, rules = await access.one_shown(runtime, typed, private_too)
    section = rules.section("funnel")
    scope = scope_of(repo, section)
    # In org mode the figures are the organisation's: to an anonymous viewer, of its public
    # repositories only, or a private sibling's contributors would show on a public page.
    among = await access.public_names(runtime) if scope != repo and not private_too else None
    funnel = await funnel_for(runtime.db, scope, since, until, section, among=among)
    which = "public repository" if among is not None else "repository"
    org = f" of every {which} of {escape(scope)} (org mode)" if scope != repo else ""
    body = (f"<h1>Contributor flow: {escape(repo)}</h1><p>New contributors{org} first seen "
            f"{window_text(since, until)}; stages reached by the end.</p>"
            f"{_funnel_section(funnel)}{await _sla_section(runtime.db, repo, since, until)}")
    return _page(f"{repo}: contributor flow", body)


async def _overview(db: Any, sections: Mapping[str, Mapping[str, Any]], since: datetime,
                    until: datetime) -> Funnel:
    """The repositories together, each under its own rules (bot lists, approver teams).
    Only people who can be new in the window are read: those some repository has first
    seen in it; their whole history in every repository then says whether they are."""
    lo, hi = since.timestamp(), until.timestamp()
    windowed = {repo: await store.contributors(db, repo, section.get("approver_teams") or (), lo, hi)
                for repo, section in sections.items()}
    candidates = {c.user_id for people in windowed.values() for c in people}
    lists = []
    for repo, section in sections.items():
        policy = bot_policy(section)
        # One repository: its window's read is already exact.
        people = windowed[repo] if len(sections) == 1 else await store.histories(
            db, repo, section.get("approver_teams") or (), candidates)
        lists.append([c for c in people if not policy.excludes(c.login, c.is_bot, c.user_id)])
    # Bots are already left out, each by its repository's policy: an allow-listed bot of
    # one repository stays in, so the merged list is taken as it is.
    return await asyncio.to_thread(
        lambda: compute(store.merge_contributors(lists), since, until, BotPolicy(allow=("*",))))


async def index_page(request: web.Request) -> web.Response:
    """Every installed repository together, with links to each one's page."""
    from ...web.app import RUNTIME

    runtime = request.app[RUNTIME]
    private_too = _private_too(request)
    since, until = _window(request)
    # Only what this viewer may see, in the list and in the figures alike.
    sections = {repo: rules.section("funnel") for repo, rules in (await access.shown(runtime, private_too)).items()}
    repos = list(sections)
    funnel = await _overview(runtime.db, sections, since, until)
    links = "".join(f'<li><a href="/dashboard/{escape(r)}">{escape(r)}</a></li>' for r in repos)
    sla = await _sla_overview(runtime.db, repos, since, until)
    which = "" if private_too else " public"
    sign_in = ('<p><a href="/dashboard/login">Sign in</a> to see private repositories.</p>'
               if runtime.settings.dashboard_token and not private_too else "")
    body = (f"<h1>Contributor flow</h1><p>{len(repos)}{which} repositories; new contributors first seen "
            f"{window_text(since, until)}.</p>{sign_in}<ul>{links or '<li>none to show</li>'}</ul>"
            f"{_funnel_section(funnel)}{sla}")
    return _page("Contributor flow dashboard", body)


async def login(request: web.Request) -> web.Response:
    """A browser asks for the token here (HTTP Basic, the token as the password) and sends it
    on from then on for the pages under ``/dashboard/``; signed in, this is the index."""
    from ...web.app import RUNTIME

    access.challenge(request, request.app[RUNTIME].settings.dashboard_token)
    return await index_page(request)


def register(app: web.Application) -> None:
    app.router.add_get("/dashboard", index_page)
    app.router.add_get("/dashboard/", index_page)
    app.router.add_get("/dashboard/login", login)
    app.router.add_get("/dashboard/{owner}/{repo}", repo_page)

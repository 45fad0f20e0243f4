"""The assembled services of one process: database, rules, GitHub client, executor.

Entry points (``serve``, the CLI, tests) open one Runtime and share it; nothing here
reads the environment: settings come in.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import aiohttp
import cachetools

from .context import ReadOnlyGitHub, RepoHandle, RoleLookup
from .core.access import generation_of
from .executor import Executor
from .metrics import Metrics
from .permissions import make_role_lookup
from .rules.loader import Rules, load_bundled
from .rules.registry import sections_of
from .rules.repo import RepoRules, RepoRulesResult
from .settings import Settings
from .store import access, holds, renames, repo_names, state
from .store.db import Database, DatabaseUnavailable, connect
from .store.migrate import migrate

if TYPE_CHECKING:  # pragma: no cover
    from .features.base import Feature
    from .github import GitHub

log = logging.getLogger("bot.runtime")


class RulesError(Exception):
    """The bundled rules are invalid: the bot refuses to start."""


@dataclass
class Runtime:
    settings: Settings
    db: Database
    metrics: Metrics
    features: list["Feature"]
    bundled: Rules
    repo_rules: RepoRules
    session: aiohttp.ClientSession | None = None
    github: "GitHub | None" = None
    executor: Executor | None = None
    role_cache: cachetools.TTLCache = field(default_factory=lambda: cachetools.TTLCache(4096, 300))
    # The App's login as GitHub names it (``GET /app``: ``<slug>[bot]``), read at start-up.
    app_login: str | None = None

    @property
    def features_by_name(self) -> dict[str, "Feature"]:
        return {f.name: f for f in self.features}

    @functools.cached_property
    def name_columns(self) -> "renames.Declarations":
        """Where core and every feature keep repository names: what a rename moves."""
        return renames.Declarations.of([repo_names.CORE, *(f.repo_names for f in self.features if f.repo_names)])

    @property
    def bot_login(self) -> str:
        """Who the bot is: GitHub's name for the App when it could be read, else the rules'
        ``core.bot_login``. An App registered under another name than the manifest's (App names
        are global, the manifest's may be taken) would otherwise not know its own events and
        comments: it would answer itself and never find its own cards."""
        return self.app_login or self.bundled["core"]["bot_login"]

    @property
    def dry_run(self) -> bool:
        return (self.github is None or self.github.dry_run or bool(self.bundled["core"]["dry_run"]))

    def repo_dry_run(self, repo: str) -> bool:
        """Whether ``repo``'s own rules ask for a dry run (the rules last read for it: a
        delivery or a job read them just before its actions)."""
        rules = self.repo_rules.known(repo) if repo else None
        return bool(rules is not None and rules["core"]["dry_run"])

    async def api(self, installation_id: int | None) -> Any:
        if self.github is None:
            raise RuntimeError("this runtime has no GitHub client")
        if installation_id is None:
            raise LookupError("no installation for this repository")
        return await self.github.installation(int(installation_id))

    async def rules_for(self, repo: str, installation_id: int | None, *,
                        generation: tuple[int, int] | None = None) -> RepoRulesResult:
        """``generation``: ``repo``'s access generation read for this delivery; rules cached
        under another one are read again (a push changed them, maybe on another replica)."""
        if not repo or self.github is None or installation_id is None:
            return RepoRulesResult(self.bundled)
        from .github import GitHubError, InstallationGone, PermanentGitHubError

        # No token now (GitHub refuses the App's credentials): raised, so the delivery is
        # tried again later rather than decided on bundled rules the repository may not want.
        api = await self.api(installation_id)
        try:
            return await self.repo_rules.get(repo, api, generation=generation)
        except InstallationGone:
            raise  # not a file out of reach: nothing of this installation can be done
        except PermanentGitHubError as exc:
            # No access to the file (e.g. dry-run against a private repo): bundled rules.
            log.warning("repo rules unavailable for %s: %s", repo, exc)
            return RepoRulesResult(self.bundled)
        except (GitHubError, DatabaseUnavailable):
            raise  # transient, nothing cached yet: the delivery is tried again later
        except Exception:
            # Not GitHub: a fault of the bot's own. A broken configuration never takes the
            # repository's bot down: the last good rules (or the bundled ones) stay in force.
            log.exception("reading the rules of %s failed; using the last good ones", repo)
            fallback = await self.repo_rules.fallback(repo)
            return RepoRulesResult(fallback or self.bundled,
                                   origin="last-good" if fallback is not None else "bundled")

    async def rules_or_last_good(self, repo: str, installation_id: int | None) -> Rules | None:
        """For a job or a page rather than a delivery (which is retried instead): the rules in
        force for ``repo``, or when they cannot be read now (GitHub down) the last good ones
        known for it; None when there are none."""
        from .github import InstallationUnavailable

        try:
            return (await self.rules_for(repo, installation_id)).rules
        except InstallationUnavailable:
            raise  # uninstalled or suspended, not an outage: see repo_handles
        except Exception as exc:
            log.warning("rules of %s unavailable (%s: %s); using the last good ones", repo,
                        type(exc).__name__, exc)
            return await self.repo_rules.fallback(repo)

    def roles_for(self, repo: str, rules: Rules, reader: Any, generation: tuple[int, int]) -> RoleLookup:
        """``generation``: ``repo``'s access generation read from the store for this delivery
        or job (store/access.py): roles cached under an older one are not used."""
        section = rules.section("commands") if "commands" in rules else {}
        return make_role_lookup(reader, repo, section, self.role_cache, generation)

    async def repo_handles(self) -> list[RepoHandle]:
        """Every known repository for a periodic job. One repository whose token or rules
        cannot be had now is left out of this run (and logged): it must not stop the job
        for all the others."""
        from .github import InstallationGone, InstallationSuspended

        handles: list[RepoHandle] = []
        gone: set[int] = set()
        suspended = await state.suspended_installations(self.db)
        archived = await state.archived_repos(self.db)  # read-only: any write would be refused
        now = time.time()
        generations = await access.every_generation(self.db)  # once for all the repositories
        for row in await state.installations(self.db):
            repo, inst = row["repo"], row["installation_id"]
            if repo in archived or inst in gone or now - suspended.get(inst, -SUSPENDED_PROBE) < SUSPENDED_PROBE:
                continue
            try:
                api = await self.api(inst)
                rules = await self.rules_or_last_good(repo, inst)
                if rules is None:
                    # Without them the bundled rules could turn on what the repository
                    # switched off.
                    raise LookupError("its rules cannot be read now and none are known")
            except InstallationGone:
                gone.add(inst)
                await self._installation_gone(inst)
                continue
            except InstallationSuspended:
                gone.add(inst)
                if not await state.set_suspended(self.db, inst, True, at=time.time()):
                    log.warning("installation %d is suspended (GitHub refuses its token): its "
                                "repositories are left out of the periodic jobs until it is "
                                "unsuspended", inst)
                continue
            except Exception as exc:
                log.warning("repository %s left out of this job run: %s: %s", repo,
                            type(exc).__name__, exc)
                continue
            if inst in suspended:  # probed, and its token minted again: unsuspended
                await state.set_suspended(self.db, inst, False, at=time.time())
                suspended.pop(inst)
                log.info("installation %d is no longer suspended", inst)
            reader = ReadOnlyGitHub(api)
            handles.append(RepoHandle(repo=repo, installation_id=inst, rules=rules, gh=reader,
                                      roles_of=self.roles_for(repo, rules, reader,
                                                              generation_of(repo, generations))))
        return handles

    async def _installation_gone(self, inst: int) -> None:
        """GitHub answers 404 to minting ``inst``'s token: uninstalled, and the
        ``installation.deleted`` delivery never came (or is not processed yet). Forgotten, so
        that the next job runs neither mint for it nor log it again; a delivery from it
        received later brings its repositories back. An installation a delivery told of
        moments ago is only left out: GitHub may not know a new one everywhere yet."""
        from .github import InstallationGone

        seen = await state.installation_seen_at(self.db, inst)
        if seen is not None and time.time() - seen < InstallationGone.settle_after:
            log.info("installation %d left out of this job run: GitHub does not know it (yet)", inst)
            return
        repos = await state.forget_installation(self.db, inst)
        listed = ", ".join(repos[:5]) + (f" and {len(repos) - 5} more" if len(repos) > 5 else "")
        log.warning("installation %d is gone (GitHub answers 404 to minting its token): "
                    "its repositories (%s) leave the periodic jobs", inst, listed or "none")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await self.db.close()


# How often a job tries the token of an installation recorded as suspended, should the
# unsuspend delivery be lost.
SUSPENDED_PROBE = 3600.0


def load_features() -> list["Feature"]:
    from .features import all_features

    return all_features()


def migration_namespaces(features: list["Feature"]) -> list[tuple[str, str]]:
    return [("core", "bot.store.migrations"),
            *((f.name, f.migrations) for f in features if f.migrations)]


def _hold_publisher(db: Database) -> Callable[[str, float], None]:
    """Several replicas share an installation's limits: record each hold for the others."""
    pending: set[asyncio.Task] = set()

    async def publish(scope: str, until: float) -> None:
        try:
            await holds.publish(db, scope, until)
        except Exception as exc:  # the hold still applies here; the others learn the next one
            log.warning("could not share a GitHub hold with other replicas: %s", exc)

    def on_hold(scope: str, until: float) -> None:
        task = asyncio.get_running_loop().create_task(publish(scope, until))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return on_hold


async def app_login(github: "GitHub", configured: str) -> str | None:
    """``<slug>[bot]`` from ``GET /app`` (the App's JWT), or None when there are no credentials
    or GitHub cannot say now (a start-up must not wait on GitHub: the rules' login stands)."""
    if github.dry_run:
        return None
    from .github import GitHubError

    try:
        found = await asyncio.wait_for(github.app().getitem("/app"), timeout=15)
    except (GitHubError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
        log.warning("could not read the App's name from GitHub (%s); using core.bot_login %s",
                    type(exc).__name__, configured)
        return None
    slug = found.get("slug") if isinstance(found, dict) else None
    if not isinstance(slug, str) or not slug:
        return None
    login = f"{slug}[bot]"
    if login != configured:
        log.warning("the App is %s on GitHub but core.bot_login says %s: the bot goes by %s",
                    login, configured, login)
    return login


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, *, with_github: bool = True,
                       metrics: Metrics | None = None) -> AsyncIterator[Runtime]:
    """Connect, migrate, load rules; with_github also builds the client and executor."""
    features = load_features()
    sections = sections_of(features)
    bundled, problems = load_bundled(settings.rules_dir, sections)
    if problems:
        raise RulesError("bundled rules are invalid:\n" + "\n".join(str(p) for p in problems))
    db = await connect(settings.database_url)
    runtime: Runtime | None = None
    try:
        await migrate(db, migration_namespaces(features))
        repo_rules = RepoRules(bundled, sections, state.ConfigStore(db))
        runtime = Runtime(settings=settings, db=db, metrics=metrics or Metrics(), features=features,
                          bundled=bundled, repo_rules=repo_rules)
        if with_github:
            from .github import GitHub

            runtime.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            runtime.github = GitHub(runtime.session, api_url=settings.api_url,
                                    app_id=settings.app_id, private_key=settings.private_key,
                                    metrics=runtime.metrics,
                                    mutation_interval=settings.mutation_interval,
                                    on_hold=_hold_publisher(db) if db.dialect != "sqlite" else None)
            runtime.app_login = await app_login(runtime.github, runtime.bundled["core"]["bot_login"])
            # A dry run asked for (core.dry_run) is not the same as no credentials to send with:
            # see Executor.chosen_dry_run.
            runtime.executor = Executor(db, api_for=None if runtime.github.dry_run else runtime.api,
                                        dry_run=bool(runtime.bundled["core"]["dry_run"]),
                                        features=runtime.features_by_name,
                                        bot_login=runtime.bot_login, metrics=runtime.metrics,
                                        repo_dry_run=runtime.repo_dry_run)
        yield runtime
    finally:
        if runtime is not None:
            await runtime.close()
        else:
            await db.close()

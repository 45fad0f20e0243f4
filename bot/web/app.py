"""The aiohttp application factory: one ClientSession and one Runtime for the app's life."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import AsyncIterator

from aiohttp import web

from ..features.recovery.service import recover_at_startup, recovery_job
from ..metrics import CONTENT_TYPE_LATEST
from ..runtime import Runtime, load_features, open_runtime
from ..scheduler import Scheduler, periodic_jobs
from ..settings import Settings
from ..queue_worker import QueueWorker
from ..worker import Worker
from ..store.group_commit import GroupCommitter
from .intake import make_handler

log = logging.getLogger("bot.web")

RUNTIME = web.AppKey("runtime", Runtime)
WORKER = web.AppKey("worker", object)  # Worker (SQLite) or QueueWorker (PostgreSQL)
INTAKE = web.AppKey("intake", object)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    try:
        await asyncio.wait_for(runtime.db.ping(), timeout=3)
    except Exception as exc:
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ready", "database": runtime.db.dialect,
                              "dry_run": runtime.dry_run})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[RUNTIME].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: Settings, *, run_worker: bool = True, run_scheduler: bool = True,
               worker_id: str | None = None) -> web.Application:
    if not settings.webhook_secret:
        raise SystemExit("GITHUB_WEBHOOK_SECRET is required: set it to the App's webhook secret")
    # The webhook reads its body itself, at most MAX_BODY (GitHub's 25 MB cap) however it is
    # sent; any other route keeps aiohttp's default limit of 1 MiB.
    app = web.Application()
    holder = worker_id or f"{socket.gethostname()}:{os.getpid()}"

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app[RUNTIME] = runtime
            if runtime.dry_run:
                log.warning("DRY-RUN: no GitHub App credentials (GITHUB_APP_ID and GITHUB_PRIVATE_KEY"
                            " or GITHUB_PRIVATE_KEY_FILE): every action is logged, none is sent")
            stop = asyncio.Event()
            tasks = []
            if runtime.db.dialect == "postgresql":
                # Replicas share one database: procrastinate hands out deliveries and runs
                # each periodic job once per period between them.
                jobs, at_start = [], []
                if run_scheduler:
                    recovery = recovery_job(runtime, holder)
                    jobs = periodic_jobs(runtime, [recovery])
                    at_start = [(recovery, float(runtime.bundled["recovery"]["startup_delay"]))]
                worker: Worker | QueueWorker = QueueWorker(
                    runtime, concurrency=settings.worker_concurrency, deliveries=run_worker,
                    jobs=jobs, at_start=at_start, worker_id=worker_id)
                tasks.append(asyncio.create_task(worker.run(stop), name="queue"))
            else:
                worker = Worker(runtime, concurrency=settings.worker_concurrency, worker_id=worker_id)
                if run_worker:
                    tasks.append(asyncio.create_task(worker.run(stop), name="worker"))
                if run_scheduler:
                    recovery = recovery_job(runtime, holder)
                    tasks.append(asyncio.create_task(
                        Scheduler(runtime, holder=holder, extra_jobs=[recovery]).run(stop),
                        name="scheduler"))
                    tasks.append(asyncio.create_task(
                        recover_at_startup(runtime, recovery, holder=holder, stop=stop),
                        name="recovery-at-startup"))
            app[WORKER] = worker
            committer = GroupCommitter(runtime.db)
            app[INTAKE] = make_handler(secret=settings.webhook_secret, store=committer,
                                       metrics=runtime.metrics, notify=worker.wake.set,
                                       budget=settings.intake_budget)
            yield
            await committer.close()
            stop.set()
            worker.wake.set()  # do not sit out the poll interval on shutdown
            for task in tasks:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, timeout=30)

    async def webhook(request: web.Request) -> web.StreamResponse:
        return await request.app[INTAKE](request)

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhook", webhook)
    for feature in load_features():
        if feature.web is not None:
            feature.web(app)  # pages read the runtime from request.app[RUNTIME]
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app

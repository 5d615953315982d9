"""Long-running processes: ``rostersync worker`` and ``rostersync scheduler``.

A worker runs queued syncs one at a time (``concurrency`` threads if asked)
and sends a heartbeat every ``heartbeat`` seconds, until it has exited (a
SIGTERM lets the running syncs finish first). Next to the worker runs a
reaper: a job whose worker stopped sending heartbeats for ``stalled_after``
seconds (killed, lost its machine) is put back in the queue, where another
worker picks it up. The store is safe meanwhile: a killed sync applied
nothing, and its sync lock died with its database session or process.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from dataclasses import dataclass

from procrastinate import App
from procrastinate import exceptions as pexc
from procrastinate import jobs as pjobs
from procrastinate.worker import Worker

from ..settings import Settings
from .app import QUEUE, build_job_app, enqueue_due
from .model import JobServices
from .pg import conninfo_from_url, ensure_job_schema

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """How one worker process behaves. Defaults suit production; tests shorten the times."""

    concurrency: int = 1
    name: str | None = None
    heartbeat: float = 10.0  # seconds between heartbeats
    stalled_after: float = 60.0  # a worker silent this long is presumed dead
    reap_every: float = 15.0  # how often to look for jobs of dead workers
    poll: float = 5.0  # seconds between queue polls (LISTEN/NOTIFY wakes it sooner)
    tick_seconds: int | None = 60  # periodic scheduler tick; None: run `rostersync scheduler`
    burst: bool = False  # stop once the queue is empty (benchmarks, tests)


async def reap_stalled_jobs(app: App, *, stalled_after: float, own_worker_id: int | None = None) -> int:
    """Put jobs of dead workers back in the queue; returns how many were requeued."""
    requeued = 0
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        if own_worker_id is not None and job.worker_id == own_worker_id:
            continue  # never our own: we are alive, whatever our heartbeat row says
        try:
            await app.job_manager.retry_job(job)
            requeued += 1
            log.warning("requeued job %s of a worker that stopped responding", job.id)
        except pexc.UniqueViolation:
            # A newer run of the same connection already waits: it covers this one.
            await app.job_manager.finish_job(job, status=pjobs.Status.FAILED, delete_job=False)
            log.warning("dropped job %s of a dead worker: a newer run of it is queued", job.id)
        except pexc.ConnectorException:
            log.debug("job %s was requeued by another worker", job.id)
    await app.job_manager.prune_stalled_workers(stalled_after)
    return requeued


async def _reaper(app: App, worker: Worker, options: WorkerOptions) -> None:
    while True:
        await asyncio.sleep(options.reap_every)
        try:
            await reap_stalled_jobs(app, stalled_after=options.stalled_after, own_worker_id=worker.worker_id)
        except Exception:  # noqa: BLE001 - the reaper must outlive a database hiccup
            log.exception("could not look for stalled jobs")


async def _keep_alive(app: App, worker: Worker, options: WorkerOptions) -> None:
    """Heartbeats until the worker is gone. procrastinate stops its own when asked to stop,
    while the running syncs finish; without these, a worker finishing a long sync after
    SIGTERM would look dead to the others, and they would run its sync a second time."""
    while True:
        await asyncio.sleep(options.heartbeat)
        if worker.worker_id is not None:
            try:
                await app.job_manager.update_heartbeat(worker.worker_id)
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.debug("could not send a heartbeat", exc_info=True)


async def run_worker_async(app: App, options: WorkerOptions) -> None:
    async with app.open_async():
        app.perform_import_paths()
        worker = Worker(
            app=app,
            queues=[QUEUE],
            name=options.name,
            concurrency=options.concurrency,
            wait=not options.burst,
            fetch_job_polling_interval=options.poll,
            abort_job_polling_interval=max(options.poll, 5.0),
            update_heartbeat_interval=options.heartbeat,
            stalled_worker_timeout=options.stalled_after,
            delete_jobs="successful",
        )
        helpers = [
            asyncio.create_task(_reaper(app, worker, options), name="rostersync-reaper"),
            asyncio.create_task(_keep_alive(app, worker, options), name="rostersync-heartbeat"),
        ]
        try:
            await worker.run()
        finally:
            for task in helpers:
                task.cancel()


def run_worker(settings: Settings, options: WorkerOptions | None = None, *,
               services: JobServices | None = None) -> None:
    """Run a worker until SIGINT/SIGTERM (or, with ``burst``, until the queue is empty)."""
    options = options or WorkerOptions()
    ensure_job_schema(conninfo_from_url(settings.database_url))
    app = build_job_app(
        settings,
        services=services,
        tick_seconds=options.tick_seconds,
        pool_size=max(4, options.concurrency + 3),
    )
    asyncio.run(run_worker_async(app, options))


def run_scheduler(settings: Settings, *, every: float = 60.0, once: bool = False,
                  services: JobServices | None = None, stop: threading.Event | None = None) -> int:
    """Enqueue what is due every ``every`` seconds (or once); returns how many runs were queued."""
    if services is None:
        from .services import build_job_services

        services = build_job_services(settings)
    ensure_job_schema(conninfo_from_url(settings.database_url))
    app = build_job_app(settings, services=services, tick_seconds=None)
    stop = stop or threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    total = 0
    with app.open():
        while True:
            started = time.monotonic()
            try:
                total += len(enqueue_due(app, services))
            except Exception:  # noqa: BLE001 - keep scheduling through a transient failure
                if once:
                    raise
                log.exception("the scheduler tick failed; trying again next tick")
            if once or stop.wait(max(0.0, every - (time.monotonic() - started))):
                return total

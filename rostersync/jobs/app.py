"""The procrastinate app: queued syncs on PostgreSQL.

Two tasks, registered by :func:`build_job_app` (nothing is built at import):

* ``rostersync.sync_connection`` runs one :class:`~rostersync.jobs.model.Order`.
  Every job of a connection carries the job lock ``rostersync:sync:<id>``, so
  procrastinate never runs two of them at once (the store's sync lock is the
  second guard), and a queueing lock, so at most one scheduled and one manual
  run of a connection wait in the queue. A Transient failure is retried by
  procrastinate at the time the retry policy gives (within the night's window).
* ``rostersync.enqueue_due``, a periodic task (every minute by default), defers
  every connection that is due and claims its night. Any number of workers
  may run the periodic deferrer: procrastinate defers each tick once, the
  queueing lock and the claim keep a night from being enqueued twice, and a
  duplicate delivery is skipped by the runner because the night is done.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from procrastinate import App, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.retry import BaseRetryStrategy

from ..settings import Settings
from ..store.engine import begin_write
from ..store.schedule_tables import claim_night
from . import runner
from .model import JobServices, Order
from .pg import build_connector, conninfo_from_url
from .planner import due_orders

log = logging.getLogger(__name__)

QUEUE = "rostersync"
SYNC_TASK = "rostersync.sync_connection"
TICK_TASK = "rostersync.enqueue_due"
MANUAL_PRIORITY = 10
TICK_PRIORITY = 100


class RetryLater(Exception):
    """Raised by the sync task to have procrastinate run the job again at ``at``."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        super().__init__(f"retry at {at.isoformat()}")


class _RetryWhenAsked(BaseRetryStrategy):
    """Retry only what the runner asked to retry (its policy decided when); nothing else."""

    def get_retry_decision(self, *, exception: BaseException, job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_at=exception.at)
        return None


def sync_lock(connection_id: int) -> str:
    return f"rostersync:sync:{connection_id}"


def _job_options(order: Order) -> dict[str, Any]:
    kind = "scheduled" if order.scheduled else "manual"
    return {
        "lock": sync_lock(order.connection_id),
        "queueing_lock": f"rostersync:{kind}:{order.connection_id}",
        "priority": 0 if order.scheduled else MANUAL_PRIORITY,
    }


def _cron(tick_seconds: int) -> str:
    """A procrastinate cron for a tick every ``tick_seconds`` (60, or a divisor of 60)."""
    if tick_seconds == 60:
        return "* * * * *"
    if 1 <= tick_seconds < 60 and 60 % tick_seconds == 0:
        return f"* * * * * */{tick_seconds}"  # croniter's sixth field is seconds
    raise ValueError(f"a scheduler tick of {tick_seconds}s: use 60 or a number of seconds dividing 60")


class _Lazy:
    """The process's services, built on first use (a worker builds them once)."""

    def __init__(self, settings: Settings, services: JobServices | None) -> None:
        self.settings = settings
        self.services = services

    def get(self) -> JobServices:
        if self.services is None:
            from .services import build_job_services

            self.services = build_job_services(self.settings)
        return self.services


def build_job_app(
    settings: Settings,
    *,
    services: JobServices | None = None,
    tick_seconds: int | None = 60,
    pool_size: int = 4,
) -> App:
    """The procrastinate app for ``settings.database_url`` (PostgreSQL only).

    ``services`` defaults to :func:`~rostersync.jobs.services.build_job_services`,
    built when the first job runs. ``tick_seconds=None`` registers no periodic
    task (run ``rostersync scheduler`` instead).
    """
    app = App(connector=build_connector(conninfo_from_url(settings.database_url), max_size=pool_size))
    lazy = _Lazy(settings, services)
    app.rostersync_services = lazy  # type: ignore[attr-defined]

    @app.task(name=SYNC_TASK, queue=QUEUE, pass_context=True, retry=_RetryWhenAsked())
    def sync_connection(context, *, connection_id: int, mode: str, reason: str,
                        night: str | None = None, deadline: str | None = None) -> dict[str, Any]:
        order = Order.from_job_args(
            {"connection_id": connection_id, "mode": mode, "reason": reason, "night": night, "deadline": deadline}
        )
        outcome = runner.execute(lazy.get(), order, attempt=context.job.attempts + 1)
        if outcome.kind == "retrying" and outcome.retry_at is not None:
            raise RetryLater(outcome.retry_at)
        return {"outcome": outcome.kind, "run_id": outcome.run_id}

    if tick_seconds:
        @app.periodic(cron=_cron(tick_seconds), periodic_id="tick")
        @app.task(name=TICK_TASK, queue=QUEUE, queueing_lock=TICK_TASK, priority=TICK_PRIORITY)
        async def enqueue_due_task(timestamp: int) -> int:
            return len(await enqueue_due_async(app, lazy.get()))

    return app


def _claim(services: JobServices, order: Order) -> None:
    assert order.night is not None
    with begin_write(services.engine) as conn:
        claim_night(db=conn, connection_id=order.connection_id, night=order.night, at=services.clock())


def enqueue_order(app: App, order: Order) -> int | None:
    """Queue ``order`` (app opened synchronously); None if the same kind of run already waits."""
    try:
        return app.configure_task(SYNC_TASK, **_job_options(order)).defer(**order.to_job_args())
    except AlreadyEnqueued:
        return None


async def enqueue_order_async(app: App, order: Order) -> int | None:
    try:
        return await app.configure_task(SYNC_TASK, **_job_options(order)).defer_async(**order.to_job_args())
    except AlreadyEnqueued:
        return None


def enqueue_due(app: App, services: JobServices, now: datetime | None = None) -> list[Order]:
    """Queue every scheduled run due at ``now`` and claim its night; returns what was queued."""
    queued = []
    for order in due_orders(services, now):
        job_id = enqueue_order(app, order)
        _claim(services, order)
        if job_id is not None:
            queued.append(order)
    if queued:
        log.info("queued %d scheduled sync(s)", len(queued))
    return queued


async def enqueue_due_async(app: App, services: JobServices, now: datetime | None = None) -> list[Order]:
    queued = []
    for order in await asyncio.to_thread(due_orders, services, now):
        job_id = await enqueue_order_async(app, order)
        await asyncio.to_thread(_claim, services, order)
        if job_id is not None:
            queued.append(order)
    if queued:
        log.info("queued %d scheduled sync(s)", len(queued))
    return queued

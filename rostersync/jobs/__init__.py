"""Scheduled and queued syncs for many districts.

When a connection is due is decided by :mod:`rostersync.schedule` (pure).
This package runs it:

* at scale, on PostgreSQL, with procrastinate: :func:`build_job_app`,
  ``rostersync worker`` (:func:`run_worker`, any number of machines) and the
  periodic tick or ``rostersync scheduler`` (:func:`run_scheduler`) that
  queue what is due (:func:`enqueue_due`); manual runs with :func:`enqueue_run`;
* embedded, on SQLite: :func:`start_embedded_scheduler`, which
  ``rostersync serve`` starts in-process.

Both paths share :func:`rostersync.jobs.runner.execute` (one order, its
rules and its bookkeeping) and the ``sync_schedules`` table
(:mod:`rostersync.store.schedule_tables`). Modules: :mod:`.model` (values),
:mod:`.planner` (due orders, overview), :mod:`.runner`, :mod:`.app`
(procrastinate), :mod:`.worker`, :mod:`.pg`, :mod:`.embedded`,
:mod:`.services` (wiring to the store and the sync engine), :mod:`.control`
(pause, resume, retry, schedule changes), :mod:`.notices` (held and failed
runs announced).

A run that ends held for review, or an order that stops failing, is announced
through ``JobServices.announce`` (:class:`RunEnded`); :func:`build_job_services`
wires it to the dashboard's notifications and the signed webhook
(:mod:`rostersync.jobs.notices`, :mod:`rostersync.notify`).
"""

from .app import build_job_app, enqueue_due, enqueue_order
from .control import enqueue_run, pause, resume, retry_connection, set_schedule
from .embedded import EmbeddedScheduler, start_embedded_scheduler
from .model import JobServices, Order, Outcome, RunEnded, SyncReport
from .planner import overview, review
from .services import build_job_services
from .worker import WorkerOptions, run_scheduler, run_worker

__all__ = [
    "EmbeddedScheduler", "JobServices", "Order", "Outcome", "RunEnded", "SyncReport", "WorkerOptions",
    "build_job_app", "build_job_services", "enqueue_due", "enqueue_order", "enqueue_run", "overview",
    "pause", "resume", "retry_connection", "review", "run_scheduler", "run_worker", "set_schedule",
    "start_embedded_scheduler",
]

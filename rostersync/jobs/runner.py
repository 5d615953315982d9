"""Run one order: check it is still wanted, sync, and remember how it ended.

Shared by the procrastinate task and the embedded scheduler, so both follow
the same rules:

* a scheduled run is skipped when its night is already done (exactly one run
  per night even if a job is delivered twice), when the connection was paused,
  held or put in Error since it was enqueued, or when it starts after its
  window closed ("missed": the next night catches up);
* a manual run is refused while a run waits for review, and otherwise runs
  whatever the schedule says (it is how a person retries a connection in Error);
* failures go through :func:`rostersync.schedule.after_failure`: Transient ones
  come back as ``retrying`` with a time, Terminal ones put the connection in
  Error with their fix. A run that was applied but could not read some
  collections (the provider failed on them) counts as a Transient failure:
  it is tried again within the window;
* a run held for review, and an order that stops failing (Error, or out of
  retries), are announced (``services.announce``: a staff notification and the
  webhook) after the outcome is recorded; an announcement that fails is logged
  and changes nothing else.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError

from ..errors import RostersyncError, Terminal
from ..schedule import GiveUp, after_failure
from ..store.engine import begin_write
from ..store.schedule_tables import ScheduleRow, record_outcome, schedule_row
from .model import JobServices, Order, Outcome, RunEnded, SyncReport

log = logging.getLogger(__name__)


def report_failure(exc: BaseException) -> SyncReport:
    """A failed :class:`SyncReport` for an exception raised by a sync."""
    if isinstance(exc, RostersyncError):
        return SyncReport(state="failed", message=exc.message, fix=exc.fix, terminal=isinstance(exc, Terminal))
    if isinstance(exc, (OperationalError, DBAPIError, OSError, TimeoutError)):
        return SyncReport(state="failed", message=f"{type(exc).__name__} while syncing; will retry")
    # An unexpected bug: retried like a transient failure (bounded by the policy), logged in full.
    return SyncReport(state="failed", message=f"unexpected {type(exc).__name__} while syncing")


def _record(services: JobServices, order: Order, outcome: Outcome, **extra) -> Outcome:
    with begin_write(services.engine) as conn:
        record_outcome(
            db=conn,
            connection_id=order.connection_id,
            outcome=outcome.kind,
            at=services.clock(),
            message=outcome.message,
            run_id=outcome.run_id,
            retry_at=outcome.retry_at,
            **extra,
        )
    return outcome


def _announce(services: JobServices, order: Order, name: str, outcome: Outcome, report: SyncReport, *,
              attempts: int, detail: str = "") -> None:
    """Tell people a run ended held or failed for good; a failure to tell never fails the job."""
    event = RunEnded(
        event="run.held" if outcome.kind == "held" else "run.failed", outcome=outcome.kind,
        connection_id=order.connection_id, connection_name=name, mode=order.mode, reason=order.reason,
        scheduled=order.scheduled, run_id=report.run_id, message=report.message or outcome.message,
        fix=report.fix, detail=detail, attempts=attempts,
    )
    try:
        services.announce(event)
    except Exception as exc:  # noqa: BLE001 - the run's outcome is recorded; only the news is lost
        log.warning("connection %s: %s of run %s was not announced (%s)", name, event.event, event.run_id,
                    type(exc).__name__)


def _precheck(services: JobServices, order: Order, row: ScheduleRow | None) -> Outcome | None:
    """Why ``order`` should not run now (an outcome), or None to go ahead."""
    if row is None:
        return Outcome("skipped", "the connection was removed")
    if not order.scheduled:
        if row.held:
            return _record(services, order, Outcome("skipped", "a run waits for review: approve or discard it first"))
        return None
    if row.done_night is not None and row.done_night >= order.night:
        return Outcome("skipped", f"the night of {order.night} was already synced")
    done = {"done_night": order.night}
    if row.paused:
        return _record(services, order, Outcome("skipped", "paused"), **done)
    if row.held:
        return _record(services, order, Outcome("skipped", "held for review"), **done)
    if row.error:
        return _record(services, order, Outcome("skipped", "in Error"), **done)
    if order.deadline is not None and services.clock() >= order.deadline:
        message = f"the sync window of {order.night} closed before the run could start"
        return _record(services, order, Outcome("missed", message), **done)
    return None


def execute(services: JobServices, order: Order, *, attempt: int = 1) -> Outcome:
    """Run ``order`` (attempt number ``attempt``, 1-based) and record the outcome."""
    with services.engine.connect() as conn:
        row = schedule_row(db=conn, connection_id=order.connection_id)
    stop = _precheck(services, order, row)
    if stop is not None:
        log.info("connection %s: %s", order.connection_id, stop.message)
        return stop
    assert row is not None
    name = row.name
    log.info("connection %s: %s sync (%s), attempt %d", name, order.mode, order.reason, attempt)
    try:
        report = services.run_sync(order.connection_id, order.mode)
    except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
        if not isinstance(exc, RostersyncError):
            log.exception("connection %s: the sync crashed", name)
        report = report_failure(exc)
    done = {"done_night": order.night} if order.scheduled else {}
    if report.state == "applied":
        log.info("connection %s: synced (run %s)", name, report.run_id)
        return _record(services, order, Outcome("synced", f"{order.mode} sync applied", report.run_id),
                       attempts=0, clear_error=True, **done)
    if report.state == "paused":  # paused after the precheck: the night is settled
        return _record(services, order, Outcome("skipped", "paused"), **done)
    if report.state == "held":
        log.warning("connection %s: run %s held for review", name, report.run_id)
        outcome = _record(services, order, Outcome("held", report.message or "held for review", report.run_id),
                          attempts=0, **done)
        _announce(services, order, name, outcome, report, attempts=attempt)
        return outcome
    return _after_failure(services, order, row, report, attempt, done)


def _after_failure(services: JobServices, order: Order, row: ScheduleRow, report: SyncReport, attempt: int,
                   done: dict) -> Outcome:
    decision = after_failure(
        services.retry,
        terminal=report.terminal,
        attempts=attempt,
        now=services.clock(),
        deadline=order.deadline,
    )
    message = report.message or "the sync failed"
    if isinstance(decision, GiveUp):
        kind = "error" if decision.error else "gave_up"
        log.warning("connection %s: %s (%s)", row.name, message, decision.reason)
        outcome = Outcome(kind, f"{message} ({decision.reason})", report.run_id)
        with begin_write(services.engine) as conn:
            record_outcome(
                db=conn,
                connection_id=order.connection_id,
                outcome=kind,
                at=services.clock(),
                message=outcome.message,
                fix=report.fix,
                run_id=report.run_id,
                attempts=attempt,
                error_marker=row.credentials_marker if decision.error else None,
                **done,
            )
        _announce(services, order, row.name, outcome, report, attempts=attempt, detail=decision.reason)
        return outcome
    log.info("connection %s: %s; retrying at %s", row.name, message, decision.at.isoformat())
    outcome = Outcome("retrying", message, report.run_id, retry_at=decision.at)
    with begin_write(services.engine) as conn:
        record_outcome(
            db=conn,
            connection_id=order.connection_id,
            outcome="retrying",
            at=services.clock(),
            message=message,
            fix=report.fix,
            run_id=report.run_id,
            attempts=attempt,
            retry_at=decision.at,
        )
    return outcome

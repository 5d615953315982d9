"""Which connections are due now: the store's facts turned into schedule decisions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ..errors import ConfigError
from ..schedule import (
    DEFAULT_FULL_WEEKDAY,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    Due,
    NotDue,
    Policy,
    RetryPolicy,
    State,
    decide,
    parse_hhmm,
)
from ..store.schedule_tables import ScheduleRow, schedule_rows
from .model import JobServices, Order

log = logging.getLogger(__name__)


def policy_for(row: ScheduleRow, retry: RetryPolicy | None = None) -> Policy:
    """The connection's schedule: its time zone plus its overrides of the house defaults."""
    summer = None
    if row.summer_pause_start and row.summer_pause_end:
        summer = (row.summer_pause_start, row.summer_pause_end)
    return Policy(
        timezone=row.timezone or "UTC",
        window_start=parse_hhmm(row.window_start, what="window start") if row.window_start else DEFAULT_WINDOW_START,
        window_end=parse_hhmm(row.window_end, what="window end") if row.window_end else DEFAULT_WINDOW_END,
        full_weekday=DEFAULT_FULL_WEEKDAY if row.full_weekday is None else row.full_weekday,
        summer_pause=summer,
        retry=retry or RetryPolicy(),
    )


def state_for(row: ScheduleRow) -> State:
    return State(
        paused=row.paused,
        held=row.held,
        error=row.error,
        last_full_at=row.last_full_at,
        claimed_night=row.claimed_night,
    )


@dataclass(frozen=True)
class Verdict:
    """One connection's decision, for the scheduler and for people (``rostersync schedules``)."""

    row: ScheduleRow
    policy: Policy | None
    decision: Due | NotDue


def review(services: JobServices, now: datetime | None = None) -> list[Verdict]:
    """Every connection with its decision at ``now``."""
    now = now or services.clock()
    with services.engine.connect() as conn:
        rows = schedule_rows(db=conn)
    verdicts = []
    for row in rows:
        try:
            policy = policy_for(row, services.retry)
        except ConfigError as exc:
            log.warning("connection %s has an unusable schedule: %s", row.name, exc)
            verdicts.append(Verdict(row, None, NotDue(f"unusable schedule: {exc}", None)))
            continue
        verdicts.append(Verdict(row, policy, decide(policy, state_for(row), now)))
    return verdicts


def due_orders(services: JobServices, now: datetime | None = None) -> list[Order]:
    """The scheduled runs to enqueue at ``now``."""
    orders = []
    for verdict in review(services, now):
        decision = verdict.decision
        if isinstance(decision, Due):
            orders.append(
                Order(
                    connection_id=verdict.row.connection_id,
                    mode=decision.mode,
                    reason=decision.reason,
                    night=decision.night,
                    deadline=decision.window_end,
                )
            )
    return orders


def status_label(verdict: Verdict) -> str:
    """The state a person reads: Error, Held, Paused, Summer pause, Due, Retrying or Scheduled."""
    row, decision = verdict.row, verdict.decision
    if row.error:
        return "Error"
    if row.held:
        return "Held"
    if row.paused:
        return "Paused"
    if isinstance(decision, Due):
        return "Due"
    if row.last_outcome == "retrying":
        return "Retrying"
    if isinstance(decision, NotDue) and decision.reason == "summer pause":
        return "Summer pause"
    if verdict.policy is None:
        return "Invalid schedule"
    return "Scheduled"


def overview(services: JobServices, now: datetime | None = None) -> list[dict]:
    """One JSON-able line per connection: schedule, state, next run, last outcome (CLI and dashboard)."""
    now = now or services.clock()
    lines = []
    for verdict in review(services, now):
        row, decision = verdict.row, verdict.decision
        next_at = now if isinstance(decision, Due) else decision.next_at
        lines.append({
            "connection": row.name,
            "connection_id": row.connection_id,
            "schedule": verdict.policy.describe() if verdict.policy else None,
            "state": status_label(verdict),
            "why": decision.reason,
            "next_run_at": next_at.isoformat() if next_at else None,
            "last_outcome": row.last_outcome,
            "last_outcome_at": row.last_outcome_at.isoformat() if row.last_outcome_at else None,
            "last_message": row.last_message,
            "fix": row.last_fix if row.error or row.last_outcome in ("gave_up", "retrying") else None,
            "last_run_id": row.last_run_id,
            "retry_at": row.retry_at.isoformat() if row.retry_at else None,
        })
    return lines

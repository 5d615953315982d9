"""The scheduler's table and the queries over it.

``sync_schedules`` holds, per connection, what differs from the house
schedule (window, weekly full-sync day, summer pause; NULL means the default)
and what the scheduler remembers between ticks: the last night a scheduled run
was enqueued for (``claimed_night``) and finished (``done_night``), the last
outcome, transient retries of the embedded scheduler (``attempts``,
``retry_at``) and the Error state of a Terminal failure (``error_since`` and
the fingerprint of the credentials it failed with: new credentials clear it).

A connection has no row until the scheduler first touches it. The district's
time zone is ``connections.timezone``; whether it is paused is
``connections.paused``; whether a run waits for review and when the last full
sync was applied come from ``sync_runs``. Functions take the database connection
``db`` keyword-only and never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import orjson
from sqlalchemy import (
    Column,
    Connection,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from .tables import connections, metadata, sync_runs
from .types import UTCDateTime

sync_schedules = Table(
    "sync_schedules",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    # policy overrides (NULL: the house default)
    Column("window_start", String(5)),  # "HH:MM" local
    Column("window_end", String(5)),
    Column("full_weekday", Integer),  # 0 = Monday
    Column("summer_pause_start", Date),  # first paused night (local)
    Column("summer_pause_end", Date),  # last paused night (local)
    # what the scheduler remembers
    Column("claimed_night", Date),  # last night a scheduled run was enqueued for
    Column("claimed_at", UTCDateTime),
    Column("done_night", Date),  # last night whose scheduled run finished
    Column("attempts", Integer, nullable=False, default=0),  # failed attempts of the current run
    Column("retry_at", UTCDateTime),  # embedded scheduler: when to retry the current run
    Column("last_outcome", String(16)),  # synced | held | error | gave_up | skipped | retrying | missed
    Column("last_message", Text),
    Column("last_fix", Text),
    Column("last_run_id", Integer),
    Column("last_outcome_at", UTCDateTime),
    Column("error_since", UTCDateTime),  # set by a Terminal failure, cleared by new credentials or a retry
    Column("error_marker", String(64)),  # fingerprint of the credentials that failed
)

# Shown instead of a run's outcome in lists: the states a person reads.
OUTCOMES = ("synced", "held", "error", "gave_up", "skipped", "retrying", "missed")


@dataclass(frozen=True)
class ScheduleRow:
    """Everything the scheduler needs about one connection, read in one query."""

    connection_id: int
    name: str
    timezone: str
    paused: bool
    held: bool
    last_full_at: datetime | None
    window_start: str | None
    window_end: str | None
    full_weekday: int | None
    summer_pause_start: date | None
    summer_pause_end: date | None
    claimed_night: date | None
    done_night: date | None
    attempts: int
    retry_at: datetime | None
    last_outcome: str | None
    last_message: str | None
    last_fix: str | None
    last_run_id: int | None
    last_outcome_at: datetime | None
    error_since: datetime | None
    error_marker: str | None
    credentials_marker: str

    @property
    def error(self) -> bool:
        """In Error: a Terminal failure, and the credentials have not changed since."""
        return self.error_since is not None and self.error_marker == self.credentials_marker


def credentials_marker(secrets: str, settings: object) -> str:
    """A fingerprint that changes whenever a connection's credentials or endpoints are saved again."""
    digest = hashlib.sha256()
    digest.update(secrets.encode())
    digest.update(orjson.dumps(settings, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
    return digest.hexdigest()


def _facts_query(connection_ids: Iterable[int] | None):
    held = exists().where(and_(sync_runs.c.connection_id == connections.c.id, sync_runs.c.state == "held"))
    last_full = (
        select(func.max(sync_runs.c.finished_at))
        .where(
            sync_runs.c.connection_id == connections.c.id,
            sync_runs.c.mode == "full",
            sync_runs.c.state == "applied",
            sync_runs.c.dry_run.is_(False),
        )
        .scalar_subquery()
    )
    s = sync_schedules.c
    query = (
        select(
            connections.c.id,
            connections.c.name,
            connections.c.timezone,
            connections.c.paused,
            connections.c.secrets,
            connections.c.settings,
            held.label("held"),
            last_full.label("last_full_at"),
            s.window_start, s.window_end, s.full_weekday, s.summer_pause_start, s.summer_pause_end,
            s.claimed_night, s.done_night, s.attempts, s.retry_at, s.last_outcome, s.last_message,
            s.last_fix, s.last_run_id, s.last_outcome_at, s.error_since, s.error_marker,
        )
        .select_from(connections.outerjoin(sync_schedules, sync_schedules.c.connection_id == connections.c.id))
        .order_by(connections.c.id)
    )
    if connection_ids is not None:
        query = query.where(connections.c.id.in_(list(connection_ids)))
    return query


def _row(row) -> ScheduleRow:
    return ScheduleRow(
        connection_id=row.id,
        name=row.name,
        timezone=row.timezone,
        paused=bool(row.paused),
        held=bool(row.held),
        last_full_at=row.last_full_at,
        window_start=row.window_start,
        window_end=row.window_end,
        full_weekday=row.full_weekday,
        summer_pause_start=row.summer_pause_start,
        summer_pause_end=row.summer_pause_end,
        claimed_night=row.claimed_night,
        done_night=row.done_night,
        attempts=row.attempts or 0,
        retry_at=row.retry_at,
        last_outcome=row.last_outcome,
        last_message=row.last_message,
        last_fix=row.last_fix,
        last_run_id=row.last_run_id,
        last_outcome_at=row.last_outcome_at,
        error_since=row.error_since,
        error_marker=row.error_marker,
        credentials_marker=credentials_marker(row.secrets, row.settings),
    )


def schedule_rows(*, db: Connection, connection_ids: Iterable[int] | None = None) -> list[ScheduleRow]:
    """The scheduler's view of every connection (or of ``connection_ids``)."""
    return [_row(row) for row in db.execute(_facts_query(connection_ids))]


def schedule_row(*, db: Connection, connection_id: int) -> ScheduleRow | None:
    rows = schedule_rows(db=db, connection_ids=[connection_id])
    return rows[0] if rows else None


def ensure_schedule(*, db: Connection, connection_id: int) -> None:
    """Create the connection's schedule row (all defaults) unless it exists."""
    dialect = sqlite if db.dialect.name == "sqlite" else postgresql
    db.execute(
        dialect.insert(sync_schedules)
        .values(connection_id=connection_id, attempts=0)
        .on_conflict_do_nothing(index_elements=["connection_id"])
    )


def claim_night(*, db: Connection, connection_id: int, night: date, at: datetime) -> bool:
    """Mark ``night``'s scheduled run as enqueued; False if it already was (by anyone)."""
    ensure_schedule(db=db, connection_id=connection_id)
    result = db.execute(
        update(sync_schedules)
        .where(
            sync_schedules.c.connection_id == connection_id,
            or_(sync_schedules.c.claimed_night.is_(None), sync_schedules.c.claimed_night < night),
        )
        .values(claimed_night=night, claimed_at=at, attempts=0, retry_at=None)
    )
    return result.rowcount == 1


def set_policy(
    *,
    db: Connection,
    connection_id: int,
    window_start: str | None,
    window_end: str | None,
    full_weekday: int | None,
    summer_pause: tuple[date, date] | None,
) -> None:
    """Store a connection's schedule overrides (None: back to the house default)."""
    ensure_schedule(db=db, connection_id=connection_id)
    db.execute(
        update(sync_schedules)
        .where(sync_schedules.c.connection_id == connection_id)
        .values(
            window_start=window_start,
            window_end=window_end,
            full_weekday=full_weekday,
            summer_pause_start=summer_pause[0] if summer_pause else None,
            summer_pause_end=summer_pause[1] if summer_pause else None,
        )
    )


def record_outcome(
    *,
    db: Connection,
    connection_id: int,
    outcome: str,
    at: datetime,
    message: str | None = None,
    fix: str | None = None,
    run_id: int | None = None,
    done_night: date | None = None,
    attempts: int | None = None,
    retry_at: datetime | None = None,
    error_marker: str | None = None,
    clear_error: bool = False,
) -> None:
    """Remember how a run ended.

    ``done_night`` marks the night's scheduled run finished; ``error_marker``
    puts the connection in Error (the fingerprint of the failing credentials);
    ``clear_error`` takes it out.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
    ensure_schedule(db=db, connection_id=connection_id)
    values: dict[str, object] = {
        "last_outcome": outcome,
        "last_message": message,
        "last_fix": fix,
        "last_outcome_at": at,
        "retry_at": retry_at,
    }
    if run_id is not None:
        values["last_run_id"] = run_id
    if attempts is not None:
        values["attempts"] = attempts
    if done_night is not None:
        values["done_night"] = done_night
    if error_marker is not None:
        values["error_since"] = at
        values["error_marker"] = error_marker
    elif clear_error:
        values["error_since"] = None
        values["error_marker"] = None
    db.execute(update(sync_schedules).where(sync_schedules.c.connection_id == connection_id).values(**values))


def clear_error(*, db: Connection, connection_id: int) -> None:
    """A person asked to retry: the connection leaves Error."""
    db.execute(
        update(sync_schedules)
        .where(sync_schedules.c.connection_id == connection_id)
        .values(error_since=None, error_marker=None)
    )

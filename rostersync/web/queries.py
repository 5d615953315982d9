"""What the dashboard shows of districts, connections and runs.

The store reads (:mod:`rostersync.store.connections`, :mod:`~rostersync.store.runs`,
:mod:`~rostersync.store.dashboard`, :mod:`~rostersync.store.roster`); this
module turns what it read into the dashboard's rows. A district's state is
read from its connection, its runs and the scheduler's memory:

    Awaiting credentials   no connection yet (the intake link is out)
    Syncing                a run is in progress
    Held for review        a run waits for a person to approve or discard it
    Paused                 staff paused the connection
    Error                  the last run failed (or the scheduler gave up)
    Healthy                the last run was applied
    Ready                  credentials are in, no sync has run yet
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from ..errors import RostersyncError
from ..jobs.planner import policy_for, state_for
from ..oneroster.kinds import Kind
from ..schedule import Policy, State, next_run_at
from ..store import dashboard as store_dashboard
from ..store import runs as store_runs
from ..store.connections import StoredConnection, get_connection, list_connection_labels, list_connections
from ..store.errors import ConnectionNotFound, RunNotFound
from ..store.roster import count_records_by_connection
from ..store.schedule_tables import ScheduleRow, schedule_rows
from .links import District, list_districts

AWAITING = "Awaiting credentials"
READY = "Ready"
SYNCING = "Syncing"
HEALTHY = "Healthy"
HELD = "Held for review"
ERROR = "Error"
PAUSED = "Paused"
STATES = (AWAITING, READY, SYNCING, HEALTHY, HELD, ERROR, PAUSED)

EXPIRY_WARNING = datetime.timedelta(days=30)
COUNTED = (Kind.ORG, Kind.USER, Kind.CLASS, Kind.ENROLLMENT)


@dataclass(frozen=True)
class Run(store_runs.StoredRun):
    """A stored run, with the totals the dashboard shows."""

    def totals(self) -> dict[str, int]:
        out = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
        for per_kind in (self.counts or {}).values():
            for key in out:
                out[key] += int((per_kind or {}).get(key) or 0)
        return out


@dataclass
class Overview:
    """One row of the dashboard."""

    district: District
    connection: StoredConnection | None
    state: str
    last_run: Run | None = None
    next_run: datetime.datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    expires_on: datetime.date | None = None
    expiry_warning: str = ""
    error_message: str = ""
    error_fix: str = ""

    @property
    def has_connection(self) -> bool:
        return self.connection is not None


def _run(run: store_runs.StoredRun) -> Run:
    return Run(**{f.name: getattr(run, f.name) for f in dataclasses.fields(run)})


def connection_row(name: str, *, conn: Connection) -> StoredConnection | None:
    try:
        return get_connection(db=conn, name=name)
    except ConnectionNotFound:
        return None


def connection_names(*, conn: Connection) -> set[str]:
    return {c.name for c in list_connection_labels(db=conn)}


def get_run(run_id: int, *, conn: Connection) -> Run | None:
    try:
        return _run(store_runs.get_run(db=conn, run_id=run_id))
    except RunNotFound:
        return None


def runs_of(connection_id: int, *, conn: Connection, limit: int = 20) -> list[Run]:
    return [_run(r) for r in store_runs.list_runs(db=conn, connection_id=connection_id, limit=limit)]


def held_runs(*, conn: Connection) -> list[tuple[Run, str]]:
    """Runs waiting for review, with their connection's name, oldest first."""
    held = store_runs.list_runs(db=conn, states=(store_runs.HELD,), limit=None)
    return [(_run(r), r.connection_name) for r in reversed(held)]


def record_counts(*, conn: Connection) -> dict[int, dict[str, int]]:
    """``{connection_id: {kind: live records}}`` for the kinds the dashboard shows."""
    counts = count_records_by_connection(db=conn, kinds=COUNTED)
    return {cid: {kind.value: n for kind, n in per_kind.items()} for cid, per_kind in counts.items()}


def _next_run(row: ScheduleRow, now: datetime.datetime) -> datetime.datetime | None:
    try:
        return next_run_at(policy_for(row), state_for(row), now)
    except RostersyncError:  # a bad schedule override must not take the dashboard down
        return None


def expiry_warning(expires_on: datetime.date | None, today: datetime.date) -> str:
    """A warning when credentials expire within 30 days (or have expired)."""
    if expires_on is None:
        return ""
    days = (expires_on - today).days
    if days < 0:
        return f"The credentials expired on {expires_on.isoformat()}: ask the district for new ones."
    if days <= EXPIRY_WARNING.days:
        return (f"The credentials expire on {expires_on.isoformat()} (in {days} day{'s' if days != 1 else ''}): "
                "ask the district to extend the Token Expiration Date or send new credentials.")
    return ""


def _expires_on(district: District, connection: StoredConnection | None) -> datetime.date | None:
    if connection:
        text = connection.settings.get("expires_on")
        if text:
            try:
                return datetime.date.fromisoformat(str(text)[:10])
            except ValueError:
                pass
    return district.credentials_expire_on


def overviews(districts: list[District], *, conn: Connection,
              now: datetime.datetime | None = None) -> list[Overview]:
    """The dashboard's rows for ``districts``."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    by_name = {c.name: c for c in list_connections(db=conn)}
    counts = record_counts(conn=conn)
    latest = {cid: _run(run) for cid, run in store_dashboard.latest_runs(db=conn).items()}
    running = store_dashboard.syncing_connection_ids(db=conn)
    schedules = {row.connection_id: row for row in schedule_rows(db=conn)}
    out = []
    for district in districts:
        connection = by_name.get(district.connection_name)
        item = Overview(district=district, connection=connection, state=AWAITING)
        item.expires_on = _expires_on(district, connection)
        item.expiry_warning = expiry_warning(item.expires_on, now.date())
        if connection is None:
            out.append(item)
            continue
        cid = connection.id
        item.counts = counts.get(cid, {})
        item.last_run = latest.get(cid)
        schedule = schedules.get(cid)
        held = bool(schedule and schedule.held)
        in_error = bool(schedule and schedule.error)
        last = item.last_run
        if cid in running:
            item.state = SYNCING
        elif held:
            item.state = HELD
        elif connection.paused:
            item.state = PAUSED
        elif in_error or (last is not None and last.state == "failed"):
            item.state = ERROR
        elif last is not None and last.state in ("applied", "discarded"):
            item.state = HEALTHY
        else:
            item.state = READY
        if item.state == ERROR:
            if last is not None and last.errors:
                first = last.errors[0] if isinstance(last.errors[0], dict) else {"message": str(last.errors[0])}
                item.error_message = str(first.get("message") or "")
                item.error_fix = str(first.get("fix") or "")
            elif schedule is not None:
                item.error_message = schedule.last_message or ""
                item.error_fix = schedule.last_fix or ""
        if schedule is not None:
            item.next_run = _next_run(schedule, now)
        elif not connection.paused and not held:
            item.next_run = next_run_at(Policy(timezone=connection.timezone or "America/Chicago"),
                                        State(), now)
        out.append(item)
    return out


def all_overviews(*, conn: Connection, now: datetime.datetime | None = None) -> list[Overview]:
    return overviews(list_districts(conn=conn), conn=conn, now=now)

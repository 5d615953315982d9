"""Read-only queries the dashboard needs over the store's tables.

Only SELECTs live here; every write goes through the store's and the sync
engine's own functions. A district's state is read from its connection, its
runs and the scheduler's memory:

    Awaiting credentials   no connection yet (the intake link is out)
    Syncing                a run is in progress
    Held for review        a run waits for a person to approve or discard it
    Paused                 staff paused the connection
    Error                  the last run failed (or the scheduler gave up)
    Healthy                the last run was applied
    Ready                  credentials are in, no sync has run yet
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..oneroster.kinds import Kind
from ..errors import RostersyncError
from ..jobs.planner import policy_for, state_for
from ..schedule import Policy, State, next_run_at
from ..store.schedule_tables import ScheduleRow, schedule_rows
from ..store.tables import ROSTER_TABLES, connections, sync_runs
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


@dataclass
class Run:
    id: int
    connection_id: int
    mode: str
    state: str
    dry_run: bool
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    records_read: int
    counts: dict
    warnings: list
    errors: list
    hold_reasons: list
    unresolved: dict
    collections: dict

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

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
    connection: dict | None
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


def _run(row) -> Run:
    m = row._mapping
    return Run(id=m["id"], connection_id=m["connection_id"], mode=m["mode"], state=m["state"],
               dry_run=bool(m["dry_run"]), started_at=m["started_at"], finished_at=m["finished_at"],
               records_read=m["records_read"] or 0, counts=m["counts"] or {}, warnings=m["warnings"] or [],
               errors=m["errors"] or [], hold_reasons=m["hold_reasons"] or [],
               unresolved=m["unresolved"] or {}, collections=m["collections"] or {})


def connection_row(name: str, *, conn: Connection) -> dict | None:
    row = conn.execute(select(connections).where(connections.c.name == name)).first()
    return dict(row._mapping) if row else None


def connection_names(*, conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(connections.c.name))}


def get_run(run_id: int, *, conn: Connection) -> Run | None:
    row = conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()
    return _run(row) if row else None


def runs_of(connection_id: int, *, conn: Connection, limit: int = 20) -> list[Run]:
    rows = conn.execute(select(sync_runs).where(sync_runs.c.connection_id == connection_id)
                        .order_by(sync_runs.c.id.desc()).limit(limit))
    return [_run(r) for r in rows]


def held_runs(*, conn: Connection) -> list[tuple[Run, str]]:
    """Runs waiting for review, with their connection's name, oldest first."""
    rows = conn.execute(select(sync_runs, connections.c.name.label("connection_name"))
                        .select_from(sync_runs.join(connections))
                        .where(sync_runs.c.state == "held").order_by(sync_runs.c.id))
    return [(_run(r), r.connection_name) for r in rows]


def record_counts(*, conn: Connection) -> dict[int, dict[str, int]]:
    """``{connection_id: {kind: live records}}`` for the kinds the dashboard shows."""
    out: dict[int, dict[str, int]] = {}
    for kind in COUNTED:
        table = ROSTER_TABLES[kind]
        query = (select(table.c.connection_id, func.count()).where(table.c.deleted_at.is_(None))
                 .group_by(table.c.connection_id))
        for connection_id, n in conn.execute(query):
            out.setdefault(connection_id, {})[kind.value] = n
    return out


def _latest_runs(*, conn: Connection) -> dict[int, Run]:
    latest = (select(func.max(sync_runs.c.id)).where(sync_runs.c.dry_run.is_(False))
              .group_by(sync_runs.c.connection_id))
    rows = conn.execute(select(sync_runs).where(sync_runs.c.id.in_(latest)))
    return {r.connection_id: _run(r) for r in rows}


def _running(*, conn: Connection) -> set[int]:
    return {r[0] for r in conn.execute(select(sync_runs.c.connection_id).where(sync_runs.c.state == "running"))}


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


def _expires_on(district: District, connection: dict | None) -> datetime.date | None:
    if connection:
        text = (connection.get("settings") or {}).get("expires_on")
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
    by_name = {r.name: dict(r._mapping) for r in conn.execute(select(connections))}
    counts = record_counts(conn=conn)
    latest = _latest_runs(conn=conn)
    running = _running(conn=conn)
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
        cid = connection["id"]
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
        elif connection["paused"]:
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
        elif not connection["paused"] and not held:
            item.next_run = next_run_at(Policy(timezone=connection["timezone"] or "America/Chicago"),
                                        State(), now)
        out.append(item)
    return out


def all_overviews(*, conn: Connection, now: datetime.datetime | None = None) -> list[Overview]:
    return overviews(list_districts(conn=conn), conn=conn, now=now)

"""Sync runs: one row per run of a connection, whatever became of it.

States: ``running`` (reading or applying), ``held`` (the guard stopped it; its
staged diff is kept for approval), ``applied``, ``discarded`` (a held run a
person dropped, or a dry run), ``failed``. A run found ``running`` while its
connection's sync lock is free was interrupted (its process died):
:func:`fail_interrupted_runs` records that.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from .errors import RunNotFound
from .tables import connections, sync_runs
from .types import UTC

RUNNING, HELD, APPLIED, DISCARDED, FAILED = "running", "held", "applied", "discarded", "failed"
STATES = (RUNNING, HELD, APPLIED, DISCARDED, FAILED)
MODES = ("full", "delta")


@dataclass(frozen=True)
class StoredRun:
    id: int
    connection_id: int
    connection_name: str
    mode: str
    state: str
    dry_run: bool
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    base_run_id: int | None
    records_read: int
    counts: dict[str, dict[str, int]]
    collections: dict[str, dict[str, Any]]
    unresolved: dict[str, Any]
    warnings: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    hold_reasons: list[str]
    pending_checkpoints: dict[str, str]

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (None while running)."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


_JSON_FIELDS = ("counts", "collections", "unresolved", "warnings", "errors", "hold_reasons",
                "pending_checkpoints")


def select_runs():
    """``SELECT`` of runs with their connection's name (``connection_name``); read rows with :func:`run_from_row`."""
    return select(sync_runs, connections.c.name.label("connection_name")).join(
        connections, connections.c.id == sync_runs.c.connection_id
    )


def run_from_row(row) -> StoredRun:
    """A :class:`StoredRun` from a row of :func:`select_runs`."""
    m = dict(row._mapping)
    return StoredRun(**{name: m[name] for name in StoredRun.__dataclass_fields__})


def create_run(
    *, db: Connection, connection_id: int, mode: str, dry_run: bool, base_run_id: int | None,
    now: datetime.datetime | None = None,
) -> int:
    """A new ``running`` run; returns its id."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    result = db.execute(
        insert(sync_runs).values(
            connection_id=connection_id, mode=mode, state=RUNNING, dry_run=dry_run,
            started_at=now or datetime.datetime.now(UTC), finished_at=None, base_run_id=base_run_id,
            records_read=0, counts={}, collections={}, unresolved={}, warnings=[], errors=[],
            hold_reasons=[], pending_checkpoints={},
        )
    )
    return result.inserted_primary_key[0]


def get_run(*, db: Connection, run_id: int) -> StoredRun:
    row = db.execute(select_runs().where(sync_runs.c.id == run_id)).first()
    if row is None:
        raise RunNotFound(run_id)
    return run_from_row(row)


def list_runs(
    *, db: Connection, connection_id: int | None = None, states: tuple[str, ...] | None = None,
    limit: int | None = 50,
) -> list[StoredRun]:
    """Runs, newest first, optionally of one connection and in some states."""
    query = select_runs().order_by(sync_runs.c.id.desc())
    if connection_id is not None:
        query = query.where(sync_runs.c.connection_id == connection_id)
    if states:
        query = query.where(sync_runs.c.state.in_(states))
    if limit is not None:
        query = query.limit(limit)
    return [run_from_row(r) for r in db.execute(query)]


def update_run(*, db: Connection, run_id: int, **values: Any) -> None:
    """Set fields of a run (state, finished_at, counts, warnings, ...)."""
    unknown = set(values) - set(sync_runs.c.keys())
    if unknown:
        raise ValueError(f"sync_runs has no column {sorted(unknown)}")
    if "state" in values and values["state"] not in STATES:
        raise ValueError(f"state must be one of {STATES}")
    db.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(**values))


def fail_interrupted_runs(
    *, db: Connection, connection_id: int, now: datetime.datetime | None = None,
) -> list[int]:
    """Mark the connection's ``running`` runs as failed; call only while holding its sync lock."""
    ids = list(db.execute(
        select(sync_runs.c.id).where(sync_runs.c.connection_id == connection_id,
                                     sync_runs.c.state == RUNNING)
    ).scalars())
    if ids:
        error = {"message": "the run was interrupted (its process stopped) and changed nothing",
                 "fix": "Run the sync again.", "kind": None, "sourced_id": None}
        db.execute(
            update(sync_runs).where(sync_runs.c.id.in_(ids)).values(
                state=FAILED, finished_at=now or datetime.datetime.now(UTC), errors=[error]
            )
        )
    return ids

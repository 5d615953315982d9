"""Applying a classified run to the roster, and the change feed it writes.

:func:`apply_staged` turns the run's staged ``op`` values into roster writes
and ``changes`` rows, kind by kind, all on the caller's transaction (the sync
engine commits once, so the app never sees half a run):

* ``create``/``update``: upserted from the staged row (a record back after a
  deletion is un-deleted); updates log the top-level fields that changed;
* ``delete``/``absent``: soft-deleted (``status`` tobedeleted, ``deleted_at``,
  ``deleted_by_run``); the last stored content is kept;
* ``same``, ``skip``, ``none``: nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, case, insert, literal, null, select, update

from ..oneroster.kinds import SYNC_ORDER
from .staging import dialect_insert
from .tables import (
    OP_ABSENT,
    OP_CREATE,
    OP_DELETE,
    OP_UPDATE,
    ROSTER_TABLES,
    STAGED_TABLES,
    changes,
    record_columns,
)
from .types import UTCDateTime

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
_PAGE = 2_000
_MISSING = object()


def changed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """Top-level fields whose value differs between two raw records (added and removed ones too)."""
    old, new = old or {}, new or {}
    return sorted(key for key in old.keys() | new.keys() if old.get(key, _MISSING) != new.get(key, _MISSING))


def apply_staged(
    *, db: Connection, run_id: int, connection_id: int, now: datetime.datetime,
    counts: Mapping[str, Mapping[str, int]] | None = None,
) -> None:
    """Write the run's diff to the roster and the change feed (see the module docstring).

    ``counts`` (the run's ``{kind: {created, updated, deleted}}``, as the diff counted them)
    lets it skip the statements that would find nothing to do; without it every statement runs.
    """
    at = literal(now, UTCDateTime())
    for kind in SYNC_ORDER:
        s, k = STAGED_TABLES[kind], ROSTER_TABLES[kind]
        known = counts.get(kind.value) if counts is not None else None
        created, updated, deleted = ((known.get("created", 0), known.get("updated", 0), known.get("deleted", 0))
                                     if known is not None else (1, 1, 1))
        if not (created or updated or deleted):
            continue
        # 1. the change feed, from the state before the run
        if created or deleted:
            action = case((s.c.op == OP_CREATE, literal(CREATED)), else_=literal(DELETED))
            db.execute(
                insert(changes).from_select(
                    ["connection_id", "run_id", "kind", "sourced_id", "action", "changed_fields", "at"],
                    select(literal(connection_id), literal(run_id), literal(kind.value), s.c.sourced_id,
                           action, null(), at)
                    .where(s.c.run_id == run_id, s.c.op.in_((OP_CREATE, OP_DELETE, OP_ABSENT))),
                )
            )
        if updated:
            _log_updates(db, kind, run_id, connection_id, now)
        # 2. soft deletions
        if deleted:
            removed = select(s.c.sourced_id).where(s.c.run_id == run_id, s.c.op.in_((OP_DELETE, OP_ABSENT)))
            db.execute(
                update(k)
                .where(k.c.connection_id == connection_id, k.c.sourced_id.in_(removed))
                .values(status="tobedeleted", deleted_at=now, deleted_by_run=run_id, updated_at=now)
            )
        if not (created or updated):
            continue
        # 3. creations and updates
        columns = record_columns(kind)
        rows = select(
            literal(connection_id), *(s.c[c] for c in columns), at, at, null(), null()
        ).where(s.c.run_id == run_id, s.c.op.in_((OP_CREATE, OP_UPDATE)))
        stmt = dialect_insert(db, k).from_select(
            ["connection_id", *columns, "created_at", "updated_at", "deleted_at", "deleted_by_run"], rows
        )
        refresh = {c: stmt.excluded[c] for c in (*columns, "updated_at", "deleted_at", "deleted_by_run")}
        db.execute(stmt.on_conflict_do_update(index_elements=[k.c.connection_id, k.c.sourced_id], set_=refresh))


def _log_updates(db: Connection, kind, run_id: int, connection_id: int, now: datetime.datetime) -> None:
    s, k = STAGED_TABLES[kind], ROSTER_TABLES[kind]
    last = ""
    while True:
        page = db.execute(
            select(s.c.sourced_id, k.c.raw, s.c.raw)
            .join(k, and_(k.c.connection_id == connection_id, k.c.sourced_id == s.c.sourced_id))
            .where(s.c.run_id == run_id, s.c.op == OP_UPDATE, s.c.sourced_id > last)
            .order_by(s.c.sourced_id)
            .limit(_PAGE)
        ).all()
        if not page:
            return
        db.execute(
            insert(changes),
            [
                {"connection_id": connection_id, "run_id": run_id, "kind": kind.value, "sourced_id": sid,
                 "action": UPDATED, "changed_fields": changed_fields(old, new), "at": now}
                for sid, old, new in page
            ],
        )
        last = page[-1][0]

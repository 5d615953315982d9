"""Reading what the dashboard shows about runs: each connection's latest run, the connections
syncing now, and what a held run would change.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select

from ..oneroster.kinds import Kind
from .runs import RUNNING, StoredRun, list_runs, run_from_row, select_runs
from .tables import KIND_SPECS, OP_ABSENT, OP_CREATE, OP_DELETE, OP_UPDATE, ROSTER_TABLES, STAGED_TABLES, sync_runs

CHANGE_OPS = (OP_CREATE, OP_UPDATE, OP_DELETE, OP_ABSENT)


@dataclass(frozen=True)
class StagedChanges:
    """What a run would change in one kind: records per operation and the first few of each."""

    kind: Kind
    counts: dict[str, int]  # {op: records}, only the operations of CHANGE_OPS it has
    examples: dict[str, list[dict[str, Any]]]  # {op: [{sourced_id, typed columns...}]}


def latest_runs(*, db: Connection) -> dict[int, StoredRun]:
    """``{connection_id: its newest run}`` for every connection that has run (dry runs left out)."""
    newest = (select(func.max(sync_runs.c.id)).where(sync_runs.c.dry_run.is_(False))
              .group_by(sync_runs.c.connection_id))
    runs = (run_from_row(r) for r in db.execute(select_runs().where(sync_runs.c.id.in_(newest))))
    return {run.connection_id: run for run in runs}


def syncing_connection_ids(*, db: Connection) -> set[int]:
    """The connections with a run in progress."""
    return {run.connection_id for run in list_runs(db=db, states=(RUNNING,), limit=None)}


def _example(kind: Kind, mapping) -> dict[str, Any]:
    names = ("sourced_id", *(name for name, _ in KIND_SPECS[kind].columns))
    return {name: mapping[name] for name in names}


def staged_changes(*, db: Connection, run_id: int, connection_id: int, examples: int = 5) -> list[StagedChanges]:
    """What a run read and would change, per kind with changes: counts per operation, and up to
    ``examples`` records of each in sourcedId order (for ``absent``, the stored record: nothing was read)."""
    out = []
    for kind, staged in STAGED_TABLES.items():
        counts = dict(db.execute(select(staged.c.op, func.count()).where(
            staged.c.run_id == run_id, staged.c.op.in_(CHANGE_OPS)).group_by(staged.c.op)).all())
        if not counts:
            continue
        samples = {}
        for op in CHANGE_OPS:
            if not counts.get(op):
                continue
            if op == OP_ABSENT:
                roster = ROSTER_TABLES[kind]
                query = select(roster).join(staged, and_(staged.c.sourced_id == roster.c.sourced_id,
                                                         roster.c.connection_id == connection_id))
            else:
                query = select(staged)
            query = query.where(staged.c.run_id == run_id, staged.c.op == op)
            rows = db.execute(query.order_by(staged.c.sourced_id).limit(examples))
            samples[op] = [_example(kind, r._mapping) for r in rows]
        out.append(StagedChanges(kind=kind, counts=counts, examples=samples))
    return out

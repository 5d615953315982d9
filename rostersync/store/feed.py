"""The change feed: what each applied run created, updated or deleted.

Apps poll :func:`changes` with the last id they saw (``after_id``) or a time
(``since``). Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from ..oneroster.kinds import Kind
from .tables import changes as changes_table


@dataclass(frozen=True)
class Change:
    id: int
    run_id: int | None
    kind: Kind
    sourced_id: str
    action: str  # created | updated | deleted
    changed_fields: list[str] | None  # for updates: the top-level fields that changed
    at: datetime.datetime


def changes(
    *,
    db: Connection,
    connection_id: int,
    since: datetime.datetime | None = None,
    after_id: int | None = None,
    kinds: Sequence[Kind] | None = None,
    run_id: int | None = None,
    limit: int | None = None,
) -> list[Change]:
    """Changes of a connection, oldest first, filtered by time, id, kind or run."""
    t = changes_table
    query = select(t).where(t.c.connection_id == connection_id).order_by(t.c.id)
    if since is not None:
        query = query.where(t.c.at >= since)
    if after_id is not None:
        query = query.where(t.c.id > after_id)
    if kinds:
        query = query.where(t.c.kind.in_([Kind(k).value for k in kinds]))
    if run_id is not None:
        query = query.where(t.c.run_id == run_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Change(id=r.id, run_id=r.run_id, kind=Kind(r.kind), sourced_id=r.sourced_id, action=r.action,
               changed_fields=r.changed_fields, at=r.at)
        for r in db.execute(query)
    ]

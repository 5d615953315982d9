"""Delta checkpoints: per connection and collection, the greatest dateLastModified
the provider returned (the provider's clock, not ours).

A run stores its new checkpoints on the run (``pending_checkpoints``) and
:func:`set_checkpoints` writes them in the same transaction as the data.
Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from sqlalchemy import Connection, delete, select

from .staging import dialect_insert
from .tables import checkpoints


def get_checkpoints(*, db: Connection, connection_id: int) -> dict[str, datetime.datetime]:
    """{collection: checkpoint} of a connection."""
    rows = db.execute(
        select(checkpoints.c.collection, checkpoints.c.value).where(checkpoints.c.connection_id == connection_id)
    )
    return {collection: value for collection, value in rows}


def set_checkpoints(
    *, db: Connection, connection_id: int, values: Mapping[str, datetime.datetime], run_id: int | None,
    now: datetime.datetime,
) -> None:
    """Upsert checkpoints of some collections (others keep theirs)."""
    if not values:
        return
    stmt = dialect_insert(db, checkpoints)
    stmt = stmt.on_conflict_do_update(
        index_elements=[checkpoints.c.connection_id, checkpoints.c.collection],
        set_={"value": stmt.excluded.value, "run_id": stmt.excluded.run_id,
              "updated_at": stmt.excluded.updated_at},
    )
    db.execute(stmt, [
        {"connection_id": connection_id, "collection": collection, "value": value, "run_id": run_id,
         "updated_at": now}
        for collection, value in values.items()
    ])


def clear_checkpoints(*, db: Connection, connection_id: int) -> None:
    """Forget a connection's checkpoints (the next delta reads every collection whole)."""
    db.execute(delete(checkpoints).where(checkpoints.c.connection_id == connection_id))

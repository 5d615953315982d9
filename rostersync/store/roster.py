"""Reading the roster: records of a kind, one record, search, class rosters, a person's classes.

Results are :class:`StoredRecord` values: the typed columns in ``fields``
(see docs/store.md), the provider's record in ``raw`` (passwords removed).
Deleted records are left out unless ``include_deleted=True``.
Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from ..oneroster.kinds import Kind
from .tables import KIND_SPECS, ROSTER_TABLES

@dataclass(frozen=True)
class StoredRecord:
    kind: Kind
    sourced_id: str
    status: str
    date_last_modified: datetime.datetime | None
    fields: dict[str, Any]  # the kind's typed columns
    raw: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    deleted_at: datetime.datetime | None
    deleted_by_run: int | None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class RosterEntry:
    """One enrollment with the record at its other end (None when that record is unknown)."""

    enrollment: StoredRecord
    other: StoredRecord | None  # the user (class roster) or the class (a person's classes)


def _record(kind: Kind, mapping: Mapping[str, Any], prefix: str = "") -> StoredRecord:
    typed = {name: mapping[prefix + name] for name, _ in KIND_SPECS[kind].columns}
    return StoredRecord(
        kind=kind, sourced_id=mapping[prefix + "sourced_id"], status=mapping[prefix + "status"],
        date_last_modified=mapping[prefix + "date_last_modified"], fields=typed,
        raw=mapping[prefix + "raw"], created_at=mapping[prefix + "created_at"],
        updated_at=mapping[prefix + "updated_at"], deleted_at=mapping[prefix + "deleted_at"],
        deleted_by_run=mapping[prefix + "deleted_by_run"],
    )


def _filters(table, connection_id: int, include_deleted: bool, where: Mapping[str, Any] | None):
    clauses = [table.c.connection_id == connection_id]
    if not include_deleted:
        clauses.append(table.c.deleted_at.is_(None))
    for name, value in (where or {}).items():
        if name not in table.c or name in ("raw",):
            raise ValueError(f"{table.name} has no column {name!r} to filter on")
        clauses.append(table.c[name].is_(None) if value is None else table.c[name] == value)
    return clauses


def records(
    *,
    db: Connection,
    connection_id: int,
    kind: Kind,
    where: Mapping[str, Any] | None = None,
    include_deleted: bool = False,
    after: str | None = None,
    limit: int | None = None,
) -> list[StoredRecord]:
    """Records of a kind in sourcedId order; ``where`` filters typed columns by equality
    (e.g. ``{"type": "school"}``), ``after`` pages by sourcedId."""
    kind = Kind(kind)
    table = ROSTER_TABLES[kind]
    query = select(table).where(*_filters(table, connection_id, include_deleted, where))
    if after is not None:
        query = query.where(table.c.sourced_id > after)
    query = query.order_by(table.c.sourced_id)
    if limit is not None:
        query = query.limit(limit)
    return [_record(kind, r._mapping) for r in db.execute(query)]


def iter_records(
    *, db: Connection, connection_id: int, kind: Kind, include_deleted: bool = False, page_size: int = 1_000,
) -> Iterator[StoredRecord]:
    """Every record of a kind, streamed page by page (flat memory for large districts)."""
    after = None
    while True:
        page = records(db=db, connection_id=connection_id, kind=kind, include_deleted=include_deleted,
                       after=after, limit=page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].sourced_id


def get_record(
    *, db: Connection, connection_id: int, kind: Kind, sourced_id: str, include_deleted: bool = True,
) -> StoredRecord | None:
    kind = Kind(kind)
    table = ROSTER_TABLES[kind]
    row = db.execute(
        select(table).where(*_filters(table, connection_id, include_deleted, None),
                            table.c.sourced_id == sourced_id)
    ).first()
    return _record(kind, row._mapping) if row else None


def count_records(*, db: Connection, connection_id: int, include_deleted: bool = False) -> dict[Kind, int]:
    """How many records of each kind the connection has."""
    out = {}
    for kind, table in ROSTER_TABLES.items():
        out[kind] = db.execute(
            select(func.count()).select_from(table).where(*_filters(table, connection_id, include_deleted, None))
        ).scalar_one()
    return out


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    *, db: Connection, connection_id: int, text: str, kinds: tuple[Kind, ...] | None = None, limit: int = 50,
) -> list[StoredRecord]:
    """Records whose sourcedId equals ``text`` or whose names, username, email, identifier,
    title or code contain it (case-insensitive); exact sourcedId matches first."""
    needle = (text or "").strip()
    if not needle:
        return []
    pattern = "%" + _escape_like(needle.lower()) + "%"
    found: list[StoredRecord] = []
    for kind in kinds or tuple(KIND_SPECS):
        kind = Kind(kind)
        table = ROSTER_TABLES[kind]
        matches = [table.c.sourced_id == needle]
        matches += [func.lower(table.c[col]).like(pattern, escape="\\") for col in KIND_SPECS[kind].search]
        query = (
            select(table)
            .where(*_filters(table, connection_id, False, None), or_(*matches))
            .order_by((table.c.sourced_id != needle), table.c.sourced_id)
            .limit(limit)
        )
        found.extend(_record(kind, r._mapping) for r in db.execute(query))
    found.sort(key=lambda r: r.sourced_id != needle)
    return found[:limit]


def _joined(db, connection_id, enrollment_column: str, value: str, other_kind: Kind, other_column: str):
    e, o = ROSTER_TABLES[Kind.ENROLLMENT], ROSTER_TABLES[other_kind]
    other = o.alias("other")
    columns = [c.label("e_" + c.name) for c in e.c] + [c.label("o_" + c.name) for c in other.c]
    query = (
        select(*columns)
        .select_from(e.outerjoin(other, and_(other.c.connection_id == e.c.connection_id,
                                             other.c.sourced_id == e.c[other_column],
                                             other.c.deleted_at.is_(None))))
        .where(e.c.connection_id == connection_id, e.c[enrollment_column] == value, e.c.deleted_at.is_(None))
        .order_by(case((e.c.role == "teacher", 0), else_=1), e.c.role, other.c.sourced_id, e.c.sourced_id)
    )
    out = []
    for row in db.execute(query):
        m = row._mapping
        found = m["o_sourced_id"] is not None
        out.append(RosterEntry(_record(Kind.ENROLLMENT, m, "e_"), _record(other_kind, m, "o_") if found else None))
    return out


def class_roster(*, db: Connection, connection_id: int, class_sourced_id: str) -> list[RosterEntry]:
    """The live enrollments of a class, each with its user (teachers first)."""
    return _joined(db, connection_id, "class_sourced_id", class_sourced_id, Kind.USER, "user_sourced_id")


def person_classes(*, db: Connection, connection_id: int, user_sourced_id: str) -> list[RosterEntry]:
    """The live enrollments of a user, each with its class."""
    return _joined(db, connection_id, "user_sourced_id", user_sourced_id, Kind.CLASS, "class_sourced_id")

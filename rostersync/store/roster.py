"""Reading the roster: records of a kind, one record, counts, search, class rosters, a person's
classes, and the schools and classes the dashboard's roster browser lists.

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
    school_name: str | None = None  # a person's classes: the name of the class's school


@dataclass(frozen=True)
class SchoolClass:
    """A class of a school, with its course's title and how many live enrollments it has."""

    record: StoredRecord
    course_title: str | None
    enrollments: int


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


def _counts(db: Connection, kinds, include_deleted: bool, connection_id: int | None) -> dict[int, dict[Kind, int]]:
    out: dict[int, dict[Kind, int]] = {}
    for kind in map(Kind, kinds):
        table = ROSTER_TABLES[kind]
        query = select(table.c.connection_id, func.count()).group_by(table.c.connection_id)
        if connection_id is not None:
            query = query.where(table.c.connection_id == connection_id)
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        for cid, n in db.execute(query):
            out.setdefault(cid, {})[kind] = n
    return out


def count_records(*, db: Connection, connection_id: int, include_deleted: bool = False) -> dict[Kind, int]:
    """How many records of each kind the connection has."""
    found = _counts(db, ROSTER_TABLES, include_deleted, connection_id).get(connection_id, {})
    return {kind: found.get(kind, 0) for kind in ROSTER_TABLES}


def count_records_by_connection(
    *, db: Connection, kinds: tuple[Kind, ...] | None = None, include_deleted: bool = False,
) -> dict[int, dict[Kind, int]]:
    """``{connection_id: {kind: records}}`` for every connection that has records (kinds it has none of
    are left out)."""
    return _counts(db, kinds or tuple(ROSTER_TABLES), include_deleted, None)


def schools(*, db: Connection, connection_id: int) -> list[tuple[StoredRecord, int]]:
    """The live schools by name, each with how many live classes it has."""
    orgs, classes = ROSTER_TABLES[Kind.ORG], ROSTER_TABLES[Kind.CLASS]
    counts = (select(classes.c.school_sourced_id, func.count().label("n"))
              .where(*_filters(classes, connection_id, False, None))
              .group_by(classes.c.school_sourced_id).subquery())
    query = (select(orgs, func.coalesce(counts.c.n, 0).label("n_classes"))
             .select_from(orgs.outerjoin(counts, counts.c.school_sourced_id == orgs.c.sourced_id))
             .where(*_filters(orgs, connection_id, False, {"type": "school"})).order_by(orgs.c.name))
    return [(_record(Kind.ORG, r._mapping), r.n_classes) for r in db.execute(query)]


def school_classes(
    *, db: Connection, connection_id: int, school_sourced_id: str, limit: int = 2_000,
) -> list[SchoolClass]:
    """A school's live classes by title, each with its course's title (also of a deleted course)
    and how many live enrollments it has."""
    classes, courses = ROSTER_TABLES[Kind.CLASS], ROSTER_TABLES[Kind.COURSE]
    enrollments = ROSTER_TABLES[Kind.ENROLLMENT]
    counts = (select(enrollments.c.class_sourced_id, func.count().label("n"))
              .where(*_filters(enrollments, connection_id, False, None))
              .group_by(enrollments.c.class_sourced_id).subquery())
    query = (
        select(classes, courses.c.title.label("course_title"), func.coalesce(counts.c.n, 0).label("n_enrollments"))
        .select_from(classes.outerjoin(counts, counts.c.class_sourced_id == classes.c.sourced_id)
                     .outerjoin(courses, and_(courses.c.connection_id == classes.c.connection_id,
                                              courses.c.sourced_id == classes.c.course_sourced_id)))
        .where(*_filters(classes, connection_id, False, {"school_sourced_id": school_sourced_id}))
        .order_by(classes.c.title, classes.c.sourced_id).limit(limit)
    )
    return [SchoolClass(_record(Kind.CLASS, r._mapping), r.course_title, r.n_enrollments)
            for r in db.execute(query)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    *, db: Connection, connection_id: int, text: str, kinds: tuple[Kind, ...] | None = None, limit: int = 50,
) -> list[StoredRecord]:
    """Records whose sourcedId equals ``text`` or whose names, username, email, identifier,
    title or code contain it (case-insensitive), and users whose given and family names are the
    two words of ``text``; exact sourcedId matches first, at most ``limit`` in all."""
    needle = (text or "").strip()
    if not needle:
        return []
    pattern = "%" + _escape_like(needle.lower()) + "%"
    words = needle.lower().split()
    found: list[StoredRecord] = []
    for kind in kinds or tuple(KIND_SPECS):
        kind = Kind(kind)
        table = ROSTER_TABLES[kind]
        matches = [table.c.sourced_id == needle]
        matches += [func.lower(table.c[col]).like(pattern, escape="\\") for col in KIND_SPECS[kind].search]
        if kind is Kind.USER and len(words) == 2:  # "Given Family"
            matches.append(and_(func.lower(table.c.given_name) == words[0],
                                func.lower(table.c.family_name) == words[1]))
        query = (
            select(table)
            .where(*_filters(table, connection_id, False, None), or_(*matches))
            .order_by((table.c.sourced_id != needle), table.c.sourced_id)
            .limit(limit)
        )
        found.extend(_record(kind, r._mapping) for r in db.execute(query))
    found.sort(key=lambda r: r.sourced_id != needle)
    return found[:limit]


def _joined(db, connection_id, enrollment_column: str, value: str, other_kind: Kind, other_column: str,
            order) -> list[RosterEntry]:
    e, o = ROSTER_TABLES[Kind.ENROLLMENT], ROSTER_TABLES[other_kind]
    other = o.alias("other")
    columns = [c.label("e_" + c.name) for c in e.c] + [c.label("o_" + c.name) for c in other.c]
    joined = e.outerjoin(other, and_(other.c.connection_id == e.c.connection_id,
                                     other.c.sourced_id == e.c[other_column], other.c.deleted_at.is_(None)))
    if other_kind is Kind.CLASS:
        school = ROSTER_TABLES[Kind.ORG].alias("school")
        columns.append(school.c.name.label("school_name"))
        joined = joined.outerjoin(school, and_(school.c.connection_id == other.c.connection_id,
                                               school.c.sourced_id == other.c.school_sourced_id))
    query = (
        select(*columns).select_from(joined)
        .where(e.c.connection_id == connection_id, e.c[enrollment_column] == value, e.c.deleted_at.is_(None))
        .order_by(*order(e, other), e.c.sourced_id)
    )
    out = []
    for row in db.execute(query):
        m = row._mapping
        other_record = _record(other_kind, m, "o_") if m["o_sourced_id"] is not None else None
        out.append(RosterEntry(_record(Kind.ENROLLMENT, m, "e_"), other_record, m.get("school_name")))
    return out


def class_roster(*, db: Connection, connection_id: int, class_sourced_id: str) -> list[RosterEntry]:
    """The live enrollments of a class, each with its user: teachers first, then by role and name."""
    return _joined(db, connection_id, "class_sourced_id", class_sourced_id, Kind.USER, "user_sourced_id",
                   lambda e, user: (case((e.c.role == "teacher", 0), else_=1), e.c.role, user.c.family_name,
                                    user.c.given_name, user.c.sourced_id))


def person_classes(*, db: Connection, connection_id: int, user_sourced_id: str) -> list[RosterEntry]:
    """The live enrollments of a user by class title, each with its class and the name of the
    class's school (also of a deleted school)."""
    return _joined(db, connection_id, "user_sourced_id", user_sourced_id, Kind.CLASS, "class_sourced_id",
                   lambda e, klass: (klass.c.title, klass.c.sourced_id))

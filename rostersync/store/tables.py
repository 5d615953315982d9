"""The store's tables (SQLAlchemy Core), all on one shared :data:`metadata`.

* ``connections``: one row per district source (non-secret settings as JSON,
  secrets as one vault-encrypted blob, guard thresholds, paused).
* ``roster_<kind>s``: the roster, one table per record kind. Identity is
  ``(connection_id, sourced_id)``. Typed columns for what apps query, the whole
  record in ``raw``, ``content_hash`` for diffing, and soft deletion
  (``deleted_at``, ``deleted_by_run``).
* ``staged_<kind>s``: what a run read, per run, before it is applied; ``op`` is
  the diff (create, update, same, delete, absent, skip, none).
* ``sync_runs``, ``changes`` (the change feed), ``checkpoints`` (delta).

docs/store.md describes every table for app developers who read the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from ..oneroster.kinds import Kind
from .types import BigId, JsonDoc, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SOURCED_ID = String(255)  # parse_record refuses longer sourcedIds

connections = Table(
    "connections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("profile", String(64), nullable=False),
    Column("version", String(8), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("settings", JsonDoc, nullable=False),  # non-secret connection settings
    Column("secrets", Text, nullable=False),  # vault token of the secret settings
    Column("hold_delete_percent", Float, nullable=False),
    Column("hold_update_percent", Float, nullable=False),
    Column("hold_min_records", Integer, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("last_applied_run_id", Integer),  # the run whose changes the store reflects last
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("mode", String(8), nullable=False),  # full | delta
    Column("state", String(16), nullable=False),  # running | held | applied | discarded | failed
    Column("dry_run", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("base_run_id", Integer),  # connections.last_applied_run_id when the run was staged
    Column("records_read", Integer, nullable=False),
    Column("counts", JsonDoc, nullable=False),  # {kind: {created, updated, deleted, unchanged, skipped}}
    Column("collections", JsonDoc, nullable=False),  # {collection: {state, records, since}}
    Column("unresolved", JsonDoc, nullable=False),  # {"enrollment.user": n}
    Column("warnings", JsonDoc, nullable=False),  # [{message, fix, kind, sourced_id}]
    Column("errors", JsonDoc, nullable=False),
    Column("hold_reasons", JsonDoc, nullable=False),  # [message]
    Column("pending_checkpoints", JsonDoc, nullable=False),  # {collection: iso time}
    Index(None, "connection_id", "id"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", Integer),  # sync_runs.id of the run that made the change
    Column("kind", String(32), nullable=False),
    Column("sourced_id", SOURCED_ID, nullable=False),
    Column("action", String(8), nullable=False),  # created | updated | deleted
    Column("changed_fields", JsonDoc),  # top-level field names, for updates
    Column("at", UTCDateTime, nullable=False),
    Index(None, "connection_id", "id"),
    Index(None, "connection_id", "kind", "sourced_id"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
    Column("collection", String(64), primary_key=True),
    Column("value", UTCDateTime, nullable=False),  # greatest dateLastModified the provider returned
    Column("run_id", Integer),
    Column("updated_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class Ref:
    """A reference from one kind to another, checked after every run."""

    label: str  # e.g. "enrollment.user"
    column: str  # column of the referring table
    target: Kind
    many: bool = False  # a JSON list of sourcedIds


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    plural: str  # table suffix
    columns: tuple[tuple[str, object], ...]  # typed columns: (name, type)
    refs: tuple[Ref, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    search: tuple[str, ...] = ()  # columns matched by a roster search


_T = Text
KIND_SPECS: dict[Kind, KindSpec] = {
    s.kind: s
    for s in (
        KindSpec(
            Kind.ORG, "orgs",
            (("name", _T), ("type", _T), ("identifier", _T), ("parent_sourced_id", _T)),
            (Ref("org.parent", "parent_sourced_id", Kind.ORG),),
            search=("name", "identifier"),
        ),
        KindSpec(
            Kind.ACADEMIC_SESSION, "academic_sessions",
            (("title", _T), ("type", _T), ("start_date", _T), ("end_date", _T), ("school_year", _T),
             ("parent_sourced_id", _T), ("org_sourced_id", _T)),
            (Ref("academicSession.parent", "parent_sourced_id", Kind.ACADEMIC_SESSION),
             Ref("academicSession.org", "org_sourced_id", Kind.ORG)),
            search=("title",),
        ),
        KindSpec(
            Kind.COURSE, "courses",
            (("title", _T), ("course_code", _T), ("school_year_sourced_id", _T), ("org_sourced_id", _T),
             ("grades", JsonDoc)),
            (Ref("course.org", "org_sourced_id", Kind.ORG),
             Ref("course.schoolYear", "school_year_sourced_id", Kind.ACADEMIC_SESSION)),
            search=("title", "course_code"),
        ),
        KindSpec(
            Kind.CLASS, "classes",
            (("title", _T), ("class_code", _T), ("class_type", _T), ("location", _T),
             ("course_sourced_id", _T), ("school_sourced_id", _T), ("term_sourced_ids", JsonDoc),
             ("grades", JsonDoc)),
            (Ref("class.course", "course_sourced_id", Kind.COURSE),
             Ref("class.school", "school_sourced_id", Kind.ORG),
             Ref("class.terms", "term_sourced_ids", Kind.ACADEMIC_SESSION, many=True)),
            indexes=(("school_sourced_id",), ("course_sourced_id",)),
            search=("title", "class_code"),
        ),
        KindSpec(
            Kind.USER, "users",
            (("username", _T), ("given_name", _T), ("family_name", _T), ("middle_name", _T),
             ("preferred_first_name", _T), ("preferred_last_name", _T), ("email", _T),
             ("identifier", _T), ("role", _T), ("enabled_user", Boolean),
             ("org_sourced_ids", JsonDoc), ("primary_org_sourced_id", _T), ("grades", JsonDoc)),
            (Ref("user.orgs", "org_sourced_ids", Kind.ORG, many=True),),
            search=("given_name", "family_name", "preferred_first_name", "username", "email", "identifier"),
        ),
        KindSpec(
            Kind.ENROLLMENT, "enrollments",
            (("user_sourced_id", _T), ("class_sourced_id", _T), ("school_sourced_id", _T), ("role", _T),
             ("primary", Boolean), ("begin_date", _T), ("end_date", _T)),
            (Ref("enrollment.user", "user_sourced_id", Kind.USER),
             Ref("enrollment.class", "class_sourced_id", Kind.CLASS),
             Ref("enrollment.school", "school_sourced_id", Kind.ORG)),
            indexes=(("class_sourced_id",), ("user_sourced_id",)),
        ),
        KindSpec(
            Kind.DEMOGRAPHICS, "demographics",
            (("birth_date", _T), ("sex", _T)),
            (Ref("demographics.user", "sourced_id", Kind.USER),),
        ),
    )
}

# Typed columns every record has, in both roster and staged tables.
COMMON_COLUMNS = ("sourced_id", "status", "date_last_modified")
HASH_COLUMNS = ("raw", "content_hash")


def record_columns(kind: Kind) -> tuple[str, ...]:
    """Names of the columns a run copies from a staged table into the roster table."""
    return COMMON_COLUMNS + tuple(name for name, _ in KIND_SPECS[kind].columns) + HASH_COLUMNS


def _typed(spec: KindSpec) -> list[Column]:
    return [Column(name, type_) for name, type_ in spec.columns]


def _roster_table(spec: KindSpec) -> Table:
    name = "roster_" + spec.plural
    return Table(
        name,
        metadata,
        Column("connection_id", Integer, ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True),
        Column("sourced_id", SOURCED_ID, primary_key=True),
        Column("status", String(16), nullable=False),
        Column("date_last_modified", UTCDateTime),
        *_typed(spec),
        Column("raw", JsonDoc, nullable=False),
        Column("content_hash", String(32), nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("deleted_at", UTCDateTime),
        Column("deleted_by_run", Integer),  # sync_runs.id
        *(Index(None, "connection_id", *cols) for cols in spec.indexes),
    )


def _staged_table(spec: KindSpec) -> Table:
    return Table(
        "staged_" + spec.plural,
        metadata,
        Column("run_id", Integer, ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True),
        Column("sourced_id", SOURCED_ID, primary_key=True),
        Column("collection", String(64)),  # the collection it was read from (none for "absent")
        Column("op", String(8)),  # the diff, set once the run has read everything
        Column("skip", Boolean, nullable=False),  # unusable (severe problems, conflicting duplicates)
        Column("dup_count", Integer, nullable=False),  # times the sourcedId was read in this run
        Column("status", String(16)),
        Column("date_last_modified", UTCDateTime),
        *_typed(spec),
        Column("raw", JsonDoc),
        Column("content_hash", String(32)),
    )


ROSTER_TABLES: dict[Kind, Table] = {kind: _roster_table(spec) for kind, spec in KIND_SPECS.items()}
STAGED_TABLES: dict[Kind, Table] = {kind: _staged_table(spec) for kind, spec in KIND_SPECS.items()}

# Staged-row operations (the diff of one record).
OP_CREATE = "create"  # new, or back after a deletion
OP_UPDATE = "update"  # content changed
OP_SAME = "same"  # unchanged
OP_DELETE = "delete"  # the provider marked it tobedeleted
OP_ABSENT = "absent"  # missing from a complete collection of a full run
OP_SKIP = "skip"  # unusable: the stored copy is kept as it is
OP_NONE = "none"  # tobedeleted, and not in the store anyway

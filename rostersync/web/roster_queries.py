"""Read-only roster queries for the dashboard's roster browser and held-run review.

Schools, a school's classes, a class roster, a person's classes, and a search
by name, email or sourcedId, always within one connection (identity is
(connection, sourcedId)) and over live records (not soft-deleted).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from ..oneroster.kinds import Kind
from ..store.tables import KIND_SPECS, ROSTER_TABLES, STAGED_TABLES
from ..sync.result import KIND_LABELS

ORGS = ROSTER_TABLES[Kind.ORG]
CLASSES = ROSTER_TABLES[Kind.CLASS]
USERS = ROSTER_TABLES[Kind.USER]
ENROLLMENTS = ROSTER_TABLES[Kind.ENROLLMENT]
COURSES = ROSTER_TABLES[Kind.COURSE]

CHANGE_OPS = ("create", "update", "delete", "absent")
OP_LABELS = {"create": "created", "update": "updated", "delete": "deleted", "absent": "deleted (absent)"}


@dataclass(frozen=True)
class Hit:
    kind: str
    sourced_id: str
    label: str
    detail: str


def _live(table, connection_id: int):
    return and_(table.c.connection_id == connection_id, table.c.deleted_at.is_(None))


def person_name(row) -> str:
    m = row._mapping
    given = m.get("preferred_first_name") or m.get("given_name") or ""
    family = m.get("preferred_last_name") or m.get("family_name") or ""
    return " ".join(p for p in (given, family) if p) or m.get("username") or m["sourced_id"]


def schools(connection_id: int, *, conn: Connection) -> list[dict]:
    class_counts = (select(CLASSES.c.school_sourced_id, func.count().label("n"))
                    .where(_live(CLASSES, connection_id)).group_by(CLASSES.c.school_sourced_id).subquery())
    rows = conn.execute(
        select(ORGS.c.sourced_id, ORGS.c.name, ORGS.c.identifier, ORGS.c.type,
               func.coalesce(class_counts.c.n, 0).label("classes"))
        .select_from(ORGS.outerjoin(class_counts, class_counts.c.school_sourced_id == ORGS.c.sourced_id))
        .where(_live(ORGS, connection_id), ORGS.c.type == "school").order_by(ORGS.c.name))
    return [dict(r._mapping) for r in rows]


def org(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    row = conn.execute(select(ORGS).where(_live(ORGS, connection_id), ORGS.c.sourced_id == sourced_id)).first()
    return dict(row._mapping) if row else None


def classes_of_school(connection_id: int, school_id: str, *, conn: Connection) -> list[dict]:
    counts = (select(ENROLLMENTS.c.class_sourced_id, func.count().label("n"))
              .where(_live(ENROLLMENTS, connection_id)).group_by(ENROLLMENTS.c.class_sourced_id).subquery())
    rows = conn.execute(
        select(CLASSES.c.sourced_id, CLASSES.c.title, CLASSES.c.class_code, CLASSES.c.class_type,
               COURSES.c.title.label("course_title"), func.coalesce(counts.c.n, 0).label("enrollments"))
        .select_from(CLASSES.outerjoin(counts, counts.c.class_sourced_id == CLASSES.c.sourced_id)
                     .outerjoin(COURSES, and_(COURSES.c.connection_id == CLASSES.c.connection_id,
                                              COURSES.c.sourced_id == CLASSES.c.course_sourced_id)))
        .where(_live(CLASSES, connection_id), CLASSES.c.school_sourced_id == school_id)
        .order_by(CLASSES.c.title, CLASSES.c.sourced_id).limit(2000))
    return [dict(r._mapping) for r in rows]


def class_(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    row = conn.execute(select(CLASSES).where(_live(CLASSES, connection_id),
                                             CLASSES.c.sourced_id == sourced_id)).first()
    return dict(row._mapping) if row else None


def class_roster(connection_id: int, class_id: str, *, conn: Connection) -> list[dict]:
    """The people enrolled in a class: teachers first, then students, by name."""
    rows = conn.execute(
        select(ENROLLMENTS.c.role, ENROLLMENTS.c.primary, USERS.c.sourced_id, USERS.c.given_name,
               USERS.c.family_name, USERS.c.preferred_first_name, USERS.c.preferred_last_name,
               USERS.c.username, USERS.c.email, USERS.c.grades)
        .select_from(ENROLLMENTS.join(USERS, and_(USERS.c.connection_id == ENROLLMENTS.c.connection_id,
                                                  USERS.c.sourced_id == ENROLLMENTS.c.user_sourced_id)))
        .where(_live(ENROLLMENTS, connection_id), ENROLLMENTS.c.class_sourced_id == class_id,
               USERS.c.deleted_at.is_(None))
        .order_by(ENROLLMENTS.c.role.desc(), USERS.c.family_name, USERS.c.given_name))
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["name"] = person_name(r)
        out.append(item)
    out.sort(key=lambda p: (p["role"] != "teacher", p["role"] or "", (p["family_name"] or "").lower()))
    return out


def person(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    row = conn.execute(select(USERS).where(_live(USERS, connection_id), USERS.c.sourced_id == sourced_id)).first()
    if row is None:
        return None
    item = dict(row._mapping)
    item["name"] = person_name(row)
    return item


def classes_of_person(connection_id: int, user_id: str, *, conn: Connection) -> list[dict]:
    rows = conn.execute(
        select(ENROLLMENTS.c.role, CLASSES.c.sourced_id, CLASSES.c.title, CLASSES.c.class_code,
               ORGS.c.name.label("school_name"))
        .select_from(ENROLLMENTS.join(CLASSES, and_(CLASSES.c.connection_id == ENROLLMENTS.c.connection_id,
                                                    CLASSES.c.sourced_id == ENROLLMENTS.c.class_sourced_id))
                     .outerjoin(ORGS, and_(ORGS.c.connection_id == CLASSES.c.connection_id,
                                           ORGS.c.sourced_id == CLASSES.c.school_sourced_id)))
        .where(_live(ENROLLMENTS, connection_id), ENROLLMENTS.c.user_sourced_id == user_id,
               CLASSES.c.deleted_at.is_(None))
        .order_by(CLASSES.c.title))
    return [dict(r._mapping) for r in rows]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(connection_id: int, text: str, *, conn: Connection, limit: int = 50) -> list[Hit]:
    """People, classes and schools whose name, email or sourcedId matches ``text``."""
    text = " ".join(text.split())[:200]
    if not text:
        return []
    pattern = _like(text)
    hits: list[Hit] = []

    def matches(table, columns):
        clauses = [table.c.sourced_id == text]
        clauses += [func.lower(table.c[c]).like(pattern, escape="\\") for c in columns]
        words = text.split()
        if table is USERS and len(words) == 2:  # "Given Family"
            clauses.append(and_(func.lower(USERS.c.given_name) == words[0].lower(),
                                func.lower(USERS.c.family_name) == words[1].lower()))
        return or_(*clauses)

    for r in conn.execute(select(USERS).where(_live(USERS, connection_id),
                                              matches(USERS, KIND_SPECS[Kind.USER].search)).limit(limit)):
        hits.append(Hit("person", r.sourced_id, person_name(r), " · ".join(
            p for p in (r.role or "", r.email or "", r.sourced_id) if p)))
    for r in conn.execute(select(CLASSES).where(_live(CLASSES, connection_id),
                                                matches(CLASSES, KIND_SPECS[Kind.CLASS].search)).limit(limit)):
        hits.append(Hit("class", r.sourced_id, r.title or r.sourced_id,
                        " · ".join(p for p in (r.class_code or "", r.sourced_id) if p)))
    for r in conn.execute(select(ORGS).where(_live(ORGS, connection_id),
                                             matches(ORGS, KIND_SPECS[Kind.ORG].search)).limit(limit)):
        hits.append(Hit("school" if r.type == "school" else "org", r.sourced_id, r.name or r.sourced_id,
                        " · ".join(p for p in (r.type or "", r.sourced_id) if p)))
    return hits[: limit * 3]


def _label(kind: Kind, row) -> str:
    m = row._mapping
    if kind is Kind.USER:
        return person_name(row) if (m.get("given_name") or m.get("family_name")) else m["sourced_id"]
    for key in ("name", "title", "course_code"):
        if m.get(key):
            return str(m[key])
    if kind is Kind.ENROLLMENT:
        return f"{m.get('role') or 'enrollment'} of {m.get('user_sourced_id')} in {m.get('class_sourced_id')}"
    return m["sourced_id"]


def staged_changes(run_id: int, connection_id: int, *, conn: Connection, examples: int = 5) -> list[dict]:
    """What a held run would change: per kind, counts per operation and a few examples of each."""
    out = []
    for kind, staged in STAGED_TABLES.items():
        counts = dict(conn.execute(select(staged.c.op, func.count()).where(
            staged.c.run_id == run_id, staged.c.op.in_(CHANGE_OPS)).group_by(staged.c.op)).all())
        if not counts:
            continue
        samples = {}
        roster = ROSTER_TABLES[kind]
        for op in CHANGE_OPS:
            if not counts.get(op):
                continue
            source = staged
            if op == "absent":  # nothing was read: describe the stored record
                query = (select(roster).join(staged, and_(staged.c.sourced_id == roster.c.sourced_id,
                                                          roster.c.connection_id == connection_id))
                         .where(staged.c.run_id == run_id, staged.c.op == op))
            else:
                query = select(source).where(staged.c.run_id == run_id, staged.c.op == op)
            rows = conn.execute(query.order_by(staged.c.sourced_id).limit(examples))
            samples[op] = [{"sourced_id": r.sourced_id, "label": _label(kind, r)} for r in rows]
        out.append({"kind": kind.value, "label": KIND_LABELS[kind], "counts": {OP_LABELS[o]: counts.get(o, 0) for o in CHANGE_OPS},
                    "examples": {OP_LABELS[o]: v for o, v in samples.items()}})
    return out

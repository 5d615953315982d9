"""The roster as the dashboard's roster browser and held-run review show it.

Schools, a school's classes, a class roster, a person's classes, and a search
by name, email or sourcedId, always within one connection (identity is
(connection, sourcedId)) and over live records (not soft-deleted). The store
(:mod:`rostersync.store.roster`, :mod:`rostersync.store.dashboard`) reads them;
this module shapes them for the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from ..oneroster.kinds import Kind
from ..store import dashboard as store_dashboard
from ..store import roster as store_roster
from ..store.dashboard import CHANGE_OPS
from ..sync.result import KIND_LABELS

OP_LABELS = {"create": "created", "update": "updated", "delete": "deleted", "absent": "deleted (absent)"}


@dataclass(frozen=True)
class Hit:
    kind: str
    sourced_id: str
    label: str
    detail: str


def person_name(m: Mapping[str, Any]) -> str:
    """A user's name (preferred names first), else the username, else the sourcedId."""
    given = m.get("preferred_first_name") or m.get("given_name") or ""
    family = m.get("preferred_last_name") or m.get("family_name") or ""
    return " ".join(p for p in (given, family) if p) or m.get("username") or m["sourced_id"]


def _view(record: store_roster.StoredRecord) -> dict:
    """A record as the templates read it: its sourcedId and its typed columns."""
    return {"sourced_id": record.sourced_id, "status": record.status, **record.fields}


def _live(connection_id: int, kind: Kind, sourced_id: str, conn: Connection) -> dict | None:
    record = store_roster.get_record(db=conn, connection_id=connection_id, kind=kind, sourced_id=sourced_id,
                                     include_deleted=False)
    return _view(record) if record else None


def schools(connection_id: int, *, conn: Connection) -> list[dict]:
    return [{**_view(school), "classes": n} for school, n in store_roster.schools(db=conn, connection_id=connection_id)]


def org(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    return _live(connection_id, Kind.ORG, sourced_id, conn)


def classes_of_school(connection_id: int, school_id: str, *, conn: Connection) -> list[dict]:
    return [{**_view(c.record), "course_title": c.course_title, "enrollments": c.enrollments}
            for c in store_roster.school_classes(db=conn, connection_id=connection_id, school_sourced_id=school_id)]


def class_(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    return _live(connection_id, Kind.CLASS, sourced_id, conn)


def class_roster(connection_id: int, class_id: str, *, conn: Connection) -> list[dict]:
    """The people enrolled in a class: teachers first, then students, by name."""
    out = []
    for entry in store_roster.class_roster(db=conn, connection_id=connection_id, class_sourced_id=class_id):
        if entry.other is None:  # an unknown or deleted user
            continue
        item = _view(entry.other)
        item.update(role=entry.enrollment.fields["role"], primary=entry.enrollment.fields["primary"],
                    name=person_name(item))
        out.append(item)
    out.sort(key=lambda p: (p["role"] != "teacher", p["role"] or "", (p["family_name"] or "").lower()))
    return out


def person(connection_id: int, sourced_id: str, *, conn: Connection) -> dict | None:
    item = _live(connection_id, Kind.USER, sourced_id, conn)
    if item is not None:
        item["name"] = person_name(item)
    return item


def classes_of_person(connection_id: int, user_id: str, *, conn: Connection) -> list[dict]:
    return [{**_view(entry.other), "role": entry.enrollment.fields["role"], "school_name": entry.school_name}
            for entry in store_roster.person_classes(db=conn, connection_id=connection_id, user_sourced_id=user_id)
            if entry.other is not None]


def search(connection_id: int, text: str, *, conn: Connection, limit: int = 50) -> list[Hit]:
    """People, classes and schools whose name, email or sourcedId matches ``text`` (``limit`` of each)."""
    text = " ".join(text.split())[:200]
    if not text:
        return []

    def found(kind: Kind):
        return store_roster.search(db=conn, connection_id=connection_id, text=text, kinds=(kind,), limit=limit)

    hits = [Hit("person", r.sourced_id, person_name(_view(r)),
                " · ".join(p for p in (r.fields["role"] or "", r.fields["email"] or "", r.sourced_id) if p))
            for r in found(Kind.USER)]
    hits += [Hit("class", r.sourced_id, r.fields["title"] or r.sourced_id,
                 " · ".join(p for p in (r.fields["class_code"] or "", r.sourced_id) if p))
             for r in found(Kind.CLASS)]
    hits += [Hit("school" if r.fields["type"] == "school" else "org", r.sourced_id, r.fields["name"] or r.sourced_id,
                 " · ".join(p for p in (r.fields["type"] or "", r.sourced_id) if p))
             for r in found(Kind.ORG)]
    return hits


def _label(kind: Kind, m: Mapping[str, Any]) -> str:
    if kind is Kind.USER:
        return person_name(m) if (m.get("given_name") or m.get("family_name")) else m["sourced_id"]
    for key in ("name", "title", "course_code"):
        if m.get(key):
            return str(m[key])
    if kind is Kind.ENROLLMENT:
        return f"{m.get('role') or 'enrollment'} of {m.get('user_sourced_id')} in {m.get('class_sourced_id')}"
    return m["sourced_id"]


def staged_changes(run_id: int, connection_id: int, *, conn: Connection, examples: int = 5) -> list[dict]:
    """What a held run would change: per kind, counts per operation and a few examples of each."""
    return [{"kind": c.kind.value, "label": KIND_LABELS[c.kind],
             "counts": {OP_LABELS[o]: c.counts.get(o, 0) for o in CHANGE_OPS},
             "examples": {OP_LABELS[o]: [{"sourced_id": r["sourced_id"], "label": _label(c.kind, r)} for r in rows]
                          for o, rows in c.examples.items()}}
            for c in store_dashboard.staged_changes(db=conn, run_id=run_id, connection_id=connection_id,
                                                    examples=examples)]

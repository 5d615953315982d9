"""The audit log and the staff notifications (``web_audit_log``, ``web_notifications``).

An audit entry's ``detail`` and a notification's ``message`` are short plain
sentences; callers pass names, counts and ids only, never a secret, a token or
roster data.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from .types import UTC
from .web_tables import audit_log, districts, notifications


@dataclass(frozen=True)
class AuditEntry:
    at: datetime.datetime
    actor: str
    action: str
    district: str | None
    detail: str


@dataclass(frozen=True)
class Notification:
    id: int
    at: datetime.datetime
    level: str
    message: str
    district_id: int | None
    district: str | None
    read: bool


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def add_audit_entry(*, db: Connection, actor: str, action: str, district_id: int | None = None,
                    detail: str = "") -> None:
    """Record who did what (the actor and action are cut to their columns' sizes)."""
    db.execute(insert(audit_log).values(at=_now(), actor=actor[:200], action=action[:100],
                                        district_id=district_id, detail=detail))


def audit_entries(*, db: Connection, district_id: int | None = None, limit: int = 200,
                  offset: int = 0) -> list[AuditEntry]:
    """The audit log, newest first (of one district, or all)."""
    query = (select(audit_log, districts.c.name.label("district_name"))
             .select_from(audit_log.outerjoin(districts, audit_log.c.district_id == districts.c.id))
             .order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit).offset(offset))
    if district_id is not None:
        query = query.where(audit_log.c.district_id == district_id)
    return [AuditEntry(at=r.at, actor=r.actor, action=r.action, district=r.district_name, detail=r.detail)
            for r in db.execute(query)]


def add_notification(*, db: Connection, message: str, level: str = "info", district_id: int | None = None) -> None:
    db.execute(insert(notifications).values(at=_now(), level=level, message=message, district_id=district_id))


def recent_notifications(*, db: Connection, limit: int = 50) -> list[Notification]:
    """The newest notifications first, read or not."""
    query = (select(notifications, districts.c.name.label("district_name"))
             .select_from(notifications.outerjoin(districts, notifications.c.district_id == districts.c.id))
             .order_by(notifications.c.at.desc(), notifications.c.id.desc()).limit(limit))
    return [Notification(id=r.id, at=r.at, level=r.level, message=r.message, district_id=r.district_id,
                         district=r.district_name, read=r.read_at is not None)
            for r in db.execute(query)]


def unread_count(*, db: Connection) -> int:
    return db.execute(select(func.count()).select_from(notifications)
                      .where(notifications.c.read_at.is_(None))).scalar_one()


def mark_all_read(*, db: Connection) -> None:
    db.execute(update(notifications).where(notifications.c.read_at.is_(None)).values(read_at=_now()))

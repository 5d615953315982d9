"""Who did what, when: the audit log and the staff notifications.

An audit entry's ``detail`` is a short plain sentence; it never carries a
secret, a token or roster data (callers pass names, counts and ids only).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ..store.web_tables import audit_log, districts, notifications
from .security import as_utc, utcnow


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


def audit(actor: str, action: str, *, conn: Connection, district_id: int | None = None,
          detail: str = "") -> None:
    conn.execute(insert(audit_log).values(at=utcnow(), actor=actor[:200], action=action[:100],
                                          district_id=district_id, detail=detail))


def audit_entries(*, conn: Connection, district_id: int | None = None, limit: int = 200,
                  offset: int = 0) -> list[AuditEntry]:
    query = (select(audit_log, districts.c.name.label("district_name"))
             .select_from(audit_log.outerjoin(districts, audit_log.c.district_id == districts.c.id))
             .order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit).offset(offset))
    if district_id is not None:
        query = query.where(audit_log.c.district_id == district_id)
    return [AuditEntry(at=as_utc(r.at), actor=r.actor, action=r.action, district=r.district_name,
                       detail=r.detail) for r in conn.execute(query)]


def notify(message: str, *, conn: Connection, level: str = "info", district_id: int | None = None) -> None:
    conn.execute(insert(notifications).values(at=utcnow(), level=level, message=message,
                                              district_id=district_id))


def recent_notifications(*, conn: Connection, limit: int = 50) -> list[Notification]:
    query = (select(notifications, districts.c.name.label("district_name"))
             .select_from(notifications.outerjoin(districts, notifications.c.district_id == districts.c.id))
             .order_by(notifications.c.at.desc(), notifications.c.id.desc()).limit(limit))
    return [Notification(id=r.id, at=as_utc(r.at), level=r.level, message=r.message,
                         district_id=r.district_id, district=r.district_name, read=r.read_at is not None)
            for r in conn.execute(query)]


def unread_count(*, conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(notifications)
                        .where(notifications.c.read_at.is_(None))).scalar_one()


def mark_all_read(*, conn: Connection) -> None:
    conn.execute(update(notifications).where(notifications.c.read_at.is_(None)).values(read_at=utcnow()))

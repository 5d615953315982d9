"""Who did what, when: the audit log and the staff notifications.

An audit entry's ``detail`` is a short plain sentence; it never carries a
secret, a token or roster data (callers pass names, counts and ids only).
The rows are :mod:`rostersync.store.activity`'s.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ..store import activity as store_activity
from ..store.activity import AuditEntry, Notification


def audit(actor: str, action: str, *, conn: Connection, district_id: int | None = None,
          detail: str = "") -> None:
    store_activity.add_audit_entry(db=conn, actor=actor, action=action, district_id=district_id, detail=detail)


def audit_entries(*, conn: Connection, district_id: int | None = None, limit: int = 200,
                  offset: int = 0) -> list[AuditEntry]:
    return store_activity.audit_entries(db=conn, district_id=district_id, limit=limit, offset=offset)


def notify(message: str, *, conn: Connection, level: str = "info", district_id: int | None = None) -> None:
    store_activity.add_notification(db=conn, message=message, level=level, district_id=district_id)


def recent_notifications(*, conn: Connection, limit: int = 50) -> list[Notification]:
    return store_activity.recent_notifications(db=conn, limit=limit)


def unread_count(*, conn: Connection) -> int:
    return store_activity.unread_count(db=conn)


def mark_all_read(*, conn: Connection) -> None:
    store_activity.mark_all_read(db=conn)

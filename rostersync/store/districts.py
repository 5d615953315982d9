"""Districts and their intake links (the ``web_districts`` and ``web_intake_links`` tables).

A district exists before its credentials; at intake it becomes the store
connection named ``connection_name``. An intake link is stored as the SHA-256
hash of its token only. What makes a good name or link is decided by
:mod:`rostersync.web.links`; this module reads and writes the rows.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from .types import UTC
from .web_tables import districts, intake_links


class LinkState(str, enum.Enum):
    OPEN = "open"
    SPENT = "spent"
    EXPIRED = "expired"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class District:
    id: int
    name: str
    connection_name: str
    timezone: str
    credentials_received_at: datetime.datetime | None
    credentials_expire_on: datetime.date | None
    created_at: datetime.datetime
    created_by: str


@dataclass(frozen=True)
class IntakeLink:
    id: int
    district_id: int
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None

    def state(self, now: datetime.datetime | None = None) -> LinkState:
        now = now or _now(None)
        if self.used_at:
            return LinkState.SPENT
        if self.revoked_at:
            return LinkState.REVOKED
        if self.expires_at <= now:
            return LinkState.EXPIRED
        return LinkState.OPEN


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or datetime.datetime.now(UTC)


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _district(row) -> District:
    m = row._mapping
    return District(
        id=m["id"], name=m["name"], connection_name=m["connection_name"], timezone=m["timezone"],
        credentials_received_at=m["credentials_received_at"],
        credentials_expire_on=_as_date(m["credentials_expire_on"]), created_at=m["created_at"],
        created_by=m["created_by"],
    )


def _link(row) -> IntakeLink:
    m = row._mapping
    return IntakeLink(id=m["id"], district_id=m["district_id"], created_by=m["created_by"],
                      created_at=m["created_at"], expires_at=m["expires_at"], used_at=m["used_at"],
                      revoked_at=m["revoked_at"])


# -- districts -----------------------------------------------------------------------------------


def add_district(*, db: Connection, name: str, connection_name: str, timezone: str, created_by: str,
                 now: datetime.datetime | None = None) -> District:
    district_id = db.execute(insert(districts).values(
        name=name, connection_name=connection_name, timezone=timezone, created_at=_now(now),
        created_by=created_by,
    )).inserted_primary_key[0]
    return get_district(db=db, district_id=district_id)


def district_name_taken(*, db: Connection, name: str) -> bool:
    return db.execute(select(districts.c.id).where(districts.c.name == name)).first() is not None


def district_connection_names(*, db: Connection) -> set[str]:
    """The connection names every district has claimed."""
    return {r[0] for r in db.execute(select(districts.c.connection_name))}


def get_district(*, db: Connection, district_id: int) -> District | None:
    return _one_district(db, districts.c.id == district_id)


def district_by_connection(*, db: Connection, connection_name: str) -> District | None:
    return _one_district(db, districts.c.connection_name == connection_name)


def _one_district(db: Connection, condition) -> District | None:
    row = db.execute(select(districts).where(condition)).first()
    return _district(row) if row else None


def list_districts(*, db: Connection) -> list[District]:
    return [_district(r) for r in db.execute(select(districts).order_by(districts.c.name))]


def record_credentials(*, db: Connection, district_id: int, expires_on: datetime.date | None,
                       now: datetime.datetime | None = None) -> None:
    db.execute(update(districts).where(districts.c.id == district_id).values(
        credentials_received_at=_now(now), credentials_expire_on=expires_on))


# -- intake links --------------------------------------------------------------------------------


def _open_links(*, district_id: int | None = None, link_id: int | None = None):
    """An UPDATE of the links not yet spent or revoked (of a district, or one link)."""
    query = update(intake_links).where(intake_links.c.used_at.is_(None), intake_links.c.revoked_at.is_(None))
    if district_id is not None:
        query = query.where(intake_links.c.district_id == district_id)
    if link_id is not None:
        query = query.where(intake_links.c.id == link_id)
    return query


def add_link(*, db: Connection, district_id: int, token_hash: str, created_by: str, now: datetime.datetime,
             expires_at: datetime.datetime) -> IntakeLink:
    """Store a new link, revoking the district's links still open first."""
    db.execute(_open_links(district_id=district_id).values(revoked_at=now, revoked_by=created_by))
    link_id = db.execute(insert(intake_links).values(
        token_hash=token_hash, district_id=district_id, created_by=created_by, created_at=now,
        expires_at=expires_at,
    )).inserted_primary_key[0]
    return get_link(db=db, link_id=link_id)


def get_link(*, db: Connection, link_id: int) -> IntakeLink | None:
    return _one_link(db, intake_links.c.id == link_id)


def link_by_token_hash(*, db: Connection, token_hash: str) -> IntakeLink | None:
    return _one_link(db, intake_links.c.token_hash == token_hash)


def _one_link(db: Connection, condition) -> IntakeLink | None:
    row = db.execute(select(intake_links).where(condition)).first()
    return _link(row) if row else None


def links_of(*, db: Connection, district_id: int) -> list[IntakeLink]:
    """A district's links, newest first."""
    rows = db.execute(select(intake_links).where(intake_links.c.district_id == district_id)
                      .order_by(intake_links.c.created_at.desc(), intake_links.c.id.desc()))
    return [_link(r) for r in rows]


def revoke_link(*, db: Connection, link_id: int, revoked_by: str, now: datetime.datetime | None = None) -> bool:
    """Revoke an open link; False when it was already spent or revoked."""
    result = db.execute(_open_links(link_id=link_id).values(revoked_at=_now(now), revoked_by=revoked_by))
    return result.rowcount == 1


def spend_link(*, db: Connection, link_id: int, now: datetime.datetime | None = None) -> bool:
    """Mark an open link used; False when someone else spent, revoked or outlived it first."""
    now = _now(now)
    result = db.execute(_open_links(link_id=link_id).where(intake_links.c.expires_at > now).values(used_at=now))
    return result.rowcount == 1

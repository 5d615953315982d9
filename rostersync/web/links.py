"""Districts and their intake links.

A district is created by staff before it has credentials; its intake link is
a 256-bit token shown once (only its SHA-256 hash is stored), good for one
successful submission, expiring after seven days by default and revocable.
Issuing a new link for a district revokes the ones still open, so only the
latest link works ("reissue").
"""

from __future__ import annotations

import datetime
import enum
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..errors import ConfigError
from ..store.web_tables import districts, intake_links
from .security import as_utc, new_token, token_hash, utcnow

DEFAULT_LINK_LIFETIME = datetime.timedelta(days=7)
DEFAULT_TIMEZONE = "America/Chicago"
US_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu")


class DistrictError(ConfigError):
    """The district could not be created."""


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
class Link:
    id: int
    district_id: int
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None

    def state(self, now: datetime.datetime | None = None) -> LinkState:
        now = now or utcnow()
        if self.used_at:
            return LinkState.SPENT
        if self.revoked_at:
            return LinkState.REVOKED
        if self.expires_at <= now:
            return LinkState.EXPIRED
        return LinkState.OPEN


def slugify(name: str) -> str:
    """``"Springfield Public Schools #4"`` -> ``"springfield-public-schools-4"``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _district(row) -> District:
    m = row._mapping
    return District(
        id=m["id"], name=m["name"], connection_name=m["connection_name"],
        timezone=m["timezone"], credentials_received_at=as_utc(m["credentials_received_at"]),
        credentials_expire_on=_as_date(m["credentials_expire_on"]), created_at=as_utc(m["created_at"]),
        created_by=m["created_by"],
    )


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    return value


def _link(row) -> Link:
    m = row._mapping
    return Link(id=m["id"], district_id=m["district_id"], created_by=m["created_by"],
                created_at=as_utc(m["created_at"]), expires_at=as_utc(m["expires_at"]),
                used_at=as_utc(m["used_at"]), revoked_at=as_utc(m["revoked_at"]))


def create_district(name: str, created_by: str, *, conn: Connection, timezone: str = DEFAULT_TIMEZONE,
                    connection_name: str | None = None, taken: set[str] = frozenset()) -> District:
    """Add a district awaiting credentials; raises :class:`DistrictError` naming what is wrong.

    ``taken`` are store connection names already in use (the slug must avoid them).
    """
    clean = " ".join((name or "").split())
    if not clean or len(clean) > 200:
        raise DistrictError("the district name must be 1-200 characters")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DistrictError(f"the time zone {timezone!r} is unknown") from None
    slug = connection_name or slugify(clean)
    if not slug:
        raise DistrictError(f"the district name {clean!r} needs at least one letter or digit")
    if conn.execute(select(districts.c.id).where(districts.c.name == clean)).first():
        raise DistrictError(f"a district named {clean!r} already exists")
    used = set(taken) | {r[0] for r in conn.execute(select(districts.c.connection_name))}
    base, n = slug, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    district_id = conn.execute(insert(districts).values(
        name=clean, connection_name=slug, timezone=timezone, created_at=utcnow(), created_by=created_by,
    )).inserted_primary_key[0]
    return get_district(district_id, conn=conn)


def get_district(district_id: int, *, conn: Connection) -> District | None:
    row = conn.execute(select(districts).where(districts.c.id == district_id)).first()
    return _district(row) if row else None


def district_by_connection(connection_name: str, *, conn: Connection) -> District | None:
    row = conn.execute(select(districts).where(districts.c.connection_name == connection_name)).first()
    return _district(row) if row else None


def list_districts(*, conn: Connection) -> list[District]:
    return [_district(r) for r in conn.execute(select(districts).order_by(districts.c.name))]


def ensure_district(connection_name: str, display_name: str, timezone: str, *, conn: Connection) -> District:
    """The district row of a connection added outside the web (the CLI), created on first sight."""
    found = district_by_connection(connection_name, conn=conn)
    if found:
        return found
    name = display_name
    if conn.execute(select(districts.c.id).where(districts.c.name == name)).first():
        name = f"{display_name} ({connection_name})"
    return create_district(name, "cli", conn=conn, timezone=timezone, connection_name=connection_name)


def record_credentials(district_id: int, *, expires_on: datetime.date | None, conn: Connection,
                       now: datetime.datetime | None = None) -> None:
    conn.execute(update(districts).where(districts.c.id == district_id).values(
        credentials_received_at=now or utcnow(), credentials_expire_on=expires_on))


def issue_link(district_id: int, created_by: str, *, conn: Connection,
               lifetime: datetime.timedelta = DEFAULT_LINK_LIFETIME,
               now: datetime.datetime | None = None) -> tuple[str, Link]:
    """A new intake link for the district (the token, shown once, and its row).

    Links still open for the district are revoked: the newest link is the only one that works.
    """
    now = now or utcnow()
    if lifetime <= datetime.timedelta(0):
        raise DistrictError("an intake link must be valid for some time")
    conn.execute(update(intake_links).where(
        intake_links.c.district_id == district_id, intake_links.c.used_at.is_(None),
        intake_links.c.revoked_at.is_(None)).values(revoked_at=now, revoked_by=created_by))
    token = new_token()
    link_id = conn.execute(insert(intake_links).values(
        token_hash=token_hash(token), district_id=district_id, created_by=created_by,
        created_at=now, expires_at=now + lifetime,
    )).inserted_primary_key[0]
    return token, get_link(link_id, conn=conn)


def get_link(link_id: int, *, conn: Connection) -> Link | None:
    row = conn.execute(select(intake_links).where(intake_links.c.id == link_id)).first()
    return _link(row) if row else None


def find_link(token: str, *, conn: Connection) -> Link | None:
    """The link a token opens, whatever its state; None for a token never issued."""
    if not token or len(token) > 200:
        return None
    row = conn.execute(select(intake_links).where(intake_links.c.token_hash == token_hash(token))).first()
    return _link(row) if row else None


def links_of(district_id: int, *, conn: Connection) -> list[Link]:
    rows = conn.execute(select(intake_links).where(intake_links.c.district_id == district_id)
                        .order_by(intake_links.c.created_at.desc(), intake_links.c.id.desc()))
    return [_link(r) for r in rows]


def revoke_link(link_id: int, revoked_by: str, *, conn: Connection) -> bool:
    """Revoke an open link; False when it was already spent or revoked."""
    result = conn.execute(update(intake_links).where(
        intake_links.c.id == link_id, intake_links.c.used_at.is_(None),
        intake_links.c.revoked_at.is_(None)).values(revoked_at=utcnow(), revoked_by=revoked_by))
    return result.rowcount == 1


def spend_link(link_id: int, *, conn: Connection, now: datetime.datetime | None = None) -> bool:
    """Mark an open link used; False when someone else spent, revoked or outlived it first."""
    now = now or utcnow()
    result = conn.execute(update(intake_links).where(
        intake_links.c.id == link_id, intake_links.c.used_at.is_(None),
        intake_links.c.revoked_at.is_(None), intake_links.c.expires_at > now).values(used_at=now))
    return result.rowcount == 1

"""Districts and their intake links.

A district is created by staff before it has credentials; its intake link is
a 256-bit token shown once (only its SHA-256 hash is stored), good for one
successful submission, expiring after seven days by default and revocable.
Issuing a new link for a district revokes the ones still open, so only the
latest link works ("reissue"). The rows are :mod:`rostersync.store.districts`'.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Connection

from ..errors import ConfigError
from ..store import districts as store_districts
from ..store.districts import District, LinkState  # noqa: F401 - the routes use them from here
from ..store.districts import IntakeLink as Link
from .security import new_token, token_hash, utcnow

DEFAULT_LINK_LIFETIME = datetime.timedelta(days=7)
DEFAULT_TIMEZONE = "America/Chicago"
US_TIMEZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
                "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu")


class DistrictError(ConfigError):
    """The district could not be created."""


def slugify(name: str) -> str:
    """``"Springfield Public Schools #4"`` -> ``"springfield-public-schools-4"``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


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
    if store_districts.district_name_taken(db=conn, name=clean):
        raise DistrictError(f"a district named {clean!r} already exists")
    used = set(taken) | store_districts.district_connection_names(db=conn)
    base, n = slug, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    return store_districts.add_district(db=conn, name=clean, connection_name=slug, timezone=timezone,
                                        created_by=created_by)


def get_district(district_id: int, *, conn: Connection) -> District | None:
    return store_districts.get_district(db=conn, district_id=district_id)


def district_by_connection(connection_name: str, *, conn: Connection) -> District | None:
    return store_districts.district_by_connection(db=conn, connection_name=connection_name)


def list_districts(*, conn: Connection) -> list[District]:
    return store_districts.list_districts(db=conn)


def ensure_district(connection_name: str, display_name: str, timezone: str, *, conn: Connection) -> District:
    """The district row of a connection added outside the web (the CLI), created on first sight."""
    found = district_by_connection(connection_name, conn=conn)
    if found:
        return found
    name = display_name
    if store_districts.district_name_taken(db=conn, name=name):
        name = f"{display_name} ({connection_name})"
    return create_district(name, "cli", conn=conn, timezone=timezone, connection_name=connection_name)


def record_credentials(district_id: int, *, expires_on: datetime.date | None, conn: Connection,
                       now: datetime.datetime | None = None) -> None:
    store_districts.record_credentials(db=conn, district_id=district_id, expires_on=expires_on, now=now)


def issue_link(district_id: int, created_by: str, *, conn: Connection,
               lifetime: datetime.timedelta = DEFAULT_LINK_LIFETIME,
               now: datetime.datetime | None = None) -> tuple[str, Link]:
    """A new intake link for the district (the token, shown once, and its row).

    Links still open for the district are revoked: the newest link is the only one that works.
    """
    now = now or utcnow()
    if lifetime <= datetime.timedelta(0):
        raise DistrictError("an intake link must be valid for some time")
    token = new_token()
    link = store_districts.add_link(db=conn, district_id=district_id, token_hash=token_hash(token),
                                    created_by=created_by, now=now, expires_at=now + lifetime)
    return token, link


def get_link(link_id: int, *, conn: Connection) -> Link | None:
    return store_districts.get_link(db=conn, link_id=link_id)


def find_link(token: str, *, conn: Connection) -> Link | None:
    """The link a token opens, whatever its state; None for a token never issued."""
    if not token or len(token) > 200:
        return None
    return store_districts.link_by_token_hash(db=conn, token_hash=token_hash(token))


def links_of(district_id: int, *, conn: Connection) -> list[Link]:
    return store_districts.links_of(db=conn, district_id=district_id)


def revoke_link(link_id: int, revoked_by: str, *, conn: Connection) -> bool:
    """Revoke an open link; False when it was already spent or revoked."""
    return store_districts.revoke_link(db=conn, link_id=link_id, revoked_by=revoked_by)


def spend_link(link_id: int, *, conn: Connection, now: datetime.datetime | None = None) -> bool:
    """Mark an open link used; False when someone else spent, revoked or outlived it first."""
    return store_districts.spend_link(db=conn, link_id=link_id, now=now)

"""Staff accounts, their sessions and login attempts (``web_users``, ``web_sessions``,
``web_login_attempts``).

Passwords arrive here already hashed and session tokens as their SHA-256
hash: the rules (password strength, lifetimes, rate limits) are
:mod:`rostersync.web.accounts`'.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, insert, select, update

from .web_tables import login_attempts, staff_sessions, staff_users


@dataclass(frozen=True)
class StoredStaffUser:
    id: int
    username: str
    disabled: bool
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class StoredSession:
    user_id: int
    username: str
    expires_at: datetime.datetime


def staff_user(*, db: Connection, username: str) -> StoredStaffUser | None:
    row = db.execute(
        select(staff_users.c.id, staff_users.c.username, staff_users.c.disabled, staff_users.c.password_hash)
        .where(staff_users.c.username == username)
    ).first()
    if row is None:
        return None
    return StoredStaffUser(id=row.id, username=row.username, disabled=bool(row.disabled),
                           password_hash=row.password_hash)


def add_staff_user(*, db: Connection, username: str, password_hash: str, now: datetime.datetime) -> int:
    """The new account's id."""
    return db.execute(
        insert(staff_users)
        .values(username=username, password_hash=password_hash, created_at=now, disabled=False)
        .returning(staff_users.c.id)
    ).one().id


def set_password_hash(*, db: Connection, user_id: int, password_hash: str) -> None:
    db.execute(update(staff_users).where(staff_users.c.id == user_id).values(password_hash=password_hash))


def list_staff_users(*, db: Connection) -> list[dict]:
    """``{username, created_at, last_login_at, disabled}`` of every account, by name."""
    rows = db.execute(
        select(staff_users.c.username, staff_users.c.created_at, staff_users.c.last_login_at,
               staff_users.c.disabled).order_by(staff_users.c.username)
    )
    return [dict(r._mapping) for r in rows]


def failed_logins_since(*, db: Connection, since: datetime.datetime, username: str | None = None,
                        client: str | None = None) -> tuple[int, datetime.datetime | None]:
    """How many logins failed since ``since`` for ``username`` (or from ``client``), and the oldest's time."""
    if (username is None) == (client is None):
        raise ValueError("give exactly one of username and client")
    column, value = (login_attempts.c.username, username) if client is None else (login_attempts.c.client, client)
    row = db.execute(
        select(func.count(), func.min(login_attempts.c.at))
        .where(column == value, login_attempts.c.succeeded.is_(False), login_attempts.c.at >= since)
    ).one()
    return row[0], row[1]


def record_login(*, db: Connection, username: str, client: str, now: datetime.datetime,
                 user_id: int | None = None) -> None:
    """Record a login attempt: with ``user_id``, it succeeded and the account's last login is now."""
    db.execute(insert(login_attempts).values(username=username, client=client, at=now,
                                             succeeded=user_id is not None))
    if user_id is not None:
        db.execute(update(staff_users).where(staff_users.c.id == user_id).values(last_login_at=now))


def add_session(*, db: Connection, token_hash: str, user_id: int, now: datetime.datetime,
                expires_at: datetime.datetime) -> None:
    """Store a session (by its token's hash) and drop the sessions that have expired."""
    db.execute(insert(staff_sessions).values(token_hash=token_hash, user_id=user_id, created_at=now,
                                             expires_at=expires_at))
    db.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))


def find_session(*, db: Connection, token_hash: str) -> StoredSession | None:
    """The session of a token (by its hash) whose account is not disabled, expired or not; or None."""
    row = db.execute(
        select(staff_users.c.id, staff_users.c.username, staff_sessions.c.expires_at)
        .select_from(staff_sessions.join(staff_users))
        .where(staff_sessions.c.token_hash == token_hash, staff_users.c.disabled.is_(False))
    ).first()
    return StoredSession(user_id=row.id, username=row.username, expires_at=row.expires_at) if row else None


def delete_sessions(*, db: Connection, token_hash: str | None = None, user_id: int | None = None) -> None:
    """End one session (by its token's hash) or every session of a user."""
    if (token_hash is None) == (user_id is None):
        raise ValueError("give exactly one of token_hash and user_id")
    column, value = ((staff_sessions.c.token_hash, token_hash) if token_hash is not None
                     else (staff_sessions.c.user_id, user_id))
    db.execute(delete(staff_sessions).where(column == value))

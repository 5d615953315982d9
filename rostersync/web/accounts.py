"""Staff accounts, their sessions, and the failed-login rate limit.

Functions take the database connection keyword-only and never commit: the
caller (a route, a CLI command) owns the transaction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from ..errors import ConfigError
from ..store.web_tables import login_attempts, staff_sessions, staff_users
from .security import (
    as_utc,
    hash_password,
    new_token,
    password_problem,
    token_hash,
    utcnow,
    verify_password,
)

SESSION_LIFETIME = datetime.timedelta(hours=12)
LOGIN_WINDOW = datetime.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20


class AccountError(ConfigError):
    """The staff account could not be created."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str


@dataclass(frozen=True)
class LoginResult:
    user: StaffUser | None
    locked_for: datetime.timedelta | None = None  # set when refused by the rate limit


def normalize_username(username: str) -> str:
    return (username or "").strip().lower()


def create_user(username: str, password: str, *, conn: Connection) -> StaffUser:
    """Add a staff account; raises :class:`AccountError` naming what is wrong."""
    name = normalize_username(username)
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise AccountError(f"user name {username!r} must be 1-100 characters without spaces")
    problem = password_problem(password)
    if problem:
        raise AccountError(f"cannot create {name}: {problem}")
    exists = conn.execute(select(staff_users.c.id).where(staff_users.c.username == name)).first()
    if exists:
        raise AccountError(f"a staff user named {name} already exists",
                           fix="choose another name, or use `rostersync users password` to change it")
    row = conn.execute(
        insert(staff_users)
        .values(username=name, password_hash=hash_password(password), created_at=utcnow(), disabled=False)
        .returning(staff_users.c.id)
    ).one()
    return StaffUser(id=row.id, username=name)


def set_password(username: str, password: str, *, conn: Connection) -> None:
    """Replace a staff user's password and end their sessions."""
    name = normalize_username(username)
    problem = password_problem(password)
    if problem:
        raise AccountError(f"cannot change the password of {name}: {problem}")
    row = conn.execute(select(staff_users.c.id).where(staff_users.c.username == name)).first()
    if row is None:
        raise AccountError(f"there is no staff user named {name}")
    conn.execute(update(staff_users).where(staff_users.c.id == row.id)
                 .values(password_hash=hash_password(password)))
    conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == row.id))


def list_users(*, conn: Connection) -> list[dict]:
    rows = conn.execute(
        select(staff_users.c.username, staff_users.c.created_at, staff_users.c.last_login_at,
               staff_users.c.disabled).order_by(staff_users.c.username)
    )
    return [dict(r._mapping) for r in rows]


def _failures_since(column, value: str, since: datetime.datetime, *, conn: Connection):
    row = conn.execute(
        select(func.count(), func.min(login_attempts.c.at))
        .where(column == value, login_attempts.c.succeeded.is_(False), login_attempts.c.at >= since)
    ).one()
    return row[0], as_utc(row[1])


def login(username: str, password: str, client: str, *, conn: Connection,
          now: datetime.datetime | None = None) -> LoginResult:
    """Check a password, under the failed-login limits; every attempt is recorded."""
    now = now or utcnow()
    name = normalize_username(username)[:100]
    client = (client or "unknown")[:64]
    since = now - LOGIN_WINDOW
    for column, value, limit in ((login_attempts.c.username, name, MAX_FAILURES_PER_USER),
                                 (login_attempts.c.client, client, MAX_FAILURES_PER_CLIENT)):
        count, oldest = _failures_since(column, value, since, conn=conn)
        if count >= limit:
            wait = (oldest + LOGIN_WINDOW - now) if oldest else LOGIN_WINDOW
            return LoginResult(user=None, locked_for=max(wait, datetime.timedelta(seconds=1)))
    row = conn.execute(
        select(staff_users.c.id, staff_users.c.password_hash, staff_users.c.disabled)
        .where(staff_users.c.username == name)
    ).first()
    ok = verify_password(row.password_hash if row else None, password) and not (row and row.disabled)
    conn.execute(insert(login_attempts).values(username=name, client=client, at=now, succeeded=ok))
    if not ok:
        return LoginResult(user=None)
    conn.execute(update(staff_users).where(staff_users.c.id == row.id).values(last_login_at=now))
    return LoginResult(user=StaffUser(id=row.id, username=name))


def start_session(user: StaffUser, *, conn: Connection, now: datetime.datetime | None = None) -> str:
    """A new session token for ``user`` (only its hash is stored)."""
    now = now or utcnow()
    token = new_token()
    conn.execute(insert(staff_sessions).values(
        token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME))
    conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at < now))
    return token


def session_user(token: str | None, *, conn: Connection,
                 now: datetime.datetime | None = None) -> StaffUser | None:
    """The staff user a live session token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = conn.execute(
        select(staff_users.c.id, staff_users.c.username, staff_sessions.c.expires_at)
        .select_from(staff_sessions.join(staff_users))
        .where(staff_sessions.c.token_hash == token_hash(token), staff_users.c.disabled.is_(False))
    ).first()
    if row is None or as_utc(row.expires_at) <= now:
        return None
    return StaffUser(id=row.id, username=row.username)


def end_session(token: str | None, *, conn: Connection) -> None:
    if token:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash(token)))

"""Staff accounts, their sessions, and the failed-login rate limit.

Functions take the database connection keyword-only and never commit: the
caller (a route, a CLI command) owns the transaction. The rows are
:mod:`rostersync.store.staff`'s.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ..errors import ConfigError
from ..store import staff as store_staff
from .security import (
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
    if store_staff.staff_user(db=conn, username=name):
        raise AccountError(f"a staff user named {name} already exists",
                           fix="choose another name, or use `rostersync users password` to change it")
    user_id = store_staff.add_staff_user(db=conn, username=name, password_hash=hash_password(password),
                                         now=utcnow())
    return StaffUser(id=user_id, username=name)


def set_password(username: str, password: str, *, conn: Connection) -> None:
    """Replace a staff user's password and end their sessions."""
    name = normalize_username(username)
    problem = password_problem(password)
    if problem:
        raise AccountError(f"cannot change the password of {name}: {problem}")
    user = store_staff.staff_user(db=conn, username=name)
    if user is None:
        raise AccountError(f"there is no staff user named {name}")
    store_staff.set_password_hash(db=conn, user_id=user.id, password_hash=hash_password(password))
    store_staff.delete_sessions(db=conn, user_id=user.id)


def list_users(*, conn: Connection) -> list[dict]:
    return store_staff.list_staff_users(db=conn)


def login(username: str, password: str, client: str, *, conn: Connection,
          now: datetime.datetime | None = None) -> LoginResult:
    """Check a password, under the failed-login limits; every attempt is recorded."""
    now = now or utcnow()
    name = normalize_username(username)[:100]
    client = (client or "unknown")[:64]
    since = now - LOGIN_WINDOW
    limits = ((dict(username=name), MAX_FAILURES_PER_USER), (dict(client=client), MAX_FAILURES_PER_CLIENT))
    for who, limit in limits:
        count, oldest = store_staff.failed_logins_since(db=conn, since=since, **who)
        if count >= limit:
            wait = (oldest + LOGIN_WINDOW - now) if oldest else LOGIN_WINDOW
            return LoginResult(user=None, locked_for=max(wait, datetime.timedelta(seconds=1)))
    user = store_staff.staff_user(db=conn, username=name)
    ok = verify_password(user.password_hash if user else None, password) and not (user and user.disabled)
    store_staff.record_login(db=conn, username=name, client=client, now=now, user_id=user.id if ok else None)
    if not ok:
        return LoginResult(user=None)
    return LoginResult(user=StaffUser(id=user.id, username=name))


def start_session(user: StaffUser, *, conn: Connection, now: datetime.datetime | None = None) -> str:
    """A new session token for ``user`` (only its hash is stored)."""
    now = now or utcnow()
    token = new_token()
    store_staff.add_session(db=conn, token_hash=token_hash(token), user_id=user.id, now=now,
                            expires_at=now + SESSION_LIFETIME)
    return token


def session_user(token: str | None, *, conn: Connection,
                 now: datetime.datetime | None = None) -> StaffUser | None:
    """The staff user a live session token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    session = store_staff.find_session(db=conn, token_hash=token_hash(token))
    if session is None or session.expires_at <= now:
        return None
    return StaffUser(id=session.user_id, username=session.username)


def end_session(token: str | None, *, conn: Connection) -> None:
    if token:
        store_staff.delete_sessions(db=conn, token_hash=token_hash(token))

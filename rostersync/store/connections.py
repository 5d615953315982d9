"""Connections: one row per district source.

A connection keeps what is needed to read a district: the non-secret settings
(``ConnectionSpec.to_dict()``), the secrets sealed by the vault
(``ConnectionSpec.secrets()``; the connection name is bound to the token),
the guard thresholds, and whether it is paused. Secrets are only ever returned
by :meth:`StoredConnection.secrets`, never in a repr.

Every function takes the database connection ``db`` keyword-only and never
commits: the caller owns the transaction.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..errors import ConfigError
from ..vault import Vault
from .errors import ConnectionExists, ConnectionNotFound
from .tables import connections
from .types import UTC

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
VERSIONS = ("1.1", "1.2")
DEFAULT_HOLD_DELETE_PERCENT = 10.0
DEFAULT_HOLD_UPDATE_PERCENT = 75.0
DEFAULT_HOLD_MIN_RECORDS = 10
_UNSET: Any = object()


@dataclass(frozen=True)
class StoredConnection:
    id: int
    name: str
    display_name: str
    profile: str
    version: str
    timezone: str
    settings: dict[str, Any]
    hold_delete_percent: float
    hold_update_percent: float
    hold_min_records: int
    paused: bool
    last_applied_run_id: int | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    secrets_token: str = field(repr=False)

    def secrets(self, vault: Vault) -> dict[str, Any]:
        """The decrypted secrets (registered with the log redactor)."""
        return vault.decrypt(self.secrets_token, context=self.name)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or datetime.datetime.now(UTC)


def _row(row) -> StoredConnection:
    m = row._mapping
    return StoredConnection(
        id=m["id"], name=m["name"], display_name=m["display_name"], profile=m["profile"],
        version=m["version"], timezone=m["timezone"], settings=dict(m["settings"] or {}),
        hold_delete_percent=m["hold_delete_percent"], hold_update_percent=m["hold_update_percent"],
        hold_min_records=m["hold_min_records"], paused=m["paused"],
        last_applied_run_id=m["last_applied_run_id"], created_at=m["created_at"],
        updated_at=m["updated_at"], secrets_token=m["secrets"],
    )


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(
            f"connection name {name!r} is not valid",
            fix="Use 1 to 100 letters, digits, dots, dashes or underscores, starting with a letter or digit.",
        )
    return name


def _check_thresholds(delete_pct: float, update_pct: float, minimum: int) -> None:
    for label, value in (("hold_delete_percent", delete_pct), ("hold_update_percent", update_pct)):
        if not 0 <= float(value) <= 100:
            raise ConfigError(f"{label} must be between 0 and 100, got {value}")
    if int(minimum) < 0:
        raise ConfigError(f"hold_min_records must be 0 or more, got {minimum}")


def add_connection(
    *,
    db: Connection,
    vault: Vault,
    name: str,
    settings: Mapping[str, Any],
    secrets: Mapping[str, Any],
    display_name: str | None = None,
    profile: str = "infinite_campus",
    version: str = "1.1",
    timezone: str = "America/Chicago",
    hold_delete_percent: float = DEFAULT_HOLD_DELETE_PERCENT,
    hold_update_percent: float = DEFAULT_HOLD_UPDATE_PERCENT,
    hold_min_records: int = DEFAULT_HOLD_MIN_RECORDS,
    now: datetime.datetime | None = None,
) -> StoredConnection:
    """Save a new connection; raises :class:`ConnectionExists` when the name is taken."""
    validate_name(name)
    if version not in VERSIONS:
        raise ConfigError(f"OneRoster version {version!r} is not 1.1 or 1.2")
    _check_thresholds(hold_delete_percent, hold_update_percent, hold_min_records)
    if db.execute(select(connections.c.id).where(connections.c.name == name)).first():
        raise ConnectionExists(name)
    at = _now(now)
    result = db.execute(
        insert(connections).values(
            name=name, display_name=display_name or name, profile=profile, version=version,
            timezone=timezone, settings=dict(settings), secrets=vault.encrypt(secrets, context=name),
            hold_delete_percent=float(hold_delete_percent),
            hold_update_percent=float(hold_update_percent),
            hold_min_records=int(hold_min_records), paused=False, last_applied_run_id=None,
            created_at=at, updated_at=at,
        )
    )
    return get_connection_by_id(db=db, connection_id=result.inserted_primary_key[0])


def get_connection(*, db: Connection, name: str) -> StoredConnection:
    row = db.execute(select(connections).where(connections.c.name == name)).first()
    if row is None:
        raise ConnectionNotFound(name)
    return _row(row)


def get_connection_by_id(*, db: Connection, connection_id: int) -> StoredConnection:
    row = db.execute(select(connections).where(connections.c.id == connection_id)).first()
    if row is None:
        raise ConnectionNotFound(f"#{connection_id}")
    return _row(row)


def list_connections(*, db: Connection) -> list[StoredConnection]:
    return [_row(r) for r in db.execute(select(connections).order_by(connections.c.name))]


@dataclass(frozen=True)
class ConnectionLabel:
    """How people know a connection: its name, display name and time zone."""

    name: str
    display_name: str
    timezone: str


def list_connection_labels(*, db: Connection) -> list[ConnectionLabel]:
    """Every connection's name, display name and time zone, by name (settings and secrets are not read)."""
    c = connections.c
    query = select(c.name, c.display_name, c.timezone).order_by(c.name)
    return [ConnectionLabel(name=r.name, display_name=r.display_name or r.name, timezone=r.timezone)
            for r in db.execute(query)]


def update_connection(
    *,
    db: Connection,
    name: str,
    vault: Vault | None = None,
    secrets: Mapping[str, Any] = _UNSET,
    settings: Mapping[str, Any] = _UNSET,
    display_name: str = _UNSET,
    profile: str = _UNSET,
    version: str = _UNSET,
    timezone: str = _UNSET,
    hold_delete_percent: float = _UNSET,
    hold_update_percent: float = _UNSET,
    hold_min_records: int = _UNSET,
    paused: bool = _UNSET,
    now: datetime.datetime | None = None,
) -> StoredConnection:
    """Change some fields of a connection (new secrets need the ``vault``)."""
    current = get_connection(db=db, name=name)
    values: dict[str, Any] = {}
    for key, value in (
        ("settings", settings), ("display_name", display_name), ("profile", profile),
        ("version", version), ("timezone", timezone), ("paused", paused),
        ("hold_delete_percent", hold_delete_percent), ("hold_update_percent", hold_update_percent),
        ("hold_min_records", hold_min_records),
    ):
        if value is not _UNSET:
            values[key] = dict(value) if key == "settings" else value
    if "version" in values and values["version"] not in VERSIONS:
        raise ConfigError(f"OneRoster version {values['version']!r} is not 1.1 or 1.2")
    _check_thresholds(
        values.get("hold_delete_percent", current.hold_delete_percent),
        values.get("hold_update_percent", current.hold_update_percent),
        values.get("hold_min_records", current.hold_min_records),
    )
    if secrets is not _UNSET:
        if vault is None:
            raise ConfigError("new secrets need the vault to encrypt them")
        values["secrets"] = vault.encrypt(secrets, context=name)
    values["updated_at"] = _now(now)
    db.execute(update(connections).where(connections.c.id == current.id).values(**values))
    return get_connection_by_id(db=db, connection_id=current.id)


def remove_connection(*, db: Connection, name: str) -> None:
    """Delete a connection with its roster, runs, changes and checkpoints."""
    current = get_connection(db=db, name=name)
    db.execute(delete(connections).where(connections.c.id == current.id))


def set_last_applied_run(*, db: Connection, connection_id: int, run_id: int) -> None:
    db.execute(
        update(connections).where(connections.c.id == connection_id).values(last_applied_run_id=run_id)
    )

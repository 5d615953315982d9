"""The staff webhook's row (``web_webhooks``): its URL and its signing secret, sealed by the vault.

There is at most one webhook; saving one replaces the last. What the sealed
secret holds is :mod:`rostersync.notify`'s business.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, insert, select

from .types import UTC
from .web_tables import webhooks


@dataclass(frozen=True)
class StoredWebhook:
    url: str
    secret_last4: str
    enabled: bool
    secret_encrypted: str = field(repr=False)


def latest_webhook(*, db: Connection, enabled: bool = False) -> StoredWebhook | None:
    """The webhook saved last (with ``enabled``, the last one that is enabled), or None."""
    query = select(webhooks).order_by(webhooks.c.id.desc()).limit(1)
    if enabled:
        query = query.where(webhooks.c.enabled.is_(True))
    row = db.execute(query).first()
    if row is None:
        return None
    return StoredWebhook(url=row.url, secret_last4=row.secret_last4, enabled=bool(row.enabled),
                         secret_encrypted=row.secret_encrypted)


def replace_webhook(*, db: Connection, url: str, secret_encrypted: str, secret_last4: str, created_by: str,
                    now: datetime.datetime | None = None) -> None:
    """Save an enabled webhook in place of any before it."""
    db.execute(delete(webhooks))
    db.execute(insert(webhooks).values(url=url, secret_encrypted=secret_encrypted, secret_last4=secret_last4,
                                       enabled=True, created_at=now or datetime.datetime.now(UTC),
                                       created_by=created_by))


def remove_webhooks(*, db: Connection) -> None:
    db.execute(delete(webhooks))

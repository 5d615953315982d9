"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

UTC = datetime.timezone.utc

# JSON documents: JSONB on PostgreSQL (indexable, queryable), JSON text on SQLite;
# Python None is SQL NULL.
JsonDoc = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

# A 64-bit key that is still SQLite's auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in, an aware UTC datetime out.

    PostgreSQL keeps ``timestamptz``; SQLite keeps the UTC wall time as text
    (``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares correctly.
    Naive datetimes are refused: every time in rostersync is UTC and aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def parse_timestamp(text: str | None) -> datetime.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; None when absent or unreadable.

    Providers write ``2026-09-01T00:00:00.000Z``, ``...+00:00`` or a bare date;
    a timestamp without a zone is read as UTC (OneRoster's dateLastModified is UTC).
    """
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except (ValueError, TypeError):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

"""The web server's tables: staff accounts, sessions, districts (a district
exists before its credentials; at intake it becomes the store connection named
``connection_name``), intake links, the audit log, notifications and webhooks.

They live on the store's shared ``metadata`` so one migration history covers
everything. Nothing secret is stored in clear: passwords as argon2 hashes,
session and intake tokens as SHA-256 hashes, the webhook signing secret
encrypted by the vault.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from .tables import metadata
from .types import UTCDateTime

staff_users = Table(
    "web_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
    Column("disabled", Boolean, nullable=False, default=False),
)

staff_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

login_attempts = Table(
    "web_login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_web_login_attempts_username_at", "username", "at"),
    Index("ix_web_login_attempts_client_at", "client", "at"),
)

districts = Table(
    "web_districts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    # the name of the store connection that the district's credentials become at intake
    Column("connection_name", String(100), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),  # the district's IANA time zone (peak hours, schedule)
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("credentials_received_at", UTCDateTime),
    Column("credentials_expire_on", Date),
)

intake_links = Table(
    "web_intake_links",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("district_id", Integer, ForeignKey("web_districts.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("revoked_by", String(100)),
)

audit_log = Table(
    "web_audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("district_id", Integer, ForeignKey("web_districts.id", ondelete="SET NULL")),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_web_audit_log_at", "at"),
)

notifications = Table(
    "web_notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("level", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("district_id", Integer, ForeignKey("web_districts.id", ondelete="SET NULL")),
    Column("read_at", UTCDateTime),
)

webhooks = Table(
    "web_webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret_encrypted", Text, nullable=False),
    Column("secret_last4", String(4), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
)

WEB_TABLES = (staff_users, staff_sessions, login_attempts, districts, intake_links, audit_log,
              notifications, webhooks)

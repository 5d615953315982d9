"""One Settings object, read from ``ROSTERSYNC_*`` environment variables.

Build it once (``Settings()``) at the edge (CLI, worker, server, tests) and
pass it explicitly; nothing in rostersync reads the environment elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROSTERSYNC_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./rostersync.db",
        description="SQLAlchemy URL of the store: sqlite:///path or postgresql+psycopg://...",
    )
    secret_key: SecretStr | None = Field(
        None, description="Key that encrypts stored secrets (urlsafe base64, 32 bytes)."
    )
    key_file: Path = Field(
        Path("./rostersync.key"),
        description="Where the encryption key is kept when ROSTERSYNC_SECRET_KEY is not set.",
    )
    log_level: str = Field("INFO", description="Logging level.")
    log_json: bool = Field(False, description="Log one JSON object per line.")
    allow_http: bool = Field(
        False, description="Let the server fetch plain-http OneRoster URLs (sandboxes, tests)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts the server may reach even when they resolve to private addresses.",
    )
    http_timeout: float = Field(30.0, description="Seconds before one HTTP request times out.")

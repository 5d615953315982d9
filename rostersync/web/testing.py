"""Helpers for testing the web app (used by rostersync's own tests; no pytest import).

* :func:`local_settings`: Settings for a store in a folder, a fresh vault key,
  and the network guard opened for the loopback sandbox;
* :func:`web_test_services`: :class:`WebServices` over a migrated store, with
  any collaborator replaced (a fake check, fake run actions, ...);
* :func:`add_staff`: a staff account;
* :class:`FakeRunActions`, :func:`fixed_check`: simple stand-ins.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from argon2 import PasswordHasher

from ..settings import Settings
from ..store.engine import begin_write, create_engine_for, migrate, sqlite_path
from ..vault import generate_key
from . import security
from .accounts import create_user
from .services import WebServices, build_web_services

STAFF_PASSWORD = "correct horse battery staple"


def local_settings(folder: Path, *, loopback: bool = True, **overrides) -> Settings:
    """Settings for a SQLite store in ``folder``; ``loopback`` lets intake reach 127.0.0.1 over http."""
    values: dict[str, Any] = dict(
        database_url=f"sqlite:///{Path(folder) / 'rostersync.db'}",
        secret_key=generate_key(),
        key_file=Path(folder) / "rostersync.key",
    )
    if loopback:
        values.update(allow_http=True, allowed_hosts=["127.0.0.1"])
    values.update(overrides)
    return Settings(**values)


_template: Path | None = None


def _migrated_template() -> Path:
    """A migrated empty SQLite store, made once per process and copied for each test."""
    global _template
    if _template is None or not _template.exists():
        folder = Path(tempfile.mkdtemp(prefix="rostersync-web-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        engine = create_engine_for(f"sqlite:///{folder / 'template.db'}")
        migrate(engine)
        engine.dispose()
        _template = folder / "template.db"
    return _template


def fast_password_hashing() -> None:
    """Cheaper argon2 parameters for tests (hashes still verify; the parameters live in each hash)."""
    security.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def web_test_services(settings: Settings, **overrides) -> WebServices:
    """Services over a freshly migrated store; ``overrides`` replace collaborators."""
    engine = overrides.pop("engine", None) or create_engine_for(settings.database_url)
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        shutil.copyfile(_migrated_template(), path)
    else:
        migrate(engine)
    fast_password_hashing()
    overrides.setdefault("background", lambda fn: fn())  # run webhooks inline: tests see the result
    overrides.setdefault("run_now", lambda connection_id, mode: True)
    services = build_web_services(settings, engine=engine, **overrides)
    close = services.close

    def close_all() -> None:
        close()
        engine.dispose()

    services.close = close_all
    return services


def add_staff(services: WebServices, username: str = "staff", password: str = STAFF_PASSWORD) -> None:
    with begin_write(services.engine) as conn:
        create_user(username, password, conn=conn)


class FakeRunActions:
    """Records approve/discard calls; ``fail`` makes them raise instead."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def approve(self, run_id: int) -> None:
        self.calls.append(("approve", run_id))
        if self.fail:
            raise self.fail

    def discard(self, run_id: int) -> None:
        self.calls.append(("discard", run_id))
        if self.fail:
            raise self.fail


def fixed_check(decide: Callable[[Any], list[dict]]):
    """A check whose findings are ``decide(spec)`` (dicts with level, title, detail, fix)."""
    calls: list[Any] = []

    def check(spec):
        calls.append(spec)
        return {"findings": decide(spec)}

    check.calls = calls  # type: ignore[attr-defined]
    return check

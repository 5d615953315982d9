"""The services every entry point shares, built once from :class:`Settings`.

::

    with build_services(settings) as services:
        services.sync.run("springfield", mode="delta")
        with services.engine.connect() as db:
            ...

:func:`build_services` opens the store (migrated to the newest schema unless
``migrate=False``), the vault (the key from ``ROSTERSYNC_SECRET_KEY`` or the
key file, created on first use unless ``create_key=False``) and the
:class:`~rostersync.sync.SyncEngine` reading districts with the real
OneRoster client. The CLI, the web server and the workers call it; tests pass
their own collaborators (``engine=``, ``vault=``, ``reader_factory=``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from .settings import Settings
from .store.engine import create_engine_for
from .store.engine import migrate as migrate_store
from .sync import SyncEngine, client_reader_factory
from .sync.reader import ReaderFactory
from .vault import Vault


@dataclass(kw_only=True)
class Services:
    """The store, the vault and the sync engine of one process. Close it when done."""

    settings: Settings
    engine: Engine
    vault: Vault
    sync: SyncEngine
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_services(
    settings: Settings,
    *,
    engine: Engine | None = None,
    vault: Vault | None = None,
    reader_factory: ReaderFactory | None = None,
    migrate: bool = True,
    create_key: bool = True,
    **sync_options: Any,
) -> Services:
    """Services for ``settings``; an ``engine`` passed in is shared (and not disposed by ``close``).

    ``sync_options`` go to :class:`SyncEngine` (``batch_size=``, ``overlap=``, ``clock=``).
    """
    owned = engine is None
    engine = engine if engine is not None else create_engine_for(settings.database_url)
    try:
        if migrate:
            migrate_store(engine)
        vault = vault if vault is not None else Vault.from_settings(settings, create=create_key)
    except BaseException:
        if owned:
            engine.dispose()
        raise
    sync = SyncEngine(
        engine=engine,
        vault=vault,
        reader_factory=reader_factory or client_reader_factory(timeout=settings.http_timeout),
        **sync_options,
    )
    return Services(settings=settings, engine=engine, vault=vault, sync=sync,
                    close=engine.dispose if owned else (lambda: None))

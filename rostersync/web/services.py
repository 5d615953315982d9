"""What the web app works with, built once from :class:`Settings`.

:func:`build_web_services` wires the network guard, the connection check and
the webhook to the store, the vault and the sync engine of
:func:`rostersync.services.build_services`; tests build a
:class:`WebServices` with fakes in place of any of them (keyword-only
collaborators, no patching).
"""

from __future__ import annotations

import collections
import datetime
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from ..netguard import GuardedTransport, NetPolicy
from ..notify import WebhookSender
from ..services import Services, build_services
from ..settings import Settings
from ..source.connection import ConnectionSpec
from ..store import connections as store_connections
from ..store.errors import ConnectionNotFound
from ..vault import Vault
from .links import DEFAULT_LINK_LIFETIME, District

log = logging.getLogger(__name__)

CheckFn = Callable[[ConnectionSpec], Any]
RunNow = Callable[[int, str], bool]


class RunActions(Protocol):
    """Approve or discard a held run (the sync engine's)."""

    def approve(self, run_id: int) -> Any: ...
    def discard(self, run_id: int) -> Any: ...


class SlidingWindowLimiter:
    """At most ``limit`` events per key within ``window`` seconds (in memory, per process)."""

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[object, collections.deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: object) -> bool:
        now = self._clock()
        with self._lock:
            events = self._events.setdefault(key, collections.deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True


class ConnectionWriter:
    """Saves intake credentials as the district's store connection (secrets sealed by the vault)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def save(self, district: District, spec: ConnectionSpec, *, conn: Connection) -> bool:
        """Add the connection, or replace its credentials; True when it already existed."""
        settings = spec.to_dict()
        values = dict(settings=settings, secrets=spec.secrets(), profile=spec.profile,
                      version=spec.resolved_version.value, timezone=district.timezone)
        try:
            store_connections.get_connection(db=conn, name=district.connection_name)
        except ConnectionNotFound:
            store_connections.add_connection(db=conn, vault=self.vault, name=district.connection_name,
                                             display_name=district.name, **values)
            return False
        store_connections.update_connection(db=conn, vault=self.vault, name=district.connection_name, **values)
        return True


def default_check(policy: NetPolicy) -> CheckFn:
    """The live connection check, every request through the network guard."""

    def check(spec: ConnectionSpec):
        from ..source.check import run_check

        transport = GuardedTransport(policy)
        try:
            return run_check(spec, transport=transport)
        finally:
            transport.close()

    return check


@dataclass(kw_only=True)
class WebServices:
    """Everything the routes use. Build with :func:`build_web_services` or directly in tests."""

    settings: Settings
    engine: Engine
    vault: Vault
    policy: NetPolicy
    check: CheckFn
    connections: ConnectionWriter
    runs: RunActions
    run_now: RunNow
    webhook: WebhookSender
    background: Callable[[Callable[[], Any]], Any]
    intake_limiter: SlidingWindowLimiter = field(default_factory=lambda: SlidingWindowLimiter(20, 600))
    vendor_name: str = "rostersync"
    link_lifetime: datetime.timedelta = DEFAULT_LINK_LIFETIME
    close: Callable[[], None] = lambda: None


def _background_pool() -> tuple[Callable[[Callable[[], Any]], Any], Callable[[], None]]:
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rostersync-web")

    def submit(fn: Callable[[], Any]):
        def guarded():
            try:
                return fn()
            except Exception:  # noqa: BLE001 - background work must not die silently
                log.exception("background task failed")
        return pool.submit(guarded)

    return submit, lambda: pool.shutdown(wait=False, cancel_futures=True)


def build_web_services(settings: Settings, *, engine: Engine | None = None, run_now: RunNow | None = None,
                       migrate: bool = False, shared: Services | None = None, **overrides) -> WebServices:
    """The web services for ``settings``; ``overrides`` replace any field (tests, the CLI).

    Pass ``engine`` to share a store, or ``shared`` to share the store, the vault and the sync engine
    (``rostersync serve``); neither is closed with these services.
    """
    core = shared if shared is not None else build_services(settings, engine=engine,
                                                            vault=overrides.pop("vault", None), migrate=migrate)
    policy = overrides.pop("policy", None) or NetPolicy.from_settings(settings)
    background, stop_background = _background_pool()

    def close() -> None:
        stop_background()
        if shared is None:
            core.close()

    values: dict[str, Any] = dict(
        settings=settings, engine=core.engine, vault=core.vault, policy=policy, check=default_check(policy),
        connections=ConnectionWriter(core.vault), runs=core.sync, run_now=run_now or _unavailable_run_now,
        webhook=WebhookSender(engine=core.engine, vault=core.vault, policy=policy), background=background,
        close=close,
    )
    values.update(overrides)
    return WebServices(**values)


def _unavailable_run_now(connection_id: int, mode: str) -> bool:
    log.warning("no sync runner in this process; the %s sync of connection %s was not started", mode, connection_id)
    return False

"""Running the web app: services wired to a sync runner, and uvicorn in a thread.

* :func:`build_server_services` is what ``rostersync serve`` uses: the store
  migrated, the embedded scheduler started (it runs scheduled syncs and the
  dashboard's "Sync now"), or, with ``scheduler=False`` on PostgreSQL, manual
  runs queued for the procrastinate workers.
* :class:`ServerThread` serves an app on 127.0.0.1 with an OS-chosen port
  (browser tests, the demo).
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import uvicorn

from ..errors import ConfigError
from ..netguard import GuardedTransport, NetPolicy
from ..services import build_services
from ..settings import Settings
from .services import WebServices, build_web_services

log = logging.getLogger(__name__)


def build_server_services(settings: Settings, *, vendor_name: str = "rostersync", scheduler: bool = True,
                          tick: float = 30.0, **overrides) -> WebServices:
    """Web services whose "Sync now" really syncs (see the module docstring)."""
    # The store is migrated and the key file created on first start; syncs read through the guard.
    core = build_services(settings, vault=overrides.pop("vault", None),
                          reader_factory=guarded_reader_factory(settings))
    stop_runner = lambda: None  # noqa: E731
    try:
        if scheduler:
            from ..jobs import build_job_services, start_embedded_scheduler

            embedded = start_embedded_scheduler(settings, build_job_services(settings, shared=core), tick=tick)
            run_now = embedded.run_now
            stop_runner = embedded.stop
        elif core.engine.dialect.name == "postgresql":
            run_now, stop_runner = _queued_runs(settings)
        else:
            raise ConfigError("without the embedded scheduler, syncs need PostgreSQL workers",
                              fix="Start `rostersync serve` with the scheduler (the default) on SQLite.")
        services = build_web_services(settings, shared=core, run_now=run_now, vendor_name=vendor_name,
                                      **overrides)
    except BaseException:
        stop_runner()
        core.close()
        raise
    close_web = services.close

    def close() -> None:
        stop_runner()
        close_web()
        core.close()

    services.close = close
    return services


def guarded_reader_factory(settings: Settings):
    """Sync reads go through the network guard too: the URLs were typed by a stranger at
    intake, and DNS can change after the check. Limits suit large pages (IC serves up to
    50,000 records a page). Each reader gets its own transport (closing a client closes it)."""
    from ..source.client import OneRosterClient
    from ..source.connection import ConnectionSpec

    policy = NetPolicy.from_settings(settings, max_response_bytes=1024 * 1024 * 1024,
                                     deadline=max(600.0, settings.http_timeout * 10))

    def build(connection, secrets):
        return OneRosterClient(ConnectionSpec.from_dict(connection.settings, secrets),
                               transport=GuardedTransport(policy), timeout=settings.http_timeout)

    return build


def _queued_runs(settings: Settings):
    from ..jobs import build_job_app, enqueue_run
    from ..jobs.pg import conninfo_from_url, ensure_job_schema

    # The queue's tables may not exist yet when no worker has started.
    ensure_job_schema(conninfo_from_url(settings.database_url))
    app = build_job_app(settings, tick_seconds=None)
    app.open()

    def run_now(connection_id: int, mode: str) -> bool:
        return enqueue_run(app, connection_id, mode) is not None

    return run_now, app.close


class ServerThread:
    """uvicorn serving ``app`` on ``host`` (port 0: any free one) in a background thread.

    Use as a context manager; :attr:`url` is ``http://127.0.0.1:PORT``.
    """

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        bound_host, bound_port = self._sock.getsockname()[:2]
        self.url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]},
                                       name="rostersync-web", daemon=True)

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the web server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(10)
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

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
from ..settings import Settings
from .services import WebServices, build_web_services

log = logging.getLogger(__name__)


def build_server_services(settings: Settings, *, vendor_name: str = "rostersync", scheduler: bool = True,
                          tick: float = 30.0, **overrides) -> WebServices:
    """Web services whose "Sync now" really syncs (see the module docstring)."""
    from ..store.engine import create_engine_for, migrate

    engine = create_engine_for(settings.database_url)
    migrate(engine)
    stop_runner = lambda: None  # noqa: E731
    if scheduler:
        from ..jobs import build_job_services, start_embedded_scheduler

        embedded = start_embedded_scheduler(settings, build_job_services(settings), tick=tick)
        run_now = embedded.run_now
        stop_runner = embedded.stop
    elif engine.dialect.name == "postgresql":
        run_now, stop_runner = _queued_runs(settings)
    else:
        raise ConfigError("without the embedded scheduler, syncs need PostgreSQL workers",
                          fix="Start `rostersync serve` with the scheduler (the default) on SQLite.")
    services = build_web_services(settings, engine=engine, run_now=run_now, vendor_name=vendor_name, **overrides)
    close_web = services.close

    def close() -> None:
        stop_runner()
        close_web()
        engine.dispose()

    services.close = close
    return services


def _queued_runs(settings: Settings):
    from ..jobs import build_job_app, enqueue_run

    app = build_job_app(settings, tick_seconds=None)
    app.open()

    def run_now(connection_id: int, mode: str) -> bool:
        return enqueue_run(app, connection_id, mode) is not None

    return run_now, app.close


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ServerThread:
    """uvicorn serving ``app`` on ``host`` in a background thread; use as a context manager."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                     lifespan="off")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="rostersync-web", daemon=True)

    @property
    def url(self) -> str:
        servers = getattr(self.server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                return f"http://{host}:{port}"
        raise RuntimeError("the server is not listening")

    def start(self, timeout: float = 10.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""Helpers for testing the web app (used by rostersync's own tests; no pytest import).

* :func:`local_settings`: Settings for a store in a folder, a fresh vault key,
  and the network guard opened for the loopback sandbox;
* :func:`web_test_services`: :class:`WebServices` over a migrated store, with
  any collaborator replaced (a fake check, fake run actions, ...);
* :func:`add_staff`: a staff account; :func:`sign_in`: a TestClient signed in;
* :class:`FakeRunActions`, :func:`fixed_check`: simple stand-ins;
* :class:`WebhookReceiver`: a real HTTP server on 127.0.0.1 that receives
  webhook events and verifies their signatures.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def sign_in(client, username: str = "staff", password: str = STAFF_PASSWORD) -> str:
    """Sign a TestClient in; returns its CSRF token, for the forms it posts."""
    if not client.cookies.get("rs_csrf"):
        client.get("/login")
    token = client.cookies.get("rs_csrf")
    client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})
    return token


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


class WebhookReceiver:
    """A webhook receiver over loopback: records every POST and checks its signature with ``secret``.

    ::

        with WebhookReceiver("signing-secret-1234567") as hook:
            ...                       # configure hook.url as the webhook, make something happen
            event, = hook.wait_for(1)  # the verified JSON payloads, in order of arrival

    ``status`` is what it answers (set it to 500 to refuse deliveries).
    """

    MAX_AGE = 300  # seconds: older timestamps are refused, as a real receiver would

    def __init__(self, secret: str, *, status: int = 204) -> None:
        self.secret = secret
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._arrived:
                    receiver.received.append((dict(self.headers), body))
                    receiver._arrived.notify_all()
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/rostersync"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def verified(self, headers: dict[str, str], body: bytes) -> dict:
        """The payload of one delivery; AssertionError when its signature or timestamp is wrong."""
        timestamp = headers["X-Rostersync-Timestamp"]
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers["X-Rostersync-Signature"], "sha256=" + expected):
            raise AssertionError("the webhook signature does not verify")
        if abs(time.time() - int(timestamp)) > self.MAX_AGE:
            raise AssertionError(f"the webhook timestamp {timestamp} is stale")
        return json.loads(body)

    def events(self) -> list[dict]:
        with self._arrived:
            return [self.verified(headers, body) for headers, body in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict]:
        """The first ``count`` verified payloads, waiting up to ``timeout`` seconds for them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} webhook deliveries arrived, expected {count}")
        return self.events()[:count]

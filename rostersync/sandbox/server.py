"""Running a sandbox: a real HTTP server on a loopback socket, in a background thread.

``start_sandbox(students=..., seed=...)`` generates the district, builds the
site and its app, binds a socket (port 0 picks a free one), runs uvicorn in
a daemon thread and returns a :class:`Sandbox` once it accepts connections::

    with start_sandbox(students=300, seed=7) as box:
        creds = box.credentials          # what a district copies from Infinite Campus
        box.faults.set(rate_limit=0.2)   # misbehave from now on
        box.advance()                    # the next school day, no restart
        box.stats.max_in_flight
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import uvicorn

from ..log import register_secret
from ..oneroster.kinds import Version
from .app import ConnectionDropped, create_sandbox_app
from .auth import OAuth1Verifier, TokenIssuer
from .faults import FaultConfig, Faults
from .site import SandboxSite
from .stats import SandboxStats

CLIENT_AUTH_METHODS = ("basic", "form")

# The labels Infinite Campus puts on each value, in the order it shows them.
IC_LABELS = {
    "client_id": "Client ID",
    "client_secret": "Client Secret",
    "token_url": "Token URL",
    "base_url": "Base URL",
    "base_url_v1p2": "Base URL (OneRoster 1.2)",
    "consumer_key": "Consumer Key",
    "consumer_secret": "Consumer Secret",
    "oneroster_url": "OneRoster URL",
}


@dataclass(frozen=True)
class SandboxCredentials:
    """What a district admin copies from Infinite Campus, plus the sandbox's admin address."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    base_url: str  # OneRoster 1.1, OAuth 2 ("New Look")
    base_url_v1p2: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    oneroster_url: str  # OneRoster 1.1, OAuth 1.0a ("Classic")
    admin_url: str
    admin_token: str = field(repr=False)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class _HideDroppedConnections(logging.Filter):
    """uvicorn logs an app exception with its traceback; a drop fault is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        return not isinstance(exc, ConnectionDropped)


_FILTER = _HideDroppedConnections()


class Sandbox:
    """A running sandbox site. Stop it with :meth:`stop` (or use it as a context manager)."""

    def __init__(self, *, site: SandboxSite, credentials: SandboxCredentials, app: Any,
                 server: uvicorn.Server, thread: threading.Thread, sock: socket.socket, url: str) -> None:
        self.site = site
        self.credentials = credentials
        self.app = app
        self.url = url  # http://127.0.0.1:PORT
        self._server, self._thread, self._sock = server, thread, sock

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def district(self) -> Any:
        return self.site.district

    @property
    def faults(self) -> Faults:
        return self.site.faults

    @property
    def stats(self) -> SandboxStats:
        return self.site.stats

    @property
    def issuer(self) -> TokenIssuer:
        return self.site.issuer

    @property
    def verifier(self) -> OAuth1Verifier:
        return self.site.verifier

    @property
    def demographics(self) -> bool:
        """Whether the connection's Data to Share includes Demographics (else /demographics is 403)."""
        return self.site.demographics

    @demographics.setter
    def demographics(self, value: bool) -> None:
        self.site.demographics = bool(value)

    def base_url(self, version: Version | str = Version.V1P1) -> str:
        return self.url + self.site.base_path(Version(version))

    def advance(self, days: int = 1) -> dict:
        """Play ``days`` school days now, without restarting; returns the district summary."""
        return self.site.advance(days)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close the socket (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Sandbox {self.url} app={self.site.app_name!r} day={getattr(self.district, 'day', '?')}>"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def start_sandbox(
    *,
    students: int = 30,
    seed: int = 1,
    day: int = 0,
    port: int = 0,
    host: str = "127.0.0.1",
    app_name: str = "rostersync",
    faults: Faults | FaultConfig | Mapping[str, object] | Iterable[str] | None = None,
    demographics: bool = True,
    token_ttl: float = 3600,
    client_auth: Iterable[str] = CLIENT_AUTH_METHODS,
    max_limit: int = 50_000,
    default_limit: int = 100,
    client_id: str | None = None,
    client_secret: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    admin_token: str | None = None,
    district: Any = None,
    clock: Callable[[], float] = time.time,
    startup_timeout: float = 30.0,
) -> Sandbox:
    """Generate a district (or serve ``district``) and serve it as an Infinite Campus site.

    Credentials are random per start unless given. ``client_auth`` names the
    OAuth 2 client-authentication methods the token URL accepts (``basic``,
    ``form``). ``clock`` drives token expiry and OAuth 1.0a timestamp checks.
    """
    methods = {m.strip().lower() for m in client_auth}
    if not methods or methods - set(CLIENT_AUTH_METHODS):
        raise ValueError(f"client_auth must name one or both of {CLIENT_AUTH_METHODS}, not {sorted(methods)}")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be 0 (any free port) to 65535, not {port!r}")
    if district is None:
        from .district import generate

        district = generate(seed=seed, students=students, day=day)

    client_id = client_id or str(uuid.uuid4())
    client_secret = client_secret or secrets.token_urlsafe(32)
    consumer_key = consumer_key or secrets.token_hex(16)
    consumer_secret = consumer_secret or secrets.token_urlsafe(24)
    admin_token = admin_token or secrets.token_urlsafe(24)
    for secret in (client_secret, consumer_secret, admin_token):
        register_secret(secret)

    site = SandboxSite(
        district=district,
        app_name=app_name,
        issuer=TokenIssuer(clients={client_id: client_secret}, ttl=token_ttl, accept_basic="basic" in methods,
                           accept_form="form" in methods, clock=clock),
        verifier=OAuth1Verifier(consumers={consumer_key: consumer_secret}, clock=clock),
        faults=faults if isinstance(faults, Faults) else Faults(faults),
        admin_token=admin_token,
        demographics=demographics,
        max_limit=max_limit,
        default_limit=default_limit,
    )
    app = create_sandbox_app(site)

    sock = _bind(host, port)
    url = f"http://{_url_host(host)}:{sock.getsockname()[1]}"
    logging.getLogger("uvicorn.error").addFilter(_FILTER)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30, server_header=False, date_header=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox{url[6:]}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the sandbox server did not start on {url}")
        time.sleep(0.01)

    credentials = SandboxCredentials(
        client_id=client_id,
        client_secret=client_secret,
        token_url=f"{url}{site.token_path}?appName={app_name}",
        base_url=url + site.base_path(Version.V1P1),
        base_url_v1p2=url + site.base_path(Version.V1P2),
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        oneroster_url=url + site.classic_path,
        admin_url=f"{url}/sandbox-admin",
        admin_token=admin_token,
    )
    return Sandbox(site=site, credentials=credentials, app=app, server=server, thread=thread, sock=sock, url=url)

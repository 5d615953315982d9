"""The OneRoster client against the sandbox (a simulated Infinite Campus) over loopback HTTP."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from rostersync.oneroster.kinds import Version
from rostersync.oneroster.records import RecordError
from rostersync.oneroster.resources import SYNC_RESOURCES
from rostersync.sandbox.server import Sandbox, start_sandbox
from rostersync.source.client import OneRosterClient
from rostersync.source.connection import ConnectionSpec, OAuth1Credentials, OAuth2Credentials
from rostersync.source.errors import CredentialsRefused
from rostersync.source.profiles import INFINITE_CAMPUS

SMALL_PAGES = dataclasses.replace(INFINITE_CAMPUS, page_size=4)


class FakeTime:
    """Real wall time at start; sleep() advances it instantly and is recorded."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += seconds


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that remembers every Authorization header it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.authorizations: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            self.authorizations.add(request.headers["authorization"].split(" ", 1)[-1])
        return super().handle_request(request)


class InFlightCounter:
    """ASGI middleware: requests in flight from their first byte in to their last byte out.

    SandboxStats.max_in_flight counts until the app returns, a little after
    the last byte went out, so under keep-alive it counts the tail of a
    finished request together with the client's next one (6-8 for a client
    that never has more than 5 outstanding). This counter stops at the last
    byte, which is what the client can see.
    """

    def __init__(self, app) -> None:
        self.app, self.current, self.max = app, 0, 0
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with self._lock:
            self.current += 1
            self.max = max(self.max, self.current)
        done = False

        def finish() -> None:
            nonlocal done
            if not done:
                done = True
                with self._lock:
                    self.current -= 1

        async def counting_send(message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                finish()
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            finish()


class Front:
    """The sandbox's own app served on a second loopback port behind an exact in-flight counter."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.counter = InFlightCounter(box.app)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.counter, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)

    def url_of(self, sandbox_url: str) -> str:
        return sandbox_url.replace(self.box.url, self.url)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)
        self._sock.close()


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with start_sandbox(students=40, seed=11, token_ttl=3600) as sandbox:
        front = Front(sandbox)
        sandbox.front = front  # type: ignore[attr-defined]
        yield sandbox
        front.stop()


@pytest.fixture(autouse=True)
def calm(box: Sandbox) -> Iterator[None]:
    box.faults.off()
    box.demographics = True
    yield
    box.faults.off()


def oauth2(box: Sandbox, *, secret: str | None = None, version: Version = Version.V1P1) -> ConnectionSpec:
    c, front = box.credentials, box.front
    base = c.base_url if version is Version.V1P1 else c.base_url_v1p2
    return ConnectionSpec(credentials=OAuth2Credentials(
        client_id=c.client_id, client_secret=secret or c.client_secret,
        token_url=front.url_of(c.token_url), base_url=front.url_of(base)))


def read_all(client: OneRosterClient, resources=SYNC_RESOURCES) -> dict[str, list[str]]:
    out = {}
    for name in resources:
        items = list(client.read(name))
        assert not any(isinstance(i, RecordError) for i in items)
        out[name] = [i.sourced_id for i in items]
    return out


@pytest.mark.parametrize("paging_headers", [True, False], ids=["with-paging-headers", "without-paging-headers"])
def test_every_fault_switch_on_every_record_is_read_exactly_once(box: Sandbox, paging_headers: bool, caplog):
    caplog.set_level(logging.DEBUG)
    box.faults.replace({"rate_limit": 0.1, "retry_after": 1, "fail_once": 503, "delay": 0.001, "drop": 0.05,
                        "expire_tokens_after": 25, "insert_record": True,
                        "no_total_count": not paging_headers, "no_link": not paging_headers, "seed": 5})
    box.front.counter.max = 0
    fired_before = dict(box.faults.fired)
    tokens_before = box.stats.tokens_issued
    clock, transport = FakeTime(), RecordingTransport()
    with OneRosterClient(oauth2(box), transport=transport, profile=SMALL_PAGES, clock=clock, sleep=clock.sleep,
                         peak=False) as client:
        faulty = read_all(client)
    fired = {name: n - fired_before.get(name, 0) for name, n in box.faults.fired.items()}
    box.faults.off()
    with OneRosterClient(oauth2(box), profile=INFINITE_CAMPUS, peak=False) as clean:
        truth = read_all(clean)

    for name in SYNC_RESOURCES:
        assert len(faulty[name]) == len(set(faulty[name])), f"{name}: a record was read twice"
        assert set(faulty[name]) == set(truth[name]), f"{name}: the read is not the provider's set"
    # every fault fired, and was survived
    for fault in ("rate_limit", "fail_once", "drop", "expire_tokens", "insert_record"):
        assert fired.get(fault, 0) > 0, fault
    assert box.stats.tokens_issued - tokens_before >= 2  # the expired token was replaced
    if paging_headers:
        assert client.stats.rereads >= 1  # the shifted total was noticed and the collection read again
    # Retry-After: 1 was honoured before retrying a 429
    assert sum(1 for s in clock.sleeps if s >= 1.0) >= fired["rate_limit"]
    # bounded: no request needed more than the profile's attempts
    assert client.stats.retries <= client.stats.requests - client.stats.pages
    assert 1 <= box.front.counter.max <= INFINITE_CAMPUS.max_in_flight
    # nothing secret in any log line: no client secret, no token, no record content
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert transport.authorizations
    for secret in (box.credentials.client_secret, *transport.authorizations):
        assert secret not in text
    assert "givenName" not in text


def test_concurrency_never_exceeds_the_profile_limit(box: Sandbox):
    box.faults.replace({"delay": 0.01})
    counter = box.front.counter
    counter.max = 0
    with OneRosterClient(oauth2(box), profile=SMALL_PAGES, peak=False) as client:
        read_all(client, ["enrollments"])
    assert counter.max == 5 == client.stats.max_in_flight

    counter.max = 0
    with OneRosterClient(oauth2(box), profile=SMALL_PAGES, peak=True) as client:
        read_all(client, ["students"])
    assert counter.max == 1


def test_bad_credentials_fail_at_once_without_a_retry_storm(box: Sandbox):
    before = box.stats.to_dict()["requests"]
    with OneRosterClient(oauth2(box, secret="not-the-secret"), profile=SMALL_PAGES) as client:
        with pytest.raises(CredentialsRefused) as caught:
            list(client.read("students"))
    assert box.stats.to_dict()["requests"] - before <= 2  # Basic, then the form body; no API call
    assert "Client Secret" in caught.value.fix
    assert "not-the-secret" not in str(caught.value)


def test_classic_oauth1_signed_reads_with_a_delta_filter(box: Sandbox):
    c = box.credentials
    spec = ConnectionSpec(credentials=OAuth1Credentials(consumer_key=c.consumer_key, consumer_secret=c.consumer_secret,
                                                        oneroster_url=box.front.url_of(c.oneroster_url)))
    with OneRosterClient(spec, profile=SMALL_PAGES, peak=False) as client:
        everyone = [r.sourced_id for r in client.read("students", since="2000-01-01T00:00:00Z")]
        nobody = list(client.read("students", since="2999-01-01T00:00:00Z"))
    with OneRosterClient(oauth2(box), profile=INFINITE_CAMPUS) as clean:
        assert sorted(everyone) == sorted(r.sourced_id for r in clean.read("students"))
    assert nobody == []


def test_one_point_two_users_are_read_into_the_same_model(box: Sandbox):
    with OneRosterClient(oauth2(box, version=Version.V1P2), profile=INFINITE_CAMPUS) as client:
        teachers = list(client.read("teachers"))
        assert client.count("teachers") == len(teachers) > 0
        one = client.get("teachers", teachers[0].sourced_id)
    assert all(t.role == "teacher" and t.version is Version.V1P2 for t in teachers)
    assert one.sourced_id == teachers[0].sourced_id

"""The network guard: where the server may connect for a URL a stranger typed (no real network)."""

from __future__ import annotations

import httpx
import pytest

from rostersync.settings import Settings
from rostersync.netguard import (
    AddressRefused,
    GuardedTransport,
    NetPolicy,
    ResponseTooLarge,
    address_problem,
    guarded_client,
    preflight,
)

PUBLIC = "93.184.215.14"


def resolver(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError("Name or service not known")
        return table[host]

    resolve.calls = calls
    return resolve


class Recorder(httpx.BaseTransport):
    """The inner transport: records what the guard actually sends."""

    def __init__(self, respond=None) -> None:
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: httpx.Response(200, text="ok"))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


@pytest.mark.parametrize("address, problem", [
    ("127.0.0.1", "loopback"),
    ("::1", "loopback"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "non-public"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("::ffff:10.0.0.1", "private"),
    ("fc00::1", "private"),
])
def test_non_public_addresses_are_refused(address, problem):
    assert problem in address_problem(address)


def test_public_addresses_pass():
    assert address_problem(PUBLIC) is None
    assert address_problem("2606:4700:4700::1111") is None


def test_plain_http_is_refused_unless_allowed():
    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC]}))
    assert "https" in preflight(policy, "http://sis.example.org/campus/oauth2/token")
    allowed = NetPolicy(allow_http=True, resolver=resolver({"sis.example.org": [PUBLIC]}))
    assert preflight(allowed, "http://sis.example.org/campus/oauth2/token") is None


@pytest.mark.parametrize("url", ["https://127.0.0.1/x", "https://169.254.169.254/latest/meta-data",
                                 "https://[::1]/x", "https://localhost/x"])
def test_internal_targets_are_refused(url):
    policy = NetPolicy(resolver=resolver({"localhost": ["127.0.0.1"]}))
    assert "does not connect" in preflight(policy, url)


def test_a_name_resolving_to_any_private_address_is_refused():
    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC, "10.0.0.7"]}))
    problem = preflight(policy, "https://sis.example.org/campus")
    assert "10.0.0.7" in problem and "private" in problem


def test_allow_list_opens_a_host_explicitly():
    policy = NetPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}), resolver=resolver({}))
    assert preflight(policy, "http://127.0.0.1:8080/campus") is None
    assert preflight(policy, "http://169.254.169.254/") is not None


def test_policy_from_settings():
    policy = NetPolicy.from_settings(Settings(allow_http=True, allowed_hosts=[" Sandbox.Local "], http_timeout=5))
    assert policy.allow_http and policy.host_allowed("sandbox.local") and policy.timeout == 5


def test_unresolvable_host_is_named():
    assert "does not resolve" in preflight(NetPolicy(resolver=resolver({})), "https://nowhere.invalid/x")


def test_connects_to_the_checked_address_and_keeps_the_name():
    resolve = resolver({"sis.example.org": [PUBLIC]})
    inner = Recorder()
    transport = GuardedTransport(NetPolicy(resolver=resolve), inner=inner)
    with httpx.Client(transport=transport) as client:
        assert client.get("https://sis.example.org/campus/api?x=1").text == "ok"
    sent = inner.requests[0]
    assert sent.url.host == PUBLIC and sent.url.path == "/campus/api" and sent.url.query == b"x=1"
    assert sent.headers["Host"] == "sis.example.org"
    assert sent.extensions["sni_hostname"] == "sis.example.org"
    assert resolve.calls == ["sis.example.org"]  # resolved once, then pinned


def test_dns_rebinding_between_requests_is_caught():
    answers = iter([[PUBLIC], ["127.0.0.1"]])
    policy = NetPolicy(resolver=lambda host, port: next(answers))
    with httpx.Client(transport=GuardedTransport(policy, inner=Recorder())) as client:
        client.get("https://sis.example.org/first")
        with pytest.raises(AddressRefused):
            client.get("https://sis.example.org/second")


def test_redirects_are_checked_and_bounded():
    def respond(request):
        if request.url.path == "/loop":
            return httpx.Response(302, headers={"Location": "https://sis.example.org/loop"})
        return httpx.Response(302, headers={"Location": "https://169.254.169.254/latest/meta-data"})

    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC]}), max_redirects=3)
    inner = Recorder(respond)
    client = guarded_client(policy)
    client._transport = GuardedTransport(policy, inner=inner)
    with client:
        with pytest.raises(AddressRefused):
            client.get("https://sis.example.org/start")
        assert all(r.url.host == PUBLIC for r in inner.requests)
        with pytest.raises(httpx.TooManyRedirects):
            client.get("https://sis.example.org/loop")


def test_response_size_is_bounded():
    big = b"x" * 5000
    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC]}), max_response_bytes=1000)
    declared = Recorder(lambda r: httpx.Response(200, content=big))
    with httpx.Client(transport=GuardedTransport(policy, inner=declared)) as client:
        with pytest.raises(ResponseTooLarge):
            client.get("https://sis.example.org/")

    def chunks():
        for _ in range(5):
            yield b"y" * 400

    streamed = Recorder(lambda r: httpx.Response(200, content=chunks()))
    with httpx.Client(transport=GuardedTransport(policy, inner=streamed)) as client:
        with pytest.raises(ResponseTooLarge):
            client.get("https://sis.example.org/")


def test_credentials_in_the_url_are_refused():
    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC]}))
    assert "user name or password" in preflight(policy, "https://user:pw@sis.example.org/")


def test_timeouts_are_capped_by_the_policy():
    inner = Recorder()
    policy = NetPolicy(resolver=resolver({"sis.example.org": [PUBLIC]}), timeout=2.0)
    with httpx.Client(transport=GuardedTransport(policy, inner=inner), timeout=300) as client:
        client.get("https://sis.example.org/")
    assert inner.requests[0].extensions["timeout"]["read"] == 2.0

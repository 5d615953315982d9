"""An SSRF-safe ``httpx`` transport for URLs that a stranger typed.

The intake page fetches a Token URL and a Base URL that someone outside the
company pasted, the syncs of its connections read them again, and staff's
webhook URL is POSTed to by the web server and the workers
(:mod:`rostersync.notify`). :class:`GuardedTransport` makes sure such a
request can only reach the public internet:

* https only, unless the deployment allows plain http (``allow_http``);
* the host is resolved once; if any address it resolves to is private,
  loopback, link-local, multicast, reserved or otherwise not global, the
  request is refused, unless the host is on the deployment's allow-list;
* the connection goes to the address that was checked (the URL is rewritten
  to the IP, the ``Host`` header and TLS SNI/certificate check keep the
  original name), so a second DNS answer cannot swap in another address;
* every redirect hop comes back through the transport and is checked again;
  :func:`guarded_client` bounds their number;
* response bodies are cut off past ``max_response_bytes`` and a response
  must be complete within ``deadline`` seconds.

Refusals raise :class:`AddressRefused` (an ``httpx.ConnectError``), so code
that already handles "could not connect" keeps working; :func:`preflight`
gives the same verdict up front, as a sentence a district admin understands.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import httpx

Resolver = Callable[[str, int], list[str]]

__all__ = [
    "NetPolicy",
    "GuardedTransport",
    "AddressRefused",
    "ResponseTooLarge",
    "ResponseTooSlow",
    "guarded_client",
    "preflight",
    "system_resolver",
]


class AddressRefused(httpx.ConnectError):
    """The URL points somewhere this server may not go."""


class ResponseTooLarge(httpx.ReadError):
    """The response body is larger than the guard allows."""


class ResponseTooSlow(httpx.ReadTimeout):
    """The response did not arrive in full within the guard's deadline."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6), in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True)
class NetPolicy:
    """Where the server may connect when fetching a URL someone typed."""

    allow_http: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    max_redirects: int = 5
    max_response_bytes: int = 20 * 1024 * 1024
    timeout: float = 30.0
    deadline: float = 60.0
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(cls, settings, **overrides) -> NetPolicy:
        """The policy a deployment configured (``allow_http``, ``allowed_hosts``, ``http_timeout``)."""
        values = dict(
            allow_http=bool(settings.allow_http),
            allowed_hosts=normalized_hosts(settings.allowed_hosts),
            timeout=float(settings.http_timeout),
            deadline=max(float(settings.http_timeout) * 2, 10.0),
        )
        values.update(overrides)
        return cls(**values)

    def host_allowed(self, host: str) -> bool:
        return host.lower().strip("[]") in self.allowed_hosts


def address_problem(address: str) -> str | None:
    """Why connecting to ``address`` is refused ("a loopback address", ...), or None when it is public."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _resolve(policy: NetPolicy, host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        addresses = policy.resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise httpx.ConnectError(f"the host {host} does not resolve") from exc
    if not addresses:
        raise httpx.ConnectError(f"the host {host} does not resolve")
    return addresses


def check_url(policy: NetPolicy, url: httpx.URL) -> str:
    """The address to connect to for ``url``; raises :class:`AddressRefused` when it is not allowed."""
    scheme = url.scheme.lower()
    host = (url.host or "").lower()
    if not host:
        raise AddressRefused("the URL has no host name")
    if scheme not in ("http", "https"):
        raise AddressRefused(f"only https:// URLs are allowed (got {scheme}://)")
    if scheme == "http" and not policy.allow_http:
        raise AddressRefused("only https:// URLs are allowed; this one starts with http://")
    if url.userinfo:
        raise AddressRefused("the URL must not contain a user name or password")
    port = url.port or (443 if scheme == "https" else 80)
    addresses = _resolve(policy, host, port)
    if policy.host_allowed(host):
        return addresses[0]
    for address in addresses:
        problem = address_problem(address)
        if problem:
            shown = host if host == address else f"{host} ({address})"
            raise AddressRefused(f"{shown} is {problem}, which this server does not connect to")
    return addresses[0]


def preflight(policy: NetPolicy, url: str) -> str | None:
    """A sentence saying why ``url`` would be refused, or None when the guard lets it through."""
    try:
        check_url(policy, httpx.URL(url.strip()))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        return f"it is not a valid URL ({exc})"
    except httpx.ConnectError as exc:
        return str(exc)
    return None


class _BoundedStream(httpx.SyncByteStream):
    """Pass the body through, failing once it grows too big or arrives too late."""

    def __init__(self, inner: httpx.SyncByteStream, *, limit: int, deadline: float) -> None:
        self._inner = inner
        self._limit = limit
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise ResponseTooLarge(f"the response is larger than {self._limit} bytes")
            if time.monotonic() > self._deadline:
                raise ResponseTooSlow("the response took too long to arrive")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class GuardedTransport(httpx.BaseTransport):
    """An ``httpx`` transport that only reaches addresses :class:`NetPolicy` allows."""

    def __init__(self, policy: NetPolicy | None = None, *, inner: httpx.BaseTransport | None = None) -> None:
        self.policy = policy or NetPolicy()
        self._inner = inner or httpx.HTTPTransport(retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self.policy
        address = check_url(policy, request.url)
        pinned_url = request.url.copy_with(host=address)
        extensions = dict(request.extensions)
        if request.url.scheme == "https":
            extensions["sni_hostname"] = request.url.host
        timeout = dict(extensions.get("timeout") or {})
        for key in ("connect", "read", "write", "pool"):
            current = timeout.get(key)
            timeout[key] = policy.timeout if current is None else min(current, policy.timeout)
        extensions["timeout"] = timeout
        headers = request.headers.copy()
        headers["Host"] = request.headers.get("Host") or request.url.netloc.decode("ascii")
        pinned = httpx.Request(
            request.method, pinned_url, headers=headers, stream=request.stream, extensions=extensions
        )
        started = time.monotonic()
        response = self._inner.handle_request(pinned)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > policy.max_response_bytes:
            response.close()
            raise ResponseTooLarge(f"the response is larger than {policy.max_response_bytes} bytes")
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _BoundedStream(
            response.stream, limit=policy.max_response_bytes, deadline=started + policy.deadline
        )
        return response

    def close(self) -> None:
        self._inner.close()


def guarded_client(policy: NetPolicy, *, follow_redirects: bool = True, **kwargs) -> httpx.Client:
    """An ``httpx.Client`` over :class:`GuardedTransport` with bounded redirects and time."""
    return httpx.Client(
        transport=GuardedTransport(policy),
        follow_redirects=follow_redirects,
        max_redirects=policy.max_redirects,
        timeout=policy.timeout,
        trust_env=False,
        **kwargs,
    )


def normalized_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Allow-list entries lower-cased, without brackets or surrounding spaces."""
    return frozenset(h.strip().lower().strip("[]") for h in hosts if h and h.strip())

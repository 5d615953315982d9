"""Reading what a provider answered: HTTP statuses and transport failures as
typed :mod:`~rostersync.source.errors`, page bodies as envelopes.

Everything here is pure (no I/O): a response or an exception in, an error or
a list of raw records out. Messages quote what was received (status, imsx
description, the keys of a body) but never a secret, a token, a query string
or a record.
"""

from __future__ import annotations

import datetime
import email.utils
import socket
import ssl
from typing import Any

import httpx
import orjson

from ..errors import Terminal
from ..oneroster.imsx import parse_status
from ..oneroster.resources import Resource, resource_for_envelope
from .errors import (
    BadRequest,
    ConnectionDropped,
    CredentialsRefused,
    Forbidden,
    InvalidResponse,
    NotFound,
    ProviderUnavailable,
    RateLimited,
    SourceError,
    Timeout,
)

BASE_URL_FIX = (
    'Copy the Base URL exactly as shown under "Information to Share" in the OneRoster connection; '
    "it contains /campus/api/oneroster/ (the address of the Campus web site will not work)."
)


class HostNotFound(ConnectionDropped):
    """The host name in the URL does not resolve."""

    default_fix = "Check the host name in the URL for typos; it must be the district's Campus server."


class CertificateRejected(SourceError, Terminal):
    """The provider's TLS certificate could not be verified."""

    default_fix = (
        "The district's server presents a certificate that cannot be verified (expired, self-signed "
        "or for another host name). Ask the district's IT to fix the certificate; check that the "
        "URL uses the server's public host name."
    )


def where(url: httpx.URL | str) -> str:
    """``host/path`` of a URL, without the query string (which may carry signatures)."""
    url = httpx.URL(str(url))
    return f"{url.host}{url.path}"


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - now)


def error_for_response(response: httpx.Response, *, now: float) -> SourceError | None:
    """The typed error an HTTP status stands for, or None for a 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    place = where(response.request.url)
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        target = where(response.url.join(location)) if location else "another address"
        return InvalidResponse(
            f"{place} redirected (HTTP {status}) to {target}", status=status,
            fix="If the address it redirects to is a login or web page, the URL is not the OneRoster API: "
                + BASE_URL_FIX,
        )
    imsx = parse_status(response.content) if _looks_json(response) else None
    detail = f": {_clip(imsx.description)}" if imsx and imsx.description else ""
    if imsx and imsx.minor and not detail:
        detail = f": {imsx.minor}"
    message = f"{place} answered HTTP {status}{detail}"
    if status == 401:
        return CredentialsRefused(message, status=status)
    if status == 403:
        return Forbidden(message, status=status)
    if status == 404:
        return NotFound(message, status=status)
    if status in (400, 422):
        return BadRequest(message, status=status)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
        return RateLimited(message, status=status, retry_after=retry_after)
    if status == 408:
        return Timeout(message, status=status)
    if status >= 500:
        error = ProviderUnavailable(message, status=status)
        error.retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)  # type: ignore[attr-defined]
        return error
    return InvalidResponse(message, status=status)


def error_for_exception(exc: httpx.HTTPError, url: httpx.URL | str) -> SourceError:
    """A transport failure as a typed error (the caller chains ``exc`` as the cause)."""
    place = where(url)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(f"{place} did not answer in time ({type(exc).__name__})")
    if _caused_by(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return CertificateRejected(f"{place}: the TLS certificate was not accepted ({_clip(str(exc), 160)})")
    if _caused_by(exc, socket.gaierror) or _mentions_dns(str(exc)):
        return HostNotFound(f"the host {httpx.URL(str(url)).host!r} could not be found")
    if isinstance(exc, httpx.ConnectError):
        return ConnectionDropped(f"could not connect to {place} ({_clip(str(exc), 160)})")
    return ConnectionDropped(f"the connection to {place} failed or was cut ({type(exc).__name__})")


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _mentions_dns(text: str) -> bool:
    text = text.lower()
    return any(s in text for s in (
        "name or service not known", "nodename nor servname", "getaddrinfo failed",
        "temporary failure in name resolution", "no address associated with hostname",
    ))


def _looks_json(response: httpx.Response) -> bool:
    head = response.content[:64].lstrip()
    return head[:1] in (b"{", b"[")


def looks_html(response: httpx.Response) -> bool:
    """True when the body is a web page (the Base URL points at a site, not the API)."""
    ctype = response.headers.get("content-type", "").lower()
    head = response.content[:256].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body"))


def decode_body(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx body; InvalidResponse saying what came instead."""
    place = where(response.request.url)
    if looks_html(response):
        raise InvalidResponse(f"{place} answered with a web page (HTML), not OneRoster JSON",
                              status=response.status_code, fix=BASE_URL_FIX)
    if not response.content.strip():
        raise InvalidResponse(f"{place} answered HTTP {response.status_code} with an empty body",
                              status=response.status_code)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise InvalidResponse(f"{place} answered with a body that is not JSON ({exc.msg} at byte {exc.pos})",
                              status=response.status_code) from exc
    if not isinstance(body, dict):
        raise InvalidResponse(f"{place} answered with a JSON {type(body).__name__}, not an object",
                              status=response.status_code)
    return body


def page_items(body: dict[str, Any], resource: Resource, *, place: str) -> list[Any]:
    """The list under the resource's envelope (or an accepted alias); never an empty roster by default."""
    found = resource_for_envelope(body, resource)
    if found is None:
        imsx = parse_status(body)
        if imsx is not None:
            detail = imsx.description or imsx.minor or imsx.code_major
            raise InvalidResponse(f"{place} answered with an error status instead of {resource.envelope!r}: "
                                  f"{_clip(detail)}")
        keys = ", ".join(repr(k) for k in list(body)[:5]) or "none"
        raise InvalidResponse(f"{place} has no {resource.envelope!r} list in its body (keys: {_clip(keys, 120)})")
    key, items = found
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidResponse(f"{place}: {key!r} is a JSON {type(items).__name__}, not a list")
    return items


def total_count(response: httpx.Response) -> int | None:
    """``X-Total-Count`` as an int, None when absent or garbled."""
    value = response.headers.get("x-total-count")
    if value is None:
        return None
    try:
        total = int(value.strip())
    except ValueError:
        return None
    return total if total >= 0 else None

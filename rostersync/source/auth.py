"""How rostersync proves who it is to a OneRoster provider: ``httpx.Auth`` flows.

* :class:`OAuth2ClientCredentials`: the OAuth 2.0 client-credentials grant
  (Infinite Campus "New Look" connections, OneRoster 1.1 and 1.2). The token
  request is yielded from the flow, so it travels through the same
  ``httpx.Client`` and transport as the API calls (tests use
  ``httpx.MockTransport``; the sandbox can be mounted in-process).
* :class:`OAuth1Signer`: two-legged OAuth 1.0a request signing with oauthlib
  (Classic connections and other providers), HMAC-SHA256 or HMAC-SHA1.

Both are synchronous and safe to share between threads. Provider answers are
translated into :mod:`rostersync.source.errors` with a plain-language fix.
Secrets and tokens are registered with :func:`rostersync.log.register_secret`
and never appear in a log line or an error message.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER
from oauthlib.oauth1 import Client as OAuth1Client
from oauthlib.oauth1.rfc5849.utils import escape

from rostersync.errors import ConfigError, Transient
from rostersync.log import redact, register_secret
from rostersync.source.errors import (
    BadRequest,
    CredentialsRefused,
    Forbidden,
    InvalidResponse,
    ProviderUnavailable,
    RateLimited,
    SourceError,
    TokenUrlNotFound,
)
from rostersync.source.responses import parse_retry_after

__all__ = ["OAuth2ClientCredentials", "OAuth1Signer"]

log = logging.getLogger(__name__)

_TOKEN_URL_FIX = (
    'Copy the Token URL exactly as shown under "Information to Share" in the OneRoster '
    "connection; it ends with /campus/oauth2/token?appName=... (the Base URL is a different value)."
)
_CREDENTIALS_FIX = (
    "Copy the Client ID and Client Secret again from the OneRoster connection, with no spaces "
    "before or after; if the secret was regenerated, use the new one."
)
_REFUSED_TOKEN_FIX = (
    "The Client ID and Client Secret were accepted but the API refuses the access token: check "
    "that the OneRoster connection is enabled and that the Token URL and the Base URL belong to "
    "the same connection (same appName)."
)
# OAuth error codes meaning "who are you?": the client authentication was refused.
_REFUSED_CODES = frozenset({"invalid_client", "unauthorized_client"})
SIGNATURE_METHODS = ("HMAC-SHA256", "HMAC-SHA1")
_METHOD_NAMES = {"basic": "HTTP Basic", "form": "form-body"}


@dataclass(frozen=True)
class _Token:
    value: str
    refresh_at: float | None  # None: no expiry announced, use until refused
    expires_at: float | None


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials (RFC 6749 §4.4) for every request of an ``httpx.Client``.

    Client authentication is tried with HTTP Basic first and, when the provider
    refuses it (401, or 400 ``invalid_client``/``invalid_request``), with the
    id and secret in the form body; the method that worked is remembered. The
    token is reused until ``refresh_margin`` seconds before ``expires_in`` runs
    out (at most half its lifetime early). A 401 from the API gets exactly one
    refresh and one retry; a second 401 raises :class:`CredentialsRefused`.
    Threads share one refresh: whoever waited reuses the token just fetched.
    Older tokens are not assumed to be invalidated by a newer one.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str,
        scopes: Sequence[str] = (),
        refresh_margin: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_secret = _required(client_secret, "Client Secret", _CREDENTIALS_FIX)
        register_secret(self._client_secret)
        self._client_id = _required(client_id, "Client ID", _CREDENTIALS_FIX)
        self._token_url = _absolute_url(token_url, "Token URL", _TOKEN_URL_FIX)
        self._where = str(self._token_url.copy_with(query=None))
        self._scopes = tuple(scopes.split()) if isinstance(scopes, str) else tuple(scopes)
        if not refresh_margin >= 0:
            raise ConfigError(f"refresh_margin must be zero or more seconds, not {refresh_margin!r}")
        self._refresh_margin = float(refresh_margin)
        self._clock = clock
        basic = f"{self._client_id}:{self._client_secret}".encode()
        self._basic = base64.b64encode(basic).decode("ascii")
        register_secret(self._basic)
        self._refresh_lock = threading.Lock()
        self._token: _Token | None = None  # replaced whole, so readers need no lock
        self._method: str | None = None
        self._token_requests = 0

    @property
    def token_requests(self) -> int:
        """How many token requests were sent (including refused ones)."""
        return self._token_requests

    @property
    def auth_method(self) -> str | None:
        """``"basic"`` or ``"form"`` once a token was obtained, else None."""
        return self._method

    # -- the flow ------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()  # a retried request must be able to send its body again
        token = yield from self._usable_token(rejected=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        response.read()  # give the connection back before waiting for a refresh
        token = yield from self._usable_token(rejected=token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            response.read()
            detail = _describe(response)
            raise CredentialsRefused(
                f"{request.url.host} refused a freshly issued access token (HTTP 401"
                + (f": {detail})" if detail else ")"),
                fix=_REFUSED_TOKEN_FIX,
                status=401,
            )

    async def async_auth_flow(self, request: httpx.Request):  # pragma: no cover - guard only
        raise RuntimeError("OAuth2ClientCredentials is synchronous: use it with httpx.Client")
        yield request

    # -- token cache ---------------------------------------------------------

    def _cached(self, rejected: str | None) -> str | None:
        token = self._token
        if token is None or token.value == rejected:
            return None
        if token.refresh_at is not None and self._clock() >= token.refresh_at:
            return None
        return token.value

    def _usable_token(self, rejected: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        """A token that is fresh and is not ``rejected``; fetch one if needed (one thread at a time)."""
        value = self._cached(rejected)
        if value is not None:
            return value
        with self._refresh_lock:  # held across the token request; released if the flow is closed
            value = self._cached(rejected)  # another thread may have refreshed while we waited
            if value is not None:
                return value
            previous = self._token
            try:
                return (yield from self._fetch_token())
            except Transient:
                # A proactive refresh failed; the current token has not expired: keep using it.
                if rejected is None and previous is not None and not self._expired(previous):
                    log.warning("Token refresh at %s failed; reusing the current token", self._where)
                    return previous.value
                raise

    def _expired(self, token: _Token) -> bool:
        return token.expires_at is not None and self._clock() >= token.expires_at

    def _fetch_token(self) -> Generator[httpx.Request, httpx.Response, str]:
        methods = [self._method] if self._method else ["basic", "form"]
        for attempt, method in enumerate(methods, start=1):
            started = self._clock()
            self._token_requests += 1
            response = yield self._token_request(method)
            response.read()
            if response.status_code == 200:
                token = self._accept(response, started)
                if self._method != method:
                    log.info("%s accepts %s client authentication", self._where, _METHOD_NAMES[method])
                self._method = method
                self._token = token
                return token.value
            code = _oauth_error(response)[0]
            refused = response.status_code == 401 or code in _REFUSED_CODES
            if attempt < len(methods) and (refused or code == "invalid_request"):
                log.info(
                    "%s refused %s client authentication (HTTP %s); trying %s",
                    self._where, _METHOD_NAMES[method], response.status_code,
                    _METHOD_NAMES[methods[attempt]],
                )
                continue
            raise self._token_error(response, refused, tried=methods[:attempt])
        raise AssertionError("unreachable")  # pragma: no cover

    def _token_request(self, method: str) -> httpx.Request:
        data = {"grant_type": "client_credentials"}
        if self._scopes:
            data["scope"] = " ".join(self._scopes)
        headers = {"Accept": "application/json"}
        if method == "basic":
            headers["Authorization"] = f"Basic {self._basic}"
        else:
            data["client_id"] = self._client_id
            data["client_secret"] = self._client_secret
        return httpx.Request("POST", self._token_url, data=data, headers=headers)

    def _accept(self, response: httpx.Response, started: float) -> _Token:
        try:
            body = json.loads(response.content)
        except ValueError:
            raise InvalidResponse(
                f"The token endpoint {self._where} answered HTTP 200 with "
                f"{_content_kind(response)}, not a JSON token.",
                fix=_TOKEN_URL_FIX,
                status=200,
            ) from None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value.strip():
            fields = ", ".join(sorted(str(k)[:40] for k in body)[:12]) if isinstance(body, dict) else type(body).__name__
            raise InvalidResponse(
                f"The token endpoint {self._where} answered HTTP 200 without an access_token "
                f"(received: {fields or 'an empty object'}).",
                fix=_TOKEN_URL_FIX,
                status=200,
            )
        register_secret(value)
        token_type = body.get("token_type")
        if token_type is not None and str(token_type).lower() != "bearer":
            raise InvalidResponse(
                f"The token endpoint {self._where} issued a {str(token_type)[:40]!r} token; "
                "rostersync needs a Bearer token.",
                fix="Ask the provider for an OAuth 2.0 client-credentials connection with Bearer tokens.",
                status=200,
            )
        lifetime = _positive_seconds(body.get("expires_in"))
        if lifetime is None:
            log.info("Obtained an access token from %s (no expiry announced)", self._where)
            return _Token(value, None, None)
        log.info("Obtained an access token from %s (expires in %d s)", self._where, lifetime)
        early = min(self._refresh_margin, lifetime / 2)
        return _Token(value, started + lifetime - early, started + lifetime)

    def _token_error(self, response: httpx.Response, refused: bool, tried: list[str]) -> SourceError:
        status = response.status_code
        code, detail = _oauth_error(response)
        said = f": {code}" + (f" ({detail})" if detail else "") if code else ""
        if refused:
            how = " and ".join(_METHOD_NAMES[m] for m in tried)
            return CredentialsRefused(
                f"{self._token_url.host} refused the Client ID and Client Secret "
                f"(HTTP {status}{said}; tried {how} client authentication).",
                fix=_CREDENTIALS_FIX,
                status=status,
            )
        if status == 404:
            fix = _TOKEN_URL_FIX
            if "appname" not in self._token_url.query.decode("ascii", "replace").lower():
                fix += " The Token URL given has no ?appName=... part."
            return TokenUrlNotFound(f"The Token URL {self._where} was not found (HTTP 404).", fix=fix, status=404)
        if status == 429:
            return RateLimited(
                f"The token endpoint {self._where} asked us to slow down (HTTP 429).",
                retry_after=parse_retry_after(response.headers.get("Retry-After"), now=time.time()),
            )
        if status >= 500:
            return ProviderUnavailable(
                f"The token endpoint {self._where} failed (HTTP {status}).", status=status
            )
        if status == 403:
            return Forbidden(
                f"The token endpoint {self._where} refused to issue a token (HTTP 403{said}).",
                fix="Ask the district to check that the OneRoster connection is enabled.",
                status=403,
            )
        if status == 400:
            fix = None
            if code == "invalid_scope":
                fix = "Remove the requested scopes from the connection, or ask the district to grant them."
            return BadRequest(
                f"The token endpoint {self._where} rejected the token request (HTTP 400{said}).",
                fix=fix,
                status=400,
            )
        if 300 <= status < 400:
            return InvalidResponse(
                f"The token endpoint {self._where} redirected elsewhere (HTTP {status}).",
                fix=_TOKEN_URL_FIX + " Use the https:// address.",
                status=status,
            )
        return InvalidResponse(
            f"The token endpoint {self._where} answered HTTP {status} with "
            f"{_content_kind(response)}, not a token.",
            fix=_TOKEN_URL_FIX,
            status=status,
        )



class OAuth1Signer(httpx.Auth):
    """Two-legged OAuth 1.0a: every request signed with oauthlib, in the Authorization header.

    The query is rewritten to strict RFC 3986 encoding before signing, so every
    parameter (``limit``, ``offset``, ``filter``, ``sort``, ``fields``, ...) is
    encoded byte for byte the same in the URL sent and in the signature base
    string, whatever the filter value contains (spaces, quotes, ``>``, ``=``,
    ``&``, ``+``, non-ASCII). ``clock`` (seconds since the epoch) and
    ``nonce_factory`` exist for tests.
    """

    requires_request_body = True

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        signature_method: str = "HMAC-SHA256",
        clock: Callable[[], float] = time.time,
        nonce_factory: Callable[[], str] | None = None,
    ) -> None:
        fix = (
            "Copy the Consumer Key and Consumer Secret again from the OneRoster provisioning "
            "page, with no spaces before or after."
        )
        self._consumer_secret = _required(consumer_secret, "Consumer Secret", fix)
        register_secret(self._consumer_secret)
        self._consumer_key = _required(consumer_key, "Consumer Key", fix)
        method = str(signature_method).strip().upper()
        if method not in SIGNATURE_METHODS:
            raise ConfigError(
                f"The OAuth 1.0a signature method {str(signature_method)[:40]!r} is not supported.",
                fix="Use HMAC-SHA256 (the OneRoster default) or HMAC-SHA1.",
            )
        self.signature_method = method
        self._clock = clock
        self._nonce_factory = nonce_factory or (lambda: secrets.token_hex(16))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._sign(request)
        yield request

    def _sign(self, request: httpx.Request) -> None:
        request.url = _strict_query(request.url)
        body: str | None = None
        headers: dict[str, str] = {}
        if request.content:
            try:
                body = request.content.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(
                    f"cannot sign {request.method} {request.url.path}: the body is not UTF-8 text"
                ) from None
            if "Content-Type" in request.headers:
                headers["Content-Type"] = request.headers["Content-Type"]
        client = OAuth1Client(
            self._consumer_key,
            client_secret=self._consumer_secret,
            signature_method=self.signature_method,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            nonce=self._nonce_factory(),
            timestamp=str(int(self._clock())),
        )
        _, signed, _ = client.sign(str(request.url), http_method=request.method, body=body, headers=headers)
        request.headers["Authorization"] = signed["Authorization"]


# -- helpers ----------------------------------------------------------------


def _required(value: object, what: str, fix: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ConfigError(f"The {what} is empty.", fix=fix)
    return text


def _absolute_url(value: object, what: str, fix: str) -> httpx.URL:
    text = value.strip() if isinstance(value, str) else ""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"The {what} is not a web address (it must start with https://).", fix=fix)
    return url


def _strict_query(url: httpx.URL) -> httpx.URL:
    """``url`` with its query re-encoded exactly as OAuth 1.0a encodes parameters (RFC 3986)."""
    if not url.query:
        return url
    try:
        pairs = parse_qsl(url.query.decode("ascii"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"cannot sign a request to {url.path}: its query is not UTF-8") from None
    query = "&".join(f"{escape(name)}={escape(value)}" for name, value in pairs)
    return url.copy_with(query=query.encode("ascii"))


def _positive_seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _json_object(response: httpx.Response) -> dict | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _short(text: object, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return redact(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _oauth_error(response: httpx.Response) -> tuple[str | None, str | None]:
    """The RFC 6749 ``error`` code and ``error_description`` of a token endpoint answer."""
    body = _json_object(response) or {}
    code = body.get("error")
    detail = body.get("error_description")
    return (
        _short(code, 60) if isinstance(code, str) and code else None,
        _short(detail) if isinstance(detail, str) and detail else None,
    )


def _describe(response: httpx.Response) -> str | None:
    """The provider's own words (imsx_description or an OAuth error), shortened and redacted."""
    body = _json_object(response) or {}
    for key in ("imsx_description", "error_description", "error", "message"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return _short(value)
    info = body.get("statusInfoSet") or body.get("imsx_statusInfo")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        info = info[0]
    if isinstance(info, dict) and isinstance(info.get("imsx_description"), str):
        return _short(info["imsx_description"])
    return None


def _content_kind(response: httpx.Response) -> str:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    return f"{_short(kind, 60)} ({len(response.content)} bytes)"

"""The sandbox's side of authentication: issuing and checking credentials.

* :class:`TokenIssuer`: an OAuth 2.0 token endpoint for the client-credentials
  grant (RFC 6749 §4.4) and Bearer token validation (RFC 6750).
* :class:`OAuth1Verifier`: two-legged OAuth 1.0a signature verification
  (RFC 5849) with oauthlib's signature functions, HMAC-SHA256 and HMAC-SHA1.

Framework-agnostic: callers pass method, headers, body and URL and turn the
result into an HTTP answer. Every refusal is an :class:`AuthResult` with a
plain description that never quotes a secret, a signature or a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature

__all__ = ["AuthResult", "TokenIssuer", "OAuth1Verifier"]

UNAUTHORISED = "unauthorisedrequest"
INVALID_DATA = "invaliddata"
_JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class AuthResult:
    """The outcome of checking one request's credentials.

    ``reason`` is a stable machine-readable word (``"missing"``,
    ``"expired"``, ``"bad_signature"``, ...); ``principal`` the client id or
    consumer key that was proven; ``skew_seconds`` how far the request's
    OAuth 1.0a timestamp is from the server clock (positive: client ahead).
    """

    ok: bool
    status: int = 200
    description: str = "Authorized."
    code_minor: str | None = None
    reason: str | None = None
    principal: str | None = None
    skew_seconds: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def imsx(self) -> dict:
        """The OneRoster imsx status body for a refusal."""
        return {
            "imsx_codeMajor": "success" if self.ok else "failure",
            "imsx_severity": "status" if self.ok else "error",
            "imsx_description": self.description,
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "TargetEndSystem",
                        "imsx_codeMinorFieldValue": self.code_minor or "fullsuccess",
                    }
                ]
            },
        }


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class TokenIssuer:
    """Issues Bearer tokens to known clients and checks them on API calls.

    ``clients`` maps client id to secret. ``accept_basic``/``accept_form``
    switch each client-authentication method off to imitate providers that
    only take one. Tokens carry 256 random bits; issuing a new one leaves
    older ones valid until their own expiry. ``clock`` is seconds since the
    epoch.
    """

    def __init__(
        self,
        *,
        clients: Mapping[str, str],
        ttl: float = 3600,
        accept_basic: bool = True,
        accept_form: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (isinstance(ttl, (int, float)) and math.isfinite(ttl) and ttl > 0):
            raise ValueError(f"TokenIssuer ttl must be a positive number of seconds, not {ttl!r}")
        self._clients = dict(clients)
        self.ttl = float(ttl)
        self.accept_basic = accept_basic
        self.accept_form = accept_form
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (client id, expires at)
        self.tokens_issued = 0
        self.rejected = 0
        self.issued_by_method: Counter[str] = Counter()

    # -- token endpoint ------------------------------------------------------

    def token_endpoint(
        self, method: str, headers: Mapping[str, str], body: bytes, query: Mapping[str, str]
    ) -> tuple[int, dict[str, str], dict]:
        """Answer one request to the token URL: ``(status, headers, json body)``."""
        if method.upper() != "POST":
            return self._oauth_error(405, "invalid_request", "Use POST to request a token.", {"Allow": "POST"})
        headers = _lower(headers)
        if any(key in query for key in ("client_secret", "client_id")):
            return self._oauth_error(
                400, "invalid_request", "Client credentials must not be sent in the URL."
            )
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return self._oauth_error(400, "invalid_request", "The request body is not UTF-8 form data.")
        grant = form.get("grant_type")
        if not grant:
            return self._oauth_error(400, "invalid_request", "The grant_type parameter is missing.")
        if grant != "client_credentials":
            return self._oauth_error(
                400, "unsupported_grant_type", "Only the client_credentials grant is supported."
            )
        client_id, how, problem = self._authenticate_client(headers, form)
        if client_id is None:
            return self._oauth_error(401, "invalid_client", problem, self._challenge())
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._prune(now)
            self._tokens[token] = (client_id, now + self.ttl)
            self.tokens_issued += 1
            self.issued_by_method[how] += 1
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": int(self.ttl)}
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return 200, dict(_JSON_HEADERS), answer

    def _authenticate_client(
        self, headers: dict[str, str], form: dict[str, str]
    ) -> tuple[str | None, str, str]:
        """``(client id, method, "")`` when authenticated, else ``(None, "", why)``."""
        presented: list[tuple[str, str, str]] = []
        refused_methods = []
        authorization = headers.get("authorization", "")
        if authorization[:6].lower() == "basic ":
            if not self.accept_basic:
                refused_methods.append("HTTP Basic")
            else:
                try:
                    pair = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
                    client_id, _, secret = pair.partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    return None, "", "The HTTP Basic credentials are malformed."
                presented.append(("basic", client_id, secret))
        if "client_id" in form or "client_secret" in form:
            if not self.accept_form:
                refused_methods.append("form-body")
            else:
                presented.append(("form", form.get("client_id", ""), form.get("client_secret", "")))
        if not presented:
            if refused_methods:
                return None, "", f"{' and '.join(refused_methods)} client authentication is not accepted here."
            return None, "", "Client authentication is missing."
        if len({client_id for _, client_id, _ in presented}) > 1:
            return None, "", "Two different clients were presented in one request."
        for how, client_id, secret in presented:
            if not self._secret_matches(client_id, secret, decode=how == "basic"):
                return None, "", "Client authentication failed: unknown client or wrong secret."
        return presented[0][1], presented[0][0], ""

    def _secret_matches(self, client_id: str, secret: str, *, decode: bool) -> bool:
        candidates = [(client_id, secret)]
        if decode:  # RFC 6749 §2.3.1 form-encodes both before Basic; most clients do not
            candidates.append((unquote_plus(client_id), unquote_plus(secret)))
        return any(
            (known := self._clients.get(cid)) is not None and _same(given, known)
            for cid, given in candidates
        )

    def _challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="oneroster"'} if self.accept_basic else {}

    def _oauth_error(
        self, status: int, code: str, description: str, extra: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], dict]:
        with self._lock:
            self.rejected += 1
        return status, {**_JSON_HEADERS, **(extra or {})}, {"error": code, "error_description": description}

    def _prune(self, now: float) -> None:
        """Forget tokens that expired over a TTL ago (younger ones still answer "has expired")."""
        stale = [t for t, (_, expires) in self._tokens.items() if expires + self.ttl < now]
        for token in stale:
            del self._tokens[token]

    # -- API calls -----------------------------------------------------------

    def validate_bearer(self, authorization_header: str | None) -> AuthResult:
        """Check the Authorization header of an API call."""
        header = (authorization_header or "").strip()
        if not header:
            return self._refuse("missing", "The access token is missing.")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return self._refuse("not_bearer", "The Authorization header does not carry a Bearer token.")
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return self._refuse("invalid", "The access token is not valid.")
        client_id, expires_at = entry
        if self._clock() >= expires_at:
            return self._refuse("expired", "The access token has expired.")
        return AuthResult(ok=True, principal=client_id)

    def _refuse(self, reason: str, description: str) -> AuthResult:
        with self._lock:
            self.rejected += 1
        error = "" if reason in ("missing", "not_bearer") else ', error="invalid_token"'
        return AuthResult(
            ok=False,
            status=401,
            description=description,
            code_minor=UNAUTHORISED,
            reason=reason,
            headers={"WWW-Authenticate": f'Bearer realm="oneroster"{error}'},
        )

    def expire_all(self) -> int:
        """Make every issued token expire now (fault: "token expires mid-run"); returns how many."""
        now = self._clock()
        with self._lock:
            for token, (client_id, expires_at) in list(self._tokens.items()):
                self._tokens[token] = (client_id, min(expires_at, now))
            return len(self._tokens)


class OAuth1Verifier:
    """Verifies two-legged OAuth 1.0a signed requests (HMAC-SHA256 or HMAC-SHA1).

    ``consumers`` maps consumer key to secret. A request is accepted when its
    consumer is known, its signature matches, its timestamp is within
    ``timestamp_window`` seconds of ``clock`` and its nonce was not seen
    before for that timestamp. Nonces are kept in memory only as long as a
    replay could still pass the timestamp check, and at most ``max_nonces``.
    """

    _VERIFY = {
        "HMAC-SHA256": oauth_signature.verify_hmac_sha256,
        "HMAC-SHA1": oauth_signature.verify_hmac_sha1,
    }
    _REQUIRED = ("oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp", "oauth_nonce")

    def __init__(
        self,
        *,
        consumers: Mapping[str, str],
        timestamp_window: float = 300,
        clock: Callable[[], float] = time.time,
        max_nonces: int = 100_000,
    ) -> None:
        self._consumers = dict(consumers)
        self.timestamp_window = float(timestamp_window)
        self._clock = clock
        self._max_nonces = max_nonces
        self._lock = threading.Lock()
        self._nonces: set[tuple[str, str, str]] = set()
        self._nonce_order: deque[tuple[float, tuple[str, str, str]]] = deque()
        self.verified = 0
        self.rejected = 0
        self.rejections: Counter[str] = Counter()

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> AuthResult:
        """Check one request. ``url`` is the URL exactly as the client sent it
        (scheme, host and port from the Host header, the raw percent-encoded
        path and query); from ASGI use ``scope["raw_path"]`` and
        ``scope["query_string"]``, not the decoded path."""
        headers = _lower(headers)
        try:
            params = self._collect(method, url, headers, body)
        except ValueError as exc:
            return self._refuse("malformed", str(exc), status=400)
        oauth = {}
        for name, value in params:
            if name.startswith("oauth_"):
                if name in oauth:
                    return self._refuse("malformed", f"The parameter {name} appears more than once.", status=400)
                oauth[name] = value
        if not oauth:
            return self._refuse("missing", "The request is not signed: no OAuth Authorization header.")
        missing = [name for name in self._REQUIRED if not oauth.get(name)]
        if missing:
            return self._refuse("missing", f"The OAuth parameters are incomplete: {', '.join(missing)} missing.")
        if oauth.get("oauth_version", "1.0") != "1.0":
            return self._refuse("malformed", "Only OAuth version 1.0 is supported.", status=400)
        key = oauth["oauth_consumer_key"]
        secret = self._consumers.get(key)
        if secret is None:
            return self._refuse("unknown_consumer", "The consumer key is not known.")
        verify = self._VERIFY.get(oauth["oauth_signature_method"])
        if verify is None:
            return self._refuse(
                "unsupported_method",
                f"The signature method {oauth['oauth_signature_method'][:30]!r} is not supported; "
                "use HMAC-SHA256 or HMAC-SHA1.",
            )
        nonce, stamp = oauth["oauth_nonce"], oauth["oauth_timestamp"]
        if len(nonce) > 128:
            return self._refuse("malformed", "The oauth_nonce is longer than 128 characters.", status=400)
        try:
            timestamp = int(stamp)
        except ValueError:
            return self._refuse("malformed", "The oauth_timestamp is not a whole number of seconds.", status=400)
        now = self._clock()
        skew = timestamp - now
        if abs(skew) > self.timestamp_window:
            way = "ahead of" if skew > 0 else "behind"
            return self._refuse(
                "stale_timestamp",
                f"The request timestamp is {abs(skew):.0f} seconds {way} the server's clock "
                f"(allowed: {self.timestamp_window:.0f}); check the clock of the machine sending it.",
                skew=skew,
            )
        unsigned = [(n, v) for n, v in params if n != "oauth_signature"]
        request = SimpleNamespace(
            params=unsigned, uri=url, http_method=method.upper(), signature=oauth["oauth_signature"]
        )
        if not verify(request, client_secret=secret):
            return self._refuse("bad_signature", "The request signature does not match.", skew=skew)
        body_hash = oauth.get("oauth_body_hash")
        if body_hash is not None:
            expected = base64.b64encode(hashlib.sha1(body).digest()).decode("ascii")  # noqa: S324 - the extension's choice
            if not _same(body_hash, expected):
                return self._refuse("bad_signature", "The request body does not match its oauth_body_hash.", skew=skew)
        if not self._remember(key, stamp, nonce, now):
            return self._refuse("replayed_nonce", "The nonce was already used: the request was replayed.", skew=skew)
        with self._lock:
            self.verified += 1
        return AuthResult(ok=True, principal=key, skew_seconds=skew)

    def _collect(self, method: str, url: str, headers: dict[str, str], body: bytes) -> list[tuple[str, str]]:
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            raise ValueError("The request URL is not absolute.")
        form_body = None
        if body and method.upper() not in ("GET", "HEAD"):
            if headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
                form_body = body.decode("utf-8", "replace")
        auth = {"Authorization": headers["authorization"]} if "authorization" in headers else None
        if auth and not auth["Authorization"][:6].lower() == "oauth ":
            auth = None
        try:
            return oauth_signature.collect_parameters(
                uri_query=parts.query, body=form_body, headers=auth, exclude_oauth_signature=False
            )
        except ValueError:
            pass
        # oauthlib refuses queries with characters it does not expect; be lenient about the query.
        try:
            header_params = oauth_signature.collect_parameters(headers=auth, exclude_oauth_signature=False)
        except ValueError:
            raise ValueError("The OAuth Authorization header is malformed.") from None
        query = parse_qsl(parts.query, keep_blank_values=True)
        body_params = parse_qsl(form_body, keep_blank_values=True) if form_body else []
        return query + header_params + body_params

    def _remember(self, key: str, stamp: str, nonce: str, now: float) -> bool:
        """False when (consumer, timestamp, nonce) was seen; prunes what can no longer replay."""
        entry = (key, stamp, nonce)
        horizon = now - 2 * self.timestamp_window
        with self._lock:
            while self._nonce_order and (
                self._nonce_order[0][0] < horizon or len(self._nonce_order) >= self._max_nonces
            ):
                self._nonces.discard(self._nonce_order.popleft()[1])
            if entry in self._nonces:
                return False
            self._nonces.add(entry)
            self._nonce_order.append((now, entry))
            return True

    @property
    def nonces_held(self) -> int:
        return len(self._nonces)

    def _refuse(self, reason: str, description: str, *, status: int = 401, skew: float | None = None) -> AuthResult:
        with self._lock:
            self.rejected += 1
            self.rejections[reason] += 1
        return AuthResult(
            ok=False,
            status=status,
            description=description,
            code_minor=UNAUTHORISED if status == 401 else INVALID_DATA,
            reason=reason,
            skew_seconds=skew,
            headers={"WWW-Authenticate": 'OAuth realm="oneroster"'} if status == 401 else {},
        )

"""The connection check: does what the district typed actually work?

:func:`run_check` takes a :class:`ConnectionSpec` or the raw strings an admin
typed (a mapping with ``client_id``, ``client_secret``, ``token_url``,
``base_url``, ``scope`` or ``consumer_key``, ``consumer_secret``,
``oneroster_url``, ``signature_method``, ``expires_on``, plus ``version``,
``profile``, ``timezone``) and never raises for bad input: every mistake
becomes a :class:`Finding` (ok, warning or error) with a fix in the district's
own terms (:mod:`.check_fixes`). It gets a token, reaches the Base URL, counts
each collection (``X-Total-Count``, else a bounded read), checks that
demographics are shared, detects the OneRoster version and, for OAuth 1.0a,
the clock skew.

``transport`` lets the caller route every request (tests: MockTransport; the
web intake page: a transport guarded against private addresses).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import email.utils
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..errors import ConfigError
from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import RESOURCES, SYNC_RESOURCES
from .check_fixes import CATALOG
from .client import OneRosterClient, Probe
from .connection import (
    ConnectionSpec,
    OAuth1Credentials,
    OAuth2Credentials,
    looks_like_infinite_campus,
    normalize_base_url,
    normalize_signature_method,
    parse_version,
)
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
    TokenUrlNotFound,
)
from .profiles import Profile, get_profile
from .responses import CertificateRejected, HostNotFound

LEVELS = ("ok", "warning", "error")
LABELS = {
    "client_id": "Client ID", "client_secret": "Client Secret", "token_url": "Token URL", "base_url": "Base URL",
    "consumer_key": "Consumer Key", "consumer_secret": "Consumer Secret", "oneroster_url": "OneRoster URL",
}
OAUTH2_FIELDS = ("client_id", "client_secret", "token_url", "base_url")
OAUTH1_FIELDS = ("consumer_key", "consumer_secret", "oneroster_url")
EXPIRY_WARNING_DAYS = 30
SKEW_WARNING_SECONDS = 300  # providers commonly accept -10/+5 minutes
COUNT_CAP = 2_000  # records read to count a collection that has no X-Total-Count
CHECK_PAGE_SIZE = 500


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | error
    code: str
    title: str
    detail: str = ""
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # records per collection
    inexact: set[str] = field(default_factory=set)  # collections whose count is a lower bound
    version: Version | None = None
    clock_skew: float | None = None  # seconds the provider's clock is ahead of ours
    auth: str | None = None  # oauth2 | oauth1
    api_root: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "auth": self.auth,
            "api_root": self.api_root,
            "version": self.version.value if self.version else None,
            "clock_skew_seconds": round(self.clock_skew, 1) if self.clock_skew is not None else None,
            "counts": {name: {"count": n, "exact": name not in self.inexact} for name, n in self.counts.items()},
            "findings": [f.to_dict() for f in self.findings],
        }


def run_check(
    inputs: ConnectionSpec | Mapping[str, Any],
    *,
    transport: httpx.BaseTransport | None = None,
    profile: Profile | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 15.0,
    resources: Iterable[str] = SYNC_RESOURCES,
    today: datetime.date | None = None,
) -> CheckReport:
    """Check a connection end to end; every problem is a finding, never an exception."""
    check = _Check(clock=clock, today=today or datetime.date.fromtimestamp(clock()))
    spec = inputs if isinstance(inputs, ConnectionSpec) else check.read_inputs(inputs)
    if spec is None:
        return check.report
    if isinstance(inputs, ConnectionSpec) and not check.review_spec(spec):
        return check.report
    try:
        base = profile or get_profile(spec.profile)
    except ValueError as exc:
        check.add("invalid_option", str(exc), label="vendor profile")
        return check.report
    quick = dataclasses.replace(base, page_size=min(base.page_size, CHECK_PAGE_SIZE), max_attempts=2,
                                retry_budget=10.0, backoff_cap=2.0, max_read_passes=1)
    try:
        client = OneRosterClient(spec, transport=transport, profile=quick, clock=clock, sleep=sleep,
                                 peak=True, timeout=timeout)
    except (ConfigError, ValueError) as exc:
        check.add("invalid_option", str(exc), label="connection")
        return check.report
    with client:
        check.connect(client, spec, resources)
    return check.report


class _Check:
    def __init__(self, *, clock: Callable[[], float], today: datetime.date) -> None:
        self.report = CheckReport()
        self.clock = clock
        self.today = today
        self.ic = False

    def add(self, code: str, detail: str = "", *, level: str | None = None, **context: Any) -> None:
        entry = CATALOG[code]
        fix = entry.ic_fix if self.ic or not entry.fix else entry.fix
        self.report.findings.append(Finding(
            level=level or entry.level, code=code, title=entry.title.format(**context),
            detail=detail, fix=fix.format(**context)))

    # -- what was typed ------------------------------------------------------

    def read_inputs(self, raw: Mapping[str, Any]) -> ConnectionSpec | None:
        values = {str(k).strip().lower().replace("-", "_").replace(" ", "_"): v for k, v in raw.items()}
        text = {k: v.strip() if isinstance(v, str) else ("" if v is None else v) for k, v in values.items()}
        given2 = [f for f in OAUTH2_FIELDS if text.get(f)]
        given1 = [f for f in OAUTH1_FIELDS if text.get(f)]
        if not given2 and not given1:
            self.add("no_credentials")
            return None
        kind = "oauth1" if len(given1) > len(given2) else "oauth2"
        fields = OAUTH1_FIELDS if kind == "oauth1" else OAUTH2_FIELDS
        url_field = fields[-1]
        self.ic = any(looks_like_infinite_campus(str(text.get(f) or "")) for f in ("base_url", "oneroster_url", "token_url"))
        self.report.auth = kind
        if given1 and given2:
            self.add("mixed_credentials", kind="OAuth 2.0" if kind == "oauth2" else "OAuth 1.0a")
        fatal = False
        for name in fields:
            value = text.get(name)
            if not value:
                self.add("missing_field", label=LABELS[name])
                fatal = True
            elif not isinstance(value, str):
                self.add("invalid_option", f"expected text, got {type(value).__name__}", label=LABELS[name])
                fatal = True
            elif name not in (url_field, "token_url") and any(c.isspace() for c in value):
                self.add("whitespace_in_value", label=LABELS[name])
        if isinstance(text.get(url_field), str) and text.get(url_field):
            fatal |= not self._check_base_url(text[url_field], LABELS[url_field])
        if kind == "oauth2" and isinstance(text.get("token_url"), str) and text.get("token_url"):
            fatal |= not self._check_token_url(text["token_url"])
        options = self._options(text, kind)
        if options is None or fatal:
            return None
        if kind == "oauth2":
            scopes = text.get("scopes") or text.get("scope") or ()
            if isinstance(scopes, str):
                scopes = tuple(s for s in scopes.replace(",", " ").split() if s)
            creds: OAuth2Credentials | OAuth1Credentials = OAuth2Credentials(
                client_id=text["client_id"], client_secret=text["client_secret"],
                token_url="".join(text["token_url"].split()), base_url=text["base_url"], scopes=tuple(scopes))
        else:
            creds = OAuth1Credentials(
                consumer_key=text["consumer_key"], consumer_secret=text["consumer_secret"],
                oneroster_url=text["oneroster_url"], signature_method=options["signature_method"],
                expires_on=options["expires_on"])
        spec = ConnectionSpec(credentials=creds, version=options["version"], profile=options["profile"],
                              timezone=options["timezone"])
        self._review_credentials(spec)
        return spec

    def review_spec(self, spec: ConnectionSpec) -> bool:
        """The input checks that still apply to an already-built spec; False when it cannot be used."""
        creds = spec.credentials
        self.report.auth = "oauth1" if spec.is_oauth1 else "oauth2"
        self.ic = looks_like_infinite_campus(creds.url) or (
            isinstance(creds, OAuth2Credentials) and looks_like_infinite_campus(creds.token_url))
        usable = self._check_base_url(creds.url, "OneRoster URL" if spec.is_oauth1 else "Base URL")
        if isinstance(creds, OAuth2Credentials):
            usable &= self._check_token_url(creds.token_url)
        self._review_credentials(spec)
        return usable

    def _check_base_url(self, text: str, label: str) -> bool:
        try:
            root, version = normalize_base_url(text)
        except ValueError as exc:
            code = "base_url_is_token_url" if "Token URL" in str(exc) else "base_url_invalid"
            self.add(code, str(exc).capitalize() + ".", label=label)
            return False
        if root.startswith("http://"):
            self.add("plain_http", f"{label}: {root.split('/ims/')[0]}", label=label)
        return True

    def _check_token_url(self, text: str) -> bool:
        cleaned = "".join(text.split())
        try:
            url = httpx.URL(cleaned if "://" in cleaned else "https://" + cleaned)
        except httpx.InvalidURL as exc:
            self.add("token_url_invalid", str(exc))
            return False
        if url.scheme not in ("http", "https") or not url.host:
            self.add("token_url_invalid", "It is not a web address.")
            return False
        path = url.path.lower()
        if "/ims/oneroster" in path or "/api/oneroster" in path:
            self.add("token_url_is_base_url", f"{url.host}{url.path}")
            return False
        if url.scheme == "http":
            self.add("plain_http", f"Token URL: {url.host}", label="Token URL")
        if self.ic:
            if "/oauth2/token" not in path:
                self.add("token_url_unusual", f"{url.host}{url.path}")
            elif "appname=" not in url.query.decode("ascii", "replace").lower():
                self.add("token_url_no_app_name", f"{url.host}{url.path}")
        return True

    def _options(self, text: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
        options: dict[str, Any] = {"profile": str(text.get("profile") or "infinite_campus"),
                                   "timezone": str(text.get("timezone") or "America/Chicago"),
                                   "signature_method": "HMAC-SHA256", "expires_on": None, "version": None}
        ok = True
        try:
            options["version"] = parse_version(str(text.get("version") or "") or None)
        except ValueError as exc:
            self.add("invalid_option", str(exc).capitalize() + ".", label="OneRoster version")
            ok = False
        try:
            get_profile(options["profile"])
        except ValueError as exc:
            self.add("invalid_option", str(exc).capitalize() + ".", label="vendor profile")
            ok = False
        if kind == "oauth1":
            try:
                options["signature_method"] = normalize_signature_method(str(text.get("signature_method") or "HMAC-SHA256"))
            except ValueError as exc:
                self.add("invalid_option", str(exc).capitalize() + ".", label="signature method")
                ok = False
            expires = text.get("expires_on")
            if isinstance(expires, datetime.date):
                options["expires_on"] = expires
            elif expires:
                options["expires_on"] = _parse_date(str(expires))
                if options["expires_on"] is None:
                    self.add("invalid_option", f"{str(expires)[:40]!r} is not a date like 2026-06-30.",
                             level="warning", label="token expiration date")
        return options if ok else None

    def _review_credentials(self, spec: ConnectionSpec) -> None:
        creds = spec.credentials
        if not isinstance(creds, OAuth1Credentials):
            return
        if self.ic:
            self.add("ic_oauth1_disabled", "Consumer Key, Consumer Secret and OneRoster URL come from Classic "
                     "navigation (System Administration > Learning Interoperability > OneRoster Provisioning).")
        if creds.expires_on is not None:
            days = (creds.expires_on - self.today).days
            date = creds.expires_on.isoformat()
            if days < 0:
                self.add("credentials_expired", date=date)
            elif days <= EXPIRY_WARNING_DAYS:
                self.add("credentials_expire_soon", days=days, date=date)
            else:
                self.add("credentials_expiry", date=date)

    # -- talking to the provider ---------------------------------------------

    def connect(self, client: OneRosterClient, spec: ConnectionSpec, resources: Iterable[str]) -> None:
        self.report.api_root = client.api_root
        self.report.version = client.version
        try:
            first = client.peek("orgs", limit=1)
        except SourceError as exc:
            self._skew(client, spec)
            self._first_contact_failed(exc, client, spec)
            return
        self._skew(client, spec)
        if isinstance(spec.credentials, OAuth2Credentials):
            method = {"basic": "HTTP Basic", "form": "form-body"}.get(getattr(client.auth, "auth_method", None) or "",
                                                                     "OAuth 2.0")
            self.add("token_ok", method=method)
        self.add("base_url_ok", client.api_root)
        self._collections(client, list(resources), first)

    def _first_contact_failed(self, exc: SourceError, client: OneRosterClient, spec: ConnectionSpec) -> None:
        creds = spec.credentials
        oauth2 = isinstance(creds, OAuth2Credentials)
        token_phase = oauth2 and getattr(client.auth, "auth_method", None) is None
        host = httpx.URL(creds.token_url if token_phase else client.api_root).host
        detail = str(exc)
        if self._transport_failure(exc, host, detail):
            return
        if isinstance(exc, TokenUrlNotFound):
            self.add("token_url_not_found", detail)
        elif isinstance(exc, CredentialsRefused):
            if not oauth2:
                skew = self.report.clock_skew
                if skew is not None and abs(skew) > SKEW_WARNING_SECONDS:
                    detail += f" This machine's clock is {_duration(skew)} off the provider's, which alone can cause it."
                self.add("oauth1_refused", detail)
            else:
                self.add("client_secret_refused" if token_phase else "api_refused_token", detail)
        elif isinstance(exc, InvalidResponse):
            if token_phase:
                self.add("token_url_wrong", detail)
            elif "web page" in detail or "redirected" in detail:
                self.add("base_url_is_website", detail)
            else:
                self.add("base_url_not_oneroster", detail)
        elif isinstance(exc, Forbidden) and token_phase:
            self.add("token_refused", detail)
        elif isinstance(exc, NotFound):
            self.add("base_url_not_found", detail)
        elif isinstance(exc, BadRequest) and token_phase:
            self.add("token_url_wrong", detail)
        else:
            self.add("resource_failed", detail, resource="orgs", level="error")

    def _transport_failure(self, exc: SourceError, host: str, detail: str) -> bool:
        """Findings for failures that are about reaching the server at all."""
        if isinstance(exc, HostNotFound):
            self.add("host_not_found", detail, host=host)
        elif isinstance(exc, CertificateRejected):
            self.add("tls_certificate", detail, host=host)
        elif isinstance(exc, Timeout):
            self.add("timeout", detail, host=host)
        elif isinstance(exc, ConnectionDropped):
            self.add("unreachable", detail, host=host)
        elif isinstance(exc, RateLimited):
            self.add("rate_limited", detail)
        elif isinstance(exc, ProviderUnavailable):
            self.add("provider_unavailable", detail)
        else:
            return False
        return True

    def _collections(self, client: OneRosterClient, resources: list[str], first: Probe) -> None:
        detected: Version | None = None
        failed = False
        for name in resources:
            label = _label(name)
            try:
                probe = first if name == first.resource else client.peek(name, limit=1)
                count, exact = probe.total, True
                if count is None:
                    with contextlib.closing(client.read(name)) as records:
                        count = sum(1 for _ in itertools.islice(records, COUNT_CAP))
                    exact = count < COUNT_CAP
            except SourceError as exc:
                failed = True
                host = httpx.URL(client.api_root).host
                if isinstance(exc, Forbidden):
                    self.add("demographics_not_shared" if name == "demographics" else "resource_forbidden",
                             str(exc), resource=label.capitalize())
                elif isinstance(exc, NotFound):
                    self.add("resource_not_found", str(exc), resource=name)
                elif not self._transport_failure(exc, host, str(exc)):
                    self.add("resource_failed", str(exc), resource=name)
                continue
            self.report.counts[name] = count
            if not exact:
                self.report.inexact.add(name)
            if count == 0:
                self.add("resource_empty", f"/{name} answered with no records.", resource=label)
            elif name == "demographics":
                self.add("demographics_ok", f"{count:,} demographics records.")
            if detected is None and RESOURCES[name].kind is Kind.USER and probe.items:
                detected = _version_of(probe.items[0])
        if not failed and self.report.counts:
            summary = ", ".join(f"{name} {count:,}{'' if name not in self.report.inexact else '+'}"
                                for name, count in self.report.counts.items())
            self.add("collections_ok", summary)
        configured = client.version
        if detected is not None and detected is not configured:
            self.add("version_mismatch", detected=detected.value, configured=configured.value)
        self.report.version = detected or configured
        self.add("version_detected", client.api_root, version=self.report.version.value)

    def _skew(self, client: OneRosterClient, spec: ConnectionSpec) -> None:
        if not client.last_date:
            return
        try:
            provider_time = email.utils.parsedate_to_datetime(client.last_date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        skew = provider_time - self.clock()
        self.report.clock_skew = skew
        if not spec.is_oauth1:
            return
        if abs(skew) > SKEW_WARNING_SECONDS:
            self.add("clock_skew", f"The provider's Date header says {client.last_date}.", skew=_duration(skew))
        else:
            self.add("clock_ok", skew=_duration(skew))


def _version_of(raw: Any) -> Version | None:
    """1.2 users carry ``roles[]``; 1.1 users a single ``role``."""
    if not isinstance(raw, dict):
        return None
    if isinstance(raw.get("roles"), list):
        return Version.V1P2
    if isinstance(raw.get("role"), str):
        return Version.V1P1
    return None


def _label(resource: str) -> str:
    return {"academicSessions": "academic sessions", "gradingPeriods": "grading periods"}.get(resource, resource)


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None

"""The connection check: does what the district typed actually work?

:func:`run_check` takes a :class:`ConnectionSpec` or the raw strings an admin
typed (a mapping with ``client_id``, ``client_secret``, ``token_url``,
``base_url``, ``scope`` or ``consumer_key``, ``consumer_secret``,
``oneroster_url``, ``signature_method``, ``expires_on``, plus ``version``,
``profile``, ``timezone``) and never raises for bad input: every mistake
becomes a :class:`Finding` (ok, warning or error) with a fix in the district's
own terms (:mod:`.check_fixes`). The typed values are reviewed first
(:mod:`.check_inputs`); then it gets a token, reaches the Base URL, counts
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
from typing import Any

import httpx

from ..errors import ConfigError
from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import RESOURCES, SYNC_RESOURCES
from .check_inputs import InputReview
from .check_report import CheckReport, Finding, Findings
from .client import OneRosterClient, Probe
from .connection import ConnectionSpec, OAuth2Credentials, normalize_base_url
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

__all__ = ["CheckReport", "Finding", "run_check"]

SKEW_WARNING_SECONDS = 300  # providers commonly accept -10/+5 minutes
COUNT_CAP = 2_000  # records read to count a collection that has no X-Total-Count
CHECK_PAGE_SIZE = 500


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
    findings = Findings()
    review = InputReview(findings, today=today or datetime.date.fromtimestamp(clock()))
    if isinstance(inputs, ConnectionSpec):
        spec = inputs if review.review_spec(inputs) else None
    else:
        spec = review.read_inputs(inputs)
    if spec is None:
        return findings.report
    try:
        base = profile or get_profile(spec.profile)
    except ValueError as exc:
        findings.add("invalid_option", str(exc), label="vendor profile")
        return findings.report
    quick = dataclasses.replace(base, page_size=min(base.page_size, CHECK_PAGE_SIZE), max_attempts=2,
                                retry_budget=10.0, backoff_cap=2.0, max_read_passes=1)
    try:
        client = OneRosterClient(spec, transport=transport, profile=quick, clock=clock, sleep=sleep,
                                 peak=True, timeout=timeout)
    except (ConfigError, ValueError) as exc:
        findings.add("invalid_option", str(exc), label="connection")
        return findings.report
    with client:
        _Probing(findings, clock=clock).connect(client, spec, resources)
    return findings.report


class _Probing:
    """The network half of the check: each request's outcome becomes findings."""

    def __init__(self, findings: Findings, *, clock: Callable[[], float]) -> None:
        self.report = findings.report
        self.add = findings.add
        self.clock = clock

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
        elif isinstance(exc, Forbidden):
            self.add("token_refused" if token_phase else "resource_forbidden", detail, resource="Orgs")
        elif isinstance(exc, NotFound):
            # a pasted address without "oneroster" in it is the site people log in to, not the API
            pasted = httpx.URL(normalize_base_url(creds.url)[0]).path.lower().replace("/ims/oneroster", "")
            self.add("base_url_not_found" if "oneroster" in pasted else "base_url_is_website", detail)
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

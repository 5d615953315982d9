"""The connection check's first half: what the admin typed, before any request.

:class:`InputReview` turns raw strings (as typed into the intake page or
given as CLI options) into a :class:`ConnectionSpec`, noting every missing or
garbled value as a finding rather than raising; :meth:`InputReview.review_spec`
applies the same checks to a spec built elsewhere.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import httpx

from .check_report import Findings
from .connection import (
    ConnectionSpec,
    OAuth1Credentials,
    OAuth2Credentials,
    looks_like_infinite_campus,
    normalize_base_url,
    normalize_signature_method,
    parse_version,
)
from .profiles import get_profile

LABELS = {
    "client_id": "Client ID", "client_secret": "Client Secret", "token_url": "Token URL", "base_url": "Base URL",
    "consumer_key": "Consumer Key", "consumer_secret": "Consumer Secret", "oneroster_url": "OneRoster URL",
}
OAUTH2_FIELDS = ("client_id", "client_secret", "token_url", "base_url")
OAUTH1_FIELDS = ("consumer_key", "consumer_secret", "oneroster_url")
EXPIRY_WARNING_DAYS = 30


class InputReview:
    """Reviews typed values into ``findings``; ``today`` decides what "expires soon" means."""

    def __init__(self, findings: Findings, *, today: datetime.date) -> None:
        self.findings = findings
        self.report = findings.report
        self.add = findings.add
        self.today = today

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
        self.findings.ic = any(looks_like_infinite_campus(str(text.get(f) or ""))
                               for f in ("base_url", "oneroster_url", "token_url"))
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
        self.findings.ic = looks_like_infinite_campus(creds.url) or (
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
        if self.findings.ic:
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
        if self.findings.ic:
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


def _parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None

"""What a district hands over: credentials, the Base URL, the version.

Two credential kinds, named after what the district copies:

* :class:`OAuth2Credentials` (Infinite Campus "New Look": Client ID, Client
  Secret, Token URL, Base URL);
* :class:`OAuth1Credentials` (Classic and other providers: Consumer Key,
  Consumer Secret, OneRoster URL, signature method, token expiration date).

:func:`normalize_base_url` accepts a Base URL the way districts paste it
(surrounding spaces, a trailing slash, with or without ``/ims/oneroster/...``,
the Classic legacy form) and detects the OneRoster version from it.
:class:`ConnectionSpec` bundles credentials, version, vendor profile and the
district's time zone; ``to_dict()`` keeps secrets out unless asked, so the
store can encrypt them separately.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from ..oneroster.kinds import Version

SIGNATURE_METHODS = ("HMAC-SHA256", "HMAC-SHA1")


@dataclass(frozen=True)
class OAuth2Credentials:
    """OAuth 2.0 client credentials (Client ID, Client Secret, Token URL, Base URL)."""

    client_id: str
    client_secret: str = field(repr=False)
    token_url: str
    base_url: str
    scopes: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The URL the roster is read from."""
        return self.base_url

    def secrets(self) -> dict[str, str]:
        return {"client_secret": self.client_secret}


@dataclass(frozen=True)
class OAuth1Credentials:
    """OAuth 1.0a two-legged credentials (Consumer Key, Consumer Secret, OneRoster URL)."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    oneroster_url: str
    signature_method: str = "HMAC-SHA256"
    expires_on: datetime.date | None = None

    def __post_init__(self) -> None:
        method = normalize_signature_method(self.signature_method)
        object.__setattr__(self, "signature_method", method)

    @property
    def url(self) -> str:
        return self.oneroster_url

    def secrets(self) -> dict[str, str]:
        return {"consumer_secret": self.consumer_secret}


Credentials = OAuth2Credentials | OAuth1Credentials


def normalize_signature_method(text: str) -> str:
    """``"hmac-sha1"``, ``"SHA1"``, ``" HMAC-SHA256 "`` -> the canonical name; ValueError otherwise."""
    cleaned = (text or "").strip().upper().replace("_", "-")
    if cleaned in ("SHA256", "HMACSHA256"):
        cleaned = "HMAC-SHA256"
    elif cleaned in ("SHA1", "HMACSHA1"):
        cleaned = "HMAC-SHA1"
    if cleaned not in SIGNATURE_METHODS:
        raise ValueError(f"signature method {text!r} is not one of {', '.join(SIGNATURE_METHODS)}")
    return cleaned


def parse_version(text: str | Version | None) -> Version | None:
    """``"1.1"``, ``"v1p2"``, ``"1.2"`` -> Version; empty -> None; ValueError otherwise."""
    if text is None or isinstance(text, Version):
        return text
    cleaned = text.strip().lower().lstrip("v").replace("p", ".")
    if not cleaned:
        return None
    for version in Version:
        if cleaned == version.value:
            return version
    raise ValueError(f"OneRoster version {text!r} is not 1.1 or 1.2")


_IMS = re.compile(r"/ims/oneroster(?:/(rostering/v1p2|v1p2|v1p1|rostering))?(?:/.*)?$", re.IGNORECASE)
# Infinite Campus: /campus/api/oneroster/v1p2/<app> (New Look), /campus/oneroster/<app> (Classic)
_IC_VERSIONED = re.compile(r"/api/oneroster/(v1p1|v1p2)/", re.IGNORECASE)
_IC_CLASSIC = re.compile(r"^/campus/oneroster/[^/]+$", re.IGNORECASE)


def normalize_base_url(text: str) -> tuple[str, Version | None]:
    """Clean a pasted Base URL; returns (root ending in ``/ims/oneroster``, detected version).

    Raises ValueError naming what is wrong when the text cannot be a Base URL.
    A missing scheme is read as https.
    """
    cleaned = "".join((text or "").split())  # spaces, tabs, line breaks from copy-paste
    if not cleaned:
        raise ValueError("the Base URL is empty")
    if "://" not in cleaned:
        cleaned = "https://" + cleaned
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"the Base URL must start with https:// (got {parts.scheme}://)")
    if not parts.hostname:
        raise ValueError("the Base URL has no host name")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ValueError("the Base URL has an invalid port") from None
    if parts.username or parts.password:
        raise ValueError("the Base URL must not contain a user name or password")
    path = parts.path.rstrip("/")
    if "/oauth2/token" in path.lower() or "oauth/token" in path.lower():
        raise ValueError("this is a Token URL, not a Base URL")
    version: Version | None = None
    match = _IMS.search(path)
    if match:
        segment = (match.group(1) or "").lower()
        if segment == "v1p1":
            version = Version.V1P1
        elif segment in ("v1p2", "rostering/v1p2"):
            version = Version.V1P2
        path = path[: match.start()]
    ic = _IC_VERSIONED.search(path + "/")
    if version is None and ic:
        version = Version.V1P1 if ic.group(1).lower() == "v1p1" else Version.V1P2
    elif version is None and _IC_CLASSIC.match(path):
        version = Version.V1P1
    root = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path + "/ims/oneroster", "", ""))
    return root, version


def looks_like_infinite_campus(url: str) -> bool:
    """True when ``url`` is on an Infinite Campus site (a /campus/ path or an infinitecampus host)."""
    parts = urlsplit("".join((url or "").split()))
    return "infinitecampus" in (parts.hostname or "") or parts.path.lower().startswith("/campus/")


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to read one district: credentials, version, vendor profile, time zone."""

    credentials: OAuth2Credentials | OAuth1Credentials
    version: Version | None = None
    profile: str = "infinite_campus"
    timezone: str = "America/Chicago"

    @cached_property
    def _normalized(self) -> tuple[str, Version | None]:
        return normalize_base_url(self.credentials.url)

    @property
    def resolved_version(self) -> Version:
        """The explicit version, else the one in the URL, else 1.1."""
        return self.version or self._normalized[1] or Version.V1P1

    @property
    def api_root(self) -> str:
        """e.g. ``https://host/campus/api/oneroster/v1p1/app/ims/oneroster/v1p1`` (no trailing slash)."""
        return f"{self._normalized[0]}/{self.resolved_version.path_segment}"

    @property
    def is_oauth1(self) -> bool:
        return isinstance(self.credentials, OAuth1Credentials)

    def secrets(self) -> dict[str, str]:
        """The secret part (to be encrypted at rest)."""
        return self.credentials.secrets()

    def to_dict(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """A JSON-able dict of the non-secret part (plus the secrets only when asked)."""
        creds = self.credentials
        out: dict[str, Any] = {
            "auth": "oauth1" if self.is_oauth1 else "oauth2",
            "version": self.version.value if self.version else None,
            "profile": self.profile,
            "timezone": self.timezone,
        }
        if isinstance(creds, OAuth2Credentials):
            out.update(client_id=creds.client_id, token_url=creds.token_url,
                       base_url=creds.base_url, scopes=list(creds.scopes))
        else:
            out.update(consumer_key=creds.consumer_key, oneroster_url=creds.oneroster_url,
                       signature_method=creds.signature_method,
                       expires_on=creds.expires_on.isoformat() if creds.expires_on else None)
        if include_secrets:
            out.update(self.secrets())
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], secrets: Mapping[str, str] | None = None) -> ConnectionSpec:
        """The inverse of :meth:`to_dict`; secrets come from ``secrets`` or from ``data`` itself."""
        merged = {**data, **(secrets or {})}
        auth = merged.get("auth") or ("oauth1" if merged.get("consumer_key") else "oauth2")
        try:
            if auth == "oauth1":
                expires = merged.get("expires_on")
                if isinstance(expires, str) and expires:
                    expires = datetime.date.fromisoformat(expires)
                creds: Credentials = OAuth1Credentials(
                    consumer_key=merged["consumer_key"],
                    consumer_secret=merged["consumer_secret"],
                    oneroster_url=merged["oneroster_url"],
                    signature_method=merged.get("signature_method") or "HMAC-SHA256",
                    expires_on=expires or None,
                )
            elif auth == "oauth2":
                creds = OAuth2Credentials(
                    client_id=merged["client_id"],
                    client_secret=merged["client_secret"],
                    token_url=merged["token_url"],
                    base_url=merged["base_url"],
                    scopes=tuple(merged.get("scopes") or ()),
                )
            else:
                raise ValueError(f"connection auth {auth!r} is not oauth1 or oauth2")
        except KeyError as exc:
            raise ValueError(f"connection data has no {exc.args[0]!r}") from None
        return cls(
            credentials=creds,
            version=parse_version(merged.get("version")),
            profile=merged.get("profile") or "infinite_campus",
            timezone=merged.get("timezone") or "America/Chicago",
        )

"""The intake form: its fields (labelled as Infinite Campus labels them), where
each value is found, and turning a submission into a :class:`ConnectionSpec`.

Validation happens before any network call: required fields, URL shapes, and
the network guard's verdict on each URL, so a mistake is explained next to the
field it concerns. Secrets are never echoed back: a re-rendered form keeps
every other value and at most the last four characters of a secret.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Mapping

from ..netguard import NetPolicy, preflight
from ..source.connection import (
    SIGNATURE_METHODS,
    ConnectionSpec,
    OAuth1Credentials,
    OAuth2Credentials,
    normalize_base_url,
)
from .security import mask

PROVIDERS = {"infinite_campus": "Infinite Campus", "generic": "Another OneRoster provider"}
AUTH_KINDS = {
    "oauth2": 'OAuth 2.0: Client ID, Client Secret, Token URL, Base URL (Infinite Campus "New Look")',
    "oauth1": "OAuth 1.0a: Consumer Key, Consumer Secret, OneRoster URL (Infinite Campus Classic)",
}
MAX_FIELD_LENGTH = 2000


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # exactly as Infinite Campus shows it
    auth: str  # "oauth2" | "oauth1"
    note: str  # where the value is found
    secret: bool = False
    url: bool = False
    required: bool = True
    kind: str = "text"  # input type

    def note_for(self, vendor: str) -> str:
        return self.note.replace("{vendor}", vendor)


NEW_LOOK_SECTION = 'under "Information to Share with {vendor}" on the OneRoster connection you generated'
CLASSIC_RECORD = "on the vendor record in System Administration > Learning Interoperability > OneRoster Provisioning"

FIELDS: tuple[Field, ...] = (
    Field("client_id", "Client ID", "oauth2", f"Shown {NEW_LOOK_SECTION}."),
    Field("client_secret", "Client Secret", "oauth2",
          f"Shown {NEW_LOOK_SECTION}. Copy it with no spaces before or after.", secret=True),
    Field("token_url", "Token URL", "oauth2",
          f"Shown {NEW_LOOK_SECTION}. It ends with /campus/oauth2/token?appName=...", url=True),
    Field("base_url", "Base URL", "oauth2",
          f"Shown {NEW_LOOK_SECTION}. It contains /campus/api/oneroster/.", url=True),
    Field("consumer_key", "Consumer Key", "oauth1",
          f"Shown {CLASSIC_RECORD}: the whole key, including the hard-coded prefix."),
    Field("consumer_secret", "Consumer Secret", "oauth1", f"Shown {CLASSIC_RECORD}.", secret=True),
    Field("oneroster_url", "OneRoster URL", "oauth1", f"Shown {CLASSIC_RECORD}.", url=True),
    Field("token_expiration_date", "Token Expiration Date", "oauth1",
          f"Under Token Information {CLASSIC_RECORD} (leave it empty if your provider shows none).",
          required=False, kind="date"),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
SECRET_FIELDS = tuple(f.name for f in FIELDS if f.secret)


@dataclass
class Submission:
    """What the admin typed, cleaned, with an error per field that is wrong."""

    provider: str = "infinite_campus"
    auth: str = "oauth2"
    signature_method: str = "HMAC-SHA256"
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def shown_value(self, name: str) -> str:
        """The value to put back in the form: never a secret."""
        if FIELD_BY_NAME[name].secret:
            return ""
        return self.values.get(name, "")

    def secret_hint(self, name: str) -> str:
        """``"••••WXYZ"`` for a secret that was typed (so the admin knows what to compare)."""
        return mask(self.values.get(name)) if FIELD_BY_NAME[name].secret else ""

    @property
    def expires_on(self) -> datetime.date | None:
        text = self.values.get("token_expiration_date", "")
        try:
            return datetime.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    def active_fields(self) -> list[Field]:
        return [f for f in FIELDS if f.auth == self.auth]


def _clean(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return text.strip()[:MAX_FIELD_LENGTH]


def parse(form: Mapping[str, object], policy: NetPolicy, *, vendor: str = "rostersync") -> Submission:
    """Read a posted form; the result's ``errors`` is empty when a check can run."""
    sub = Submission()
    provider = _clean(form.get("provider"))
    sub.provider = provider if provider in PROVIDERS else "infinite_campus"
    auth = _clean(form.get("auth"))
    sub.auth = auth if auth in AUTH_KINDS else "oauth2"
    method = _clean(form.get("signature_method")) or "HMAC-SHA256"
    if method not in SIGNATURE_METHODS:
        sub.errors["signature_method"] = f"Choose {' or '.join(SIGNATURE_METHODS)}."
    sub.signature_method = method if method in SIGNATURE_METHODS else "HMAC-SHA256"
    for f in FIELDS:
        sub.values[f.name] = _clean(form.get(f.name))
    for f in sub.active_fields():
        value = sub.values[f.name]
        if not value:
            if f.required:
                sub.errors[f.name] = f"Enter the {f.label}. {f.note_for(vendor)}"
            continue
        if f.url:
            problem = _url_problem(f, value, policy, vendor)
            if problem:
                sub.errors[f.name] = problem
        elif f.kind == "date" and sub.expires_on is None:
            sub.errors[f.name] = f"Enter the {f.label} as a date, for example 2027-06-30."
    return sub


def _url_problem(f: Field, value: str, policy: NetPolicy, vendor: str) -> str | None:
    note = f.note_for(vendor)
    compact = "".join(value.split())
    if "://" not in compact:
        compact = "https://" + compact
    if f.name in ("base_url", "oneroster_url"):
        try:
            normalize_base_url(compact)
        except ValueError as exc:
            return f"The {f.label} is not usable: {exc}. {note}"
    elif not compact.lower().startswith(("https://", "http://")):
        return f"The {f.label} must start with https://. {note}"
    if f.name == "token_url" and "token" not in compact.lower():
        return f"This does not look like a Token URL. {note}"
    problem = preflight(policy, compact)
    if problem:
        return (f"The {f.label} cannot be reached from here: {problem}. Copy it exactly as your "
                f"system shows it; it must be a public https:// address.")
    return None


def to_spec(sub: Submission) -> ConnectionSpec:
    """The connection a valid submission describes (call only when ``sub.errors`` is empty)."""
    v = sub.values
    def url(name: str) -> str:
        compact = "".join(v[name].split())
        return compact if "://" in compact else "https://" + compact
    if sub.auth == "oauth2":
        creds = OAuth2Credentials(client_id=v["client_id"], client_secret=v["client_secret"],
                                  token_url=url("token_url"), base_url=url("base_url"))
    else:
        creds = OAuth1Credentials(consumer_key=v["consumer_key"], consumer_secret=v["consumer_secret"],
                                  oneroster_url=url("oneroster_url"), signature_method=sub.signature_method,
                                  expires_on=sub.expires_on)
    return ConnectionSpec(credentials=creds, profile=sub.provider)

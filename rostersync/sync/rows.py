"""From a typed record to a staged row: typed columns, the cleaned raw record, its hash.

Passwords never reach the store: a user's ``password`` (and any ``password``
inside 1.2 ``userProfiles[].credentials[]``) is removed before hashing and
storing. The content hash is BLAKE2b-128 over orjson's sorted-key dump of the
cleaned record, so any change the provider makes (including its
dateLastModified) is an update, and a record sent again unchanged is not.

:func:`staged_values` is the hot path: a plain tuple in the order of
:func:`rostersync.store.staging.value_columns` (JSON columns as text, the
record dumped once for both the hash and the stored JSON).
:func:`staged_row` is the same row as a dict, for readers and tests.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ..oneroster.kinds import Kind
from ..oneroster.records import Record
from ..store.staging import JSON_VALUE_COLUMNS, value_columns
from ..store.tables import KIND_SPECS
from ..store.types import parse_timestamp

MAX_RAW_BYTES = 256 * 1024  # a record bigger than this is refused, not stored

_SORTED = orjson.OPT_SORT_KEYS
_blake2b = hashlib.blake2b
_dumps = orjson.dumps


class RowRefused(ValueError):
    """The record cannot be stored (too big, or not serialisable as JSON)."""


_fromisoformat = datetime.datetime.fromisoformat
_UTC = datetime.timezone.utc


def modified_at(text: str | None) -> datetime.datetime | None:
    """A dateLastModified as :func:`parse_timestamp` reads it, faster for the usual ``...Z`` text."""
    if text is None:
        return None
    try:
        value = _fromisoformat(text)
    except (ValueError, TypeError):
        return parse_timestamp(text)
    return value if value.tzinfo is _UTC else parse_timestamp(text)


def _json(values) -> str:
    return _dumps(values).decode()


def _sid(ref) -> str | None:
    return ref.sourced_id if ref is not None else None


def scrub_user(raw: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in raw.items() if k != "password"}
    profiles = out.get("userProfiles")
    if isinstance(profiles, list):
        cleaned = []
        for profile in profiles:
            if isinstance(profile, Mapping):
                profile = {k: v for k, v in profile.items() if k != "password"}
                creds = profile.get("credentials")
                if isinstance(creds, list):
                    profile["credentials"] = [
                        {k: v for k, v in c.items() if k != "password"} if isinstance(c, Mapping) else c
                        for c in creds
                    ]
            cleaned.append(profile)
        out["userProfiles"] = cleaned
    return out


def clean_raw(record: Record) -> Mapping[str, Any]:
    """The record as the provider sent it, minus passwords (not a copy when there is nothing to remove)."""
    if record.KIND is Kind.USER:
        return scrub_user(record.raw)
    return record.raw if type(record.raw) is dict else dict(record.raw)


def content_hash(raw: Mapping[str, Any]) -> str:
    """The hash the diff compares (see the module docstring)."""
    return hashlib.blake2b(orjson.dumps(raw, option=_SORTED), digest_size=16).hexdigest()


# The typed columns of each kind, as a tuple in KIND_SPECS order (JSON columns as text).

def _org(r) -> tuple:
    p = r.parent
    return (r.name, r.type, r.identifier, p.sourced_id if p is not None else None)


def _session(r) -> tuple:
    return (r.title, r.type, r.start_date, r.end_date, r.school_year, _sid(r.parent), _sid(r.org))


def _course(r) -> tuple:
    return (r.title, r.course_code, _sid(r.school_year), _sid(r.org), _json(r.grades))


def _class(r) -> tuple:
    return (r.title, r.class_code, r.class_type, r.location, _sid(r.course), _sid(r.school),
            _json([t.sourced_id for t in r.terms]), _json(r.grades))


def _user(r) -> tuple:
    orgs = [o.sourced_id for o in r.orgs]
    primary = _sid(r.primary_org) or (orgs[0] if orgs else None)
    return (r.username, r.given_name, r.family_name, r.middle_name, r.preferred_first_name,
            r.preferred_last_name, r.email, r.identifier, r.role, r.enabled_user, _json(orgs), primary,
            _json(r.grades))


def _enrollment(r) -> tuple:
    u, c, s = r.user, r.class_, r.school
    return (u.sourced_id if u is not None else None, c.sourced_id if c is not None else None,
            s.sourced_id if s is not None else None, r.role, r.primary, r.begin_date, r.end_date)


def _demographics(r) -> tuple:
    return (r.birth_date, r.sex)


TYPED = {
    Kind.ORG: _org, Kind.ACADEMIC_SESSION: _session, Kind.COURSE: _course, Kind.CLASS: _class,
    Kind.USER: _user, Kind.ENROLLMENT: _enrollment, Kind.DEMOGRAPHICS: _demographics,
}
_SKIPPED_TYPED = {kind: (None,) * len(spec.columns) for kind, spec in KIND_SPECS.items()}


def staged_values(record: Record, collection: str) -> tuple:
    """The staged-table values of a usable record, in :func:`value_columns` order
    (``raw`` as sorted-key JSON text); raises :class:`RowRefused` when it cannot be stored."""
    kind = record.KIND
    raw = record.raw
    if kind is Kind.USER:
        raw = scrub_user(raw)
    elif type(raw) is not dict:
        raw = dict(raw)
    try:
        dumped = _dumps(raw, option=_SORTED)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise RowRefused(f"is not storable as JSON ({exc})") from None
    if len(dumped) > MAX_RAW_BYTES:
        raise RowRefused(f"is {len(dumped)} bytes of JSON (at most {MAX_RAW_BYTES})")
    return (record.sourced_id, collection, False, 1, record.status, modified_at(record.date_last_modified),
            *TYPED[kind](record), dumped.decode(), _blake2b(dumped, digest_size=16).hexdigest())


def skipped_values(kind: Kind, sourced_id: str, collection: str) -> tuple:
    """Staged values that only say "this sourcedId was read but is unusable"."""
    return (sourced_id, collection, True, 1, None, None, *_SKIPPED_TYPED[kind], None, None)


def _as_row(kind: Kind, values: tuple) -> dict[str, Any]:
    row = dict(zip(value_columns(kind), values))
    for name in JSON_VALUE_COLUMNS[kind]:
        if row[name] is not None:
            row[name] = orjson.loads(row[name])
    return row


def staged_row(record: Record, collection: str) -> dict[str, Any]:
    """:func:`staged_values` as a dict of column names (JSON columns decoded)."""
    return _as_row(record.KIND, staged_values(record, collection))


def skipped_row(kind: Kind, sourced_id: str, collection: str) -> dict[str, Any]:
    """:func:`skipped_values` as a dict of column names."""
    return _as_row(kind, skipped_values(kind, sourced_id, collection))

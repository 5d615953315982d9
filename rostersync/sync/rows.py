"""From a typed record to a staged row: typed columns, the cleaned raw record, its hash.

Passwords never reach the store: a user's ``password`` (and any ``password``
inside 1.2 ``userProfiles[].credentials[]``) is removed before hashing and
storing. The content hash is BLAKE2b-128 over orjson's sorted-key dump of the
cleaned record, so any change the provider makes (including its
dateLastModified) is an update, and a record sent again unchanged is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ..oneroster.kinds import Kind
from ..oneroster.records import Record
from ..store.tables import KIND_SPECS
from ..store.types import parse_timestamp

MAX_RAW_BYTES = 256 * 1024  # a record bigger than this is refused, not stored

_SORTED = orjson.OPT_SORT_KEYS


class RowRefused(ValueError):
    """The record cannot be stored (too big, or not serialisable as JSON)."""


def _sid(ref) -> str | None:
    return ref.sourced_id if ref is not None else None


def _scrub_user(raw: Mapping[str, Any]) -> dict[str, Any]:
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
        return _scrub_user(record.raw)
    return record.raw if type(record.raw) is dict else dict(record.raw)


def content_hash(raw: Mapping[str, Any]) -> str:
    """The hash the diff compares (see the module docstring)."""
    return hashlib.blake2b(orjson.dumps(raw, option=_SORTED), digest_size=16).hexdigest()


def _org(r) -> dict[str, Any]:
    return {"name": r.name, "type": r.type, "identifier": r.identifier, "parent_sourced_id": _sid(r.parent)}


def _session(r) -> dict[str, Any]:
    return {"title": r.title, "type": r.type, "start_date": r.start_date, "end_date": r.end_date,
            "school_year": r.school_year, "parent_sourced_id": _sid(r.parent), "org_sourced_id": _sid(r.org)}


def _course(r) -> dict[str, Any]:
    return {"title": r.title, "course_code": r.course_code, "school_year_sourced_id": _sid(r.school_year),
            "org_sourced_id": _sid(r.org), "grades": list(r.grades)}


def _class(r) -> dict[str, Any]:
    return {"title": r.title, "class_code": r.class_code, "class_type": r.class_type, "location": r.location,
            "course_sourced_id": _sid(r.course), "school_sourced_id": _sid(r.school),
            "term_sourced_ids": [t.sourced_id for t in r.terms], "grades": list(r.grades)}


def _user(r) -> dict[str, Any]:
    orgs = [o.sourced_id for o in r.orgs]
    primary = _sid(r.primary_org) or (orgs[0] if orgs else None)
    return {"username": r.username, "given_name": r.given_name, "family_name": r.family_name,
            "middle_name": r.middle_name, "preferred_first_name": r.preferred_first_name,
            "preferred_last_name": r.preferred_last_name, "email": r.email, "identifier": r.identifier,
            "role": r.role, "enabled_user": r.enabled_user, "org_sourced_ids": orgs,
            "primary_org_sourced_id": primary, "grades": list(r.grades)}


def _enrollment(r) -> dict[str, Any]:
    return {"user_sourced_id": _sid(r.user), "class_sourced_id": _sid(r.class_),
            "school_sourced_id": _sid(r.school), "role": r.role, "primary": r.primary,
            "begin_date": r.begin_date, "end_date": r.end_date}


def _demographics(r) -> dict[str, Any]:
    return {"birth_date": r.birth_date, "sex": r.sex}


TYPED = {
    Kind.ORG: _org, Kind.ACADEMIC_SESSION: _session, Kind.COURSE: _course, Kind.CLASS: _class,
    Kind.USER: _user, Kind.ENROLLMENT: _enrollment, Kind.DEMOGRAPHICS: _demographics,
}


def staged_row(record: Record, collection: str) -> dict[str, Any]:
    """The staged-table row of a usable record (``raw`` as sorted-key JSON text);
    raises :class:`RowRefused` when it cannot be stored."""
    raw = clean_raw(record)
    try:
        dumped = orjson.dumps(raw, option=_SORTED)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise RowRefused(f"is not storable as JSON ({exc})") from None
    if len(dumped) > MAX_RAW_BYTES:
        raise RowRefused(f"is {len(dumped)} bytes of JSON (at most {MAX_RAW_BYTES})")
    row = TYPED[record.KIND](record)
    row.update(
        sourced_id=record.sourced_id, collection=collection, skip=False, dup_count=1, status=record.status,
        date_last_modified=parse_timestamp(record.date_last_modified), raw=dumped.decode(),
        content_hash=hashlib.blake2b(dumped, digest_size=16).hexdigest(),
    )
    return row


def skipped_row(kind: Kind, sourced_id: str, collection: str) -> dict[str, Any]:
    """A staged row that only says "this sourcedId was read but is unusable"."""
    row = dict.fromkeys(name for name, _ in KIND_SPECS[kind].columns)
    row.update(sourced_id=sourced_id, collection=collection, skip=True, dup_count=1, status=None,
               date_last_modified=None, raw=None, content_hash=None)
    return row

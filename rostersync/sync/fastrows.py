"""The staged row of a well-formed record, straight from the provider's JSON object.

A sync spends most of its time turning each JSON object into a staged row.
The general route, :func:`rostersync.oneroster.records.parse_record` and then
:func:`rostersync.sync.rows.staged_values`, builds a typed record with every
field read leniently and every oddity noted. Almost every record a real
provider sends is plain, so :func:`fast_values` builds the row of a plain
record directly, for the kinds that make up the bulk of a district (users,
enrollments, demographics).

The contract is strict: ``fast_values`` either returns exactly the tuple the
general route would return for that object, or None, and then the caller takes
the general route (which reports the record's problems). It returns a row only
when the general route would note no problem at all: every field it reads is
absent, null or of its plain type (a string of at most ``MAX_STRING``
characters, a known enum value, a boolean or ``"true"``/``"false"``, a GUIDRef
object with a sourcedId, a list of strings). Anything else (numbers where
strings belong, comma-separated lists, ``ext:`` values, GUIDRefs as bare
strings, over-long values...) is left to the general route. The unit tests
check the two routes against each other on sandbox districts and on mutated
records.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import blake2b as _blake2b
from typing import Any

import orjson

from ..oneroster.kinds import ENROLLMENT_ROLES, ROLES_V1P2, SEX_V1P2, Kind, Version
from ..oneroster.records import MAX_STRING, RACE_FIELDS
from .rows import MAX_RAW_BYTES, modified_at, scrub_user

_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS
_JSON_ERRORS = (TypeError, orjson.JSONEncodeError)
_STATUSES = frozenset(("active", "tobedeleted"))
_ENROLLMENT_ROLES = frozenset(ENROLLMENT_ROLES)
_ROLES = frozenset(ROLES_V1P2)
_SEXES = frozenset(SEX_V1P2)
_ROLE_TYPES = frozenset(("primary", "secondary"))
_BOOLS = {"true": True, "false": False, True: True, False: False}


class _Irregular(Exception):
    """The object is not plain: the general route must read it."""


_IRREGULAR = _Irregular()


def _text(value: Any) -> str | None:
    """An optional string field."""
    if value is None:
        return None
    if type(value) is str and len(value) <= MAX_STRING:
        return value or None
    raise _IRREGULAR


def _required_text(value: Any) -> str:
    if type(value) is str and value and len(value) <= MAX_STRING:
        return value
    raise _IRREGULAR


def _flag(value: Any) -> bool | None:
    """An optional boolean: true/false or their text."""
    if value is None or value == "":
        return None
    if type(value) is bool or type(value) is str:
        found = _BOOLS.get(value)
        if found is not None:
            return found
    raise _IRREGULAR


def _ref(value: Any) -> str | None:
    """The sourcedId of an optional GUIDRef object."""
    if value is None or value == "":
        return None
    return _required_ref(value)


def _required_ref(value: Any) -> str:
    if type(value) is dict:
        sid = value.get("sourcedId")
        if type(sid) is str:
            sid = sid.strip()
            if sid:
                return sid
    raise _IRREGULAR


def _refs(value: Any) -> list[str]:
    """The sourcedIds of an optional list of GUIDRef objects."""
    if value is None or value == "":
        return []
    if type(value) is list:
        return [_required_ref(item) for item in value]
    raise _IRREGULAR


def _strings(value: Any) -> list[str]:
    """An optional list of strings (grades, subjects)."""
    if value is None or value == "":
        return []
    if type(value) is list:
        for item in value:
            if type(item) is not str:
                raise _IRREGULAR
        return value
    raise _IRREGULAR


def _json(value: list[str]) -> str:
    return _dumps(value).decode()


def _common(obj: Any) -> tuple[str, str, str | None]:
    """(sourcedId, status, dateLastModified) of a plain object."""
    if type(obj) is not dict:
        raise _IRREGULAR
    sid = obj.get("sourcedId")
    if type(sid) is not str:
        raise _IRREGULAR
    sid = sid.strip()
    if not sid or len(sid) > 255:
        raise _IRREGULAR
    status = obj.get("status")
    if status is None or status == "":
        status = "active"
    elif type(status) is not str or status not in _STATUSES:
        raise _IRREGULAR
    metadata = obj.get("metadata")
    if metadata is not None and type(metadata) is not dict:
        raise _IRREGULAR
    return sid, status, _text(obj.get("dateLastModified"))


def _enrollment(obj: dict, version: Version) -> tuple:
    get = obj.get
    role = get("role")
    if type(role) is not str or role not in _ENROLLMENT_ROLES:
        raise _IRREGULAR
    return (_required_ref(get("user")), _required_ref(get("class")), _ref(get("school")), role,
            _flag(get("primary")), _text(get("beginDate")), _text(get("endDate")))


def _demographics(obj: dict, version: Version) -> tuple:
    get = obj.get
    for name in RACE_FIELDS:
        _flag(get(name))
    for name in ("countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth", "publicSchoolResidenceStatus"):
        _text(get(name))
    sex = get("sex")
    if sex is not None and sex != "" and (type(sex) is not str or sex not in _SEXES):
        raise _IRREGULAR
    return (_text(get("birthDate")), sex or None)


def _user_roles(obj: dict, version: Version) -> tuple[str, list[str]]:
    """(the primary role, the orgs of every role in order without repeats)."""
    roles = obj.get("roles")
    if type(roles) is list and roles:  # 1.2's roles[]; role and orgs are not read
        primary = None
        orgs: list[str] = []
        for item in roles:
            if type(item) is not dict:
                raise _IRREGULAR
            role = item.get("role")
            if type(role) is not str or role not in _ROLES or item.get("roleType") not in _ROLE_TYPES:
                raise _IRREGULAR
            if primary is None and item["roleType"] == "primary":
                primary = role
            org = _ref(item.get("org"))
            if org is not None and org not in orgs:
                orgs.append(org)
        return primary or roles[0]["role"], orgs
    if roles is not None and roles != []:
        raise _IRREGULAR
    role = obj.get("role")
    if type(role) is not str or role not in _ROLES:
        raise _IRREGULAR
    orgs = _refs(obj.get("orgs"))
    if len(orgs) > 1:
        orgs = list(dict.fromkeys(orgs))
    return role, orgs


def _user(obj: dict, version: Version) -> tuple:
    get = obj.get
    username = _required_text(get("username")) if version is Version.V1P1 else _text(get("username"))
    for name in ("preferredMiddleName", "pronouns", "userMasterIdentifier", "sms", "phone"):
        _text(get(name))
    user_ids = get("userIds")
    if user_ids is not None and user_ids != []:
        if type(user_ids) is not list:
            raise _IRREGULAR
        for item in user_ids:
            if type(item) is not dict:
                raise _IRREGULAR
    _refs(get("agents"))
    role, orgs = _user_roles(obj, version)
    primary = _ref(get("primaryOrg"))
    if primary is None and orgs:
        primary = orgs[0]
    return (username, _required_text(get("givenName")), _required_text(get("familyName")),
            _text(get("middleName")),
            _text(get("preferredFirstName")) or _text(get("preferredGivenName")),
            _text(get("preferredLastName")) or _text(get("preferredFamilyName")),
            _text(get("email")), _text(get("identifier")), role, _flag(get("enabledUser")),
            _json(orgs), primary, _json(_strings(get("grades"))))


_TYPED: dict[Kind, Callable[[dict, Version], tuple]] = {
    Kind.USER: _user, Kind.ENROLLMENT: _enrollment, Kind.DEMOGRAPHICS: _demographics,
}


def fast_rows(kind: Kind, collection: str, version: Version) -> Callable[[Any], tuple | None] | None:
    """:func:`fast_values` for one collection, as a function of the object alone (what a sync
    calls for every record); None when ``kind`` has no fast route."""
    typed = _TYPED.get(kind)
    if typed is None:
        return None
    scrub = kind is Kind.USER

    def row(obj: Any) -> tuple | None:
        try:
            sid, status, modified = _common(obj)
            values = typed(obj, version)
        except _Irregular:
            return None
        raw = scrub_user(obj) if scrub and ("password" in obj or "userProfiles" in obj) else obj
        try:
            dumped = _dumps(raw, option=_SORTED)
        except _JSON_ERRORS:
            return None
        if len(dumped) > MAX_RAW_BYTES:
            return None
        return (sid, collection, False, 1, status, modified_at(modified), *values, dumped.decode(),
                _blake2b(dumped, digest_size=16).hexdigest())

    return row


def fast_values(kind: Kind, obj: Any, collection: str, version: Version) -> tuple | None:
    """The staged values of a plain object of ``kind`` (see the module docstring); None otherwise."""
    row = fast_rows(kind, collection, version)
    return row(obj) if row is not None else None

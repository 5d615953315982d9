"""Typed OneRoster records: one internal model for 1.1 and 1.2.

:func:`parse_record` turns one JSON object a provider sent into a typed record
of its kind. Parsing is lenient, the way real providers need it: ``null`` is
an absent value, ``"true"``/``"false"`` strings and booleans are both booleans,
numbers where strings belong become strings, a comma-separated string where a
list belongs becomes a list, unknown fields are kept. What cannot be read is
noted in ``record.problems`` (each a :class:`Problem` naming the field) rather
than raised; only an object without a usable ``sourcedId`` raises
:class:`RecordError`, because nothing can be done with it.

Both versions map to one model: a 1.1 user's ``role`` and ``orgs`` become
``roles`` (the first org primary), a 1.2 user's ``roles[]`` also yield ``role``
(the primary role) and ``orgs``. Every record keeps the object it came from,
untouched, in ``raw``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import RostersyncError
from .kinds import (
    CLASS_TYPES,
    ENROLLMENT_ROLES,
    ORG_TYPES,
    ROLES_V1P2,
    SESSION_TYPES,
    SEX_V1P2,
    Kind,
    Version,
)

MAX_STRING = 10_000  # a typed field longer than this is an error, not a value


class RecordError(RostersyncError):
    """A record could not be read."""

    def __init__(self, message: str, *, kind: Kind, sourced_id: str | None = None) -> None:
        self.kind = kind
        self.sourced_id = sourced_id
        where = f"{kind.value} {sourced_id!r}" if sourced_id else f"a {kind.value} record"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one field of one record; ``severe`` ones reject the record."""

    field: str
    message: str
    severe: bool = False

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class GUIDRef:
    sourced_id: str
    type: str | None = None
    href: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"sourcedId": self.sourced_id}
        if self.type:
            out["type"] = self.type
        if self.href:
            out["href"] = self.href
        return out


@dataclass(frozen=True, slots=True)
class UserId:
    type: str | None
    identifier: str | None


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    role_type: str  # primary | secondary
    role: str
    org: GUIDRef | None
    user_profile: str | None = None
    begin_date: str | None = None
    end_date: str | None = None


class _Reader:
    """Reads fields of one raw object leniently, collecting problems."""

    __slots__ = ("obj", "problems")

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj
        self.problems: list[Problem] = []

    def note(self, name: str, message: str, severe: bool = False) -> None:
        self.problems.append(Problem(name, message, severe))

    def str(self, name: str, *, required: bool = False) -> str | None:
        value = self.obj.get(name)
        if type(value) is str and value and len(value) <= MAX_STRING:  # the common case, fast
            return value
        if value is None or value == "":
            if required:
                self.note(name, "is missing")
            return None
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                self.note(name, f"is {len(value)} characters long (at most {MAX_STRING})", severe=True)
                return value[:MAX_STRING]
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        self.note(name, f"should be a string, got {type(value).__name__}")
        return None

    def enum(self, name: str, allowed: tuple[str, ...], *, required: bool = False) -> str | None:
        value = self.str(name, required=required)
        if value is not None and value not in allowed and not value.startswith("ext:"):
            self.note(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def bool(self, name: str) -> bool | None:
        value = self.obj.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if type(value) is str and value in _BOOL_TEXT:  # the common case, fast
            return _BOOL_TEXT[value]
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("true", "1", "yes", "y", "t"):
                return True
            if low in ("false", "0", "no", "n", "f"):
                return False
        if isinstance(value, int):
            return bool(value)
        self.note(name, f"should be true or false, got {str(value)[:40]!r}")
        return None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.obj.get(name)
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple)):
            out = []
            for item in value:
                if isinstance(item, str):
                    out.append(item)
                elif isinstance(item, (int, float)) and not isinstance(item, bool):
                    out.append(str(item))
                elif item is not None:
                    self.note(name, f"has a {type(item).__name__} where a string belongs")
            return tuple(out)
        self.note(name, f"should be a list, got {type(value).__name__}")
        return ()

    def ref(self, name: str, default_type: str | None = None, *, required: bool = False) -> GUIDRef | None:
        value = self.obj.get(name)
        if value is None or value == "":
            if required:
                self.note(name, "is missing")
            return None
        ref = _guidref(value, default_type)
        if ref is None:
            self.note(name, "is not a GUIDRef (an object with a sourcedId)")
        return ref

    def refs(self, name: str, default_type: str | None = None, *, required: bool = False) -> tuple[GUIDRef, ...]:
        value = self.obj.get(name)
        if value is None or value == "" or value == []:
            if required:
                self.note(name, "is missing")
            return ()
        items = value if isinstance(value, (list, tuple)) else [value]
        out = []
        for item in items:
            ref = _guidref(item, default_type)
            if ref is None:
                self.note(name, "has an entry that is not a GUIDRef")
            else:
                out.append(ref)
        return tuple(out)


def _is_map(value: Any) -> bool:
    """A JSON object (dict, fast) or any other mapping (the ABC check is slow)."""
    return type(value) is dict or isinstance(value, Mapping)


_BOOL_TEXT = {"true": True, "false": False}
_new = object.__new__
_set_sid, _set_type, _set_href = GUIDRef.sourced_id.__set__, GUIDRef.type.__set__, GUIDRef.href.__set__


def _ref(sourced_id: str, rtype: str | None, href: str | None) -> GUIDRef:
    """``GUIDRef(sourced_id, rtype, href)``, built without the frozen dataclass's slower ``__init__``."""
    ref = _new(GUIDRef)
    _set_sid(ref, sourced_id)
    _set_type(ref, rtype)
    _set_href(ref, href)
    return ref


def _guidref(value: Any, default_type: str | None) -> GUIDRef | None:
    if type(value) is dict:  # the common case, fast; anything unusual takes the general path below
        sid = value.get("sourcedId")
        if type(sid) is str:
            sid = sid.strip()
            if not sid:
                return None
            rtype = value.get("type")
            href = value.get("href")
            return _ref(sid, rtype if isinstance(rtype, str) and rtype else default_type,
                        href if isinstance(href, str) and href else None)
    if isinstance(value, str) and value.strip():
        return GUIDRef(value.strip(), default_type, None)
    if _is_map(value):
        sid = value.get("sourcedId")
        if isinstance(sid, (int, float)) and not isinstance(sid, bool):
            sid = str(sid)
        if isinstance(sid, str) and sid.strip():
            rtype = value.get("type")
            href = value.get("href")
            return _ref(
                sid.strip(),
                rtype if isinstance(rtype, str) and rtype else default_type,
                href if isinstance(href, str) and href else None,
            )
    return None


@dataclass(slots=True, kw_only=True)
class Record:
    """Fields every OneRoster record has, plus the raw object it came from."""

    KIND: ClassVar[Kind]

    sourced_id: str
    status: str
    date_last_modified: str | None
    metadata: Mapping[str, Any] | None
    version: Version
    raw: Mapping[str, Any]
    problems: list[Problem] = field(default_factory=list)

    @property
    def kind(self) -> Kind:
        return self.KIND

    @property
    def deleted(self) -> bool:
        return self.status == "tobedeleted"

    @property
    def severe_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.severe]


@dataclass(slots=True, kw_only=True)
class Org(Record):
    KIND = Kind.ORG
    name: str | None
    type: str | None
    identifier: str | None
    parent: GUIDRef | None
    children: tuple[GUIDRef, ...]


@dataclass(slots=True, kw_only=True)
class AcademicSession(Record):
    KIND = Kind.ACADEMIC_SESSION
    title: str | None
    type: str | None
    start_date: str | None
    end_date: str | None
    school_year: str | None
    parent: GUIDRef | None
    children: tuple[GUIDRef, ...]
    org: GUIDRef | None  # 1.2


@dataclass(slots=True, kw_only=True)
class Course(Record):
    KIND = Kind.COURSE
    title: str | None
    course_code: str | None
    school_year: GUIDRef | None
    grades: tuple[str, ...]
    subjects: tuple[str, ...]
    org: GUIDRef | None
    subject_codes: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class Class(Record):
    KIND = Kind.CLASS
    title: str | None
    class_code: str | None
    class_type: str | None
    location: str | None
    grades: tuple[str, ...]
    subjects: tuple[str, ...]
    course: GUIDRef | None
    school: GUIDRef | None
    terms: tuple[GUIDRef, ...]
    subject_codes: tuple[str, ...]
    periods: tuple[str, ...]


@dataclass(slots=True, kw_only=True)
class User(Record):
    KIND = Kind.USER
    username: str | None
    enabled_user: bool | None
    given_name: str | None
    family_name: str | None
    middle_name: str | None
    preferred_first_name: str | None
    preferred_middle_name: str | None
    preferred_last_name: str | None
    pronouns: str | None
    roles: tuple[RoleAssignment, ...]
    user_ids: tuple[UserId, ...]
    user_master_identifier: str | None
    identifier: str | None
    email: str | None
    sms: str | None
    phone: str | None
    agents: tuple[GUIDRef, ...]
    grades: tuple[str, ...]
    primary_org: GUIDRef | None

    @property
    def role(self) -> str | None:
        """The primary role (1.1's ``role``)."""
        for assignment in self.roles:
            if assignment.role_type == "primary":
                return assignment.role
        return self.roles[0].role if self.roles else None

    @property
    def orgs(self) -> tuple[GUIDRef, ...]:
        """Every org the user has a role in (1.1's ``orgs``), in order, without repeats."""
        seen: dict[str, GUIDRef] = {}
        for assignment in self.roles:
            if assignment.org is not None and assignment.org.sourced_id not in seen:
                seen[assignment.org.sourced_id] = assignment.org
        return tuple(seen.values())


@dataclass(slots=True, kw_only=True)
class Enrollment(Record):
    KIND = Kind.ENROLLMENT
    user: GUIDRef | None
    class_: GUIDRef | None
    school: GUIDRef | None
    role: str | None
    primary: bool | None
    begin_date: str | None
    end_date: str | None


RACE_FIELDS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)


@dataclass(slots=True, kw_only=True)
class Demographics(Record):
    KIND = Kind.DEMOGRAPHICS
    birth_date: str | None
    sex: str | None
    races: Mapping[str, bool | None]
    country_of_birth_code: str | None
    state_of_birth_abbreviation: str | None
    city_of_birth: str | None
    public_school_residence_status: str | None


# ---------------------------------------------------------------------------
# parsing


def _common(kind: Kind, obj: Any, version: Version) -> tuple[_Reader, dict[str, Any]]:
    if not _is_map(obj):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}", kind=kind)
    sid = obj.get("sourcedId")
    if isinstance(sid, (int, float)) and not isinstance(sid, bool):
        sid = str(sid)
    if not isinstance(sid, str) or not sid.strip():
        raise RecordError("has no sourcedId", kind=kind)
    sid = sid.strip()
    if len(sid) > 255:
        raise RecordError(f"sourcedId is {len(sid)} characters long (at most 255)", kind=kind, sourced_id=sid[:40] + "...")
    reader = _Reader(obj)
    status = reader.str("status") or "active"
    if status == "inactive":  # retired 1.0 value
        status = "tobedeleted"
    elif status not in ("active", "tobedeleted"):
        reader.note("status", f"{status!r} is not active or tobedeleted; read as active")
        status = "active"
    metadata = obj.get("metadata")
    if metadata is not None and not _is_map(metadata):
        reader.note("metadata", "should be an object")
        metadata = None
    common = {
        "sourced_id": sid,
        "status": status,
        "date_last_modified": reader.str("dateLastModified"),
        "metadata": metadata,
        "version": version,
        "raw": obj,
    }
    return reader, common


def _org(r: _Reader, c: dict, v: Version) -> Org:
    return Org(
        **c,
        name=r.str("name", required=True),
        type=r.enum("type", ORG_TYPES, required=True),
        identifier=r.str("identifier"),
        parent=r.ref("parent", "org"),
        children=r.refs("children", "org"),
    )


def _session(r: _Reader, c: dict, v: Version) -> AcademicSession:
    return AcademicSession(
        **c,
        title=r.str("title", required=True),
        type=r.enum("type", SESSION_TYPES, required=True),
        start_date=r.str("startDate", required=True),
        end_date=r.str("endDate", required=True),
        school_year=r.str("schoolYear"),
        parent=r.ref("parent", "academicSession"),
        children=r.refs("children", "academicSession"),
        org=r.ref("org", "org"),
    )


def _course(r: _Reader, c: dict, v: Version) -> Course:
    return Course(
        **c,
        title=r.str("title", required=True),
        course_code=r.str("courseCode"),
        school_year=r.ref("schoolYear", "academicSession"),
        grades=r.strings("grades"),
        subjects=r.strings("subjects"),
        org=r.ref("org", "org", required=True),
        subject_codes=r.strings("subjectCodes"),
    )


def _class(r: _Reader, c: dict, v: Version) -> Class:
    return Class(
        **c,
        title=r.str("title", required=True),
        class_code=r.str("classCode"),
        class_type=r.enum("classType", CLASS_TYPES),
        location=r.str("location"),
        grades=r.strings("grades"),
        subjects=r.strings("subjects"),
        course=r.ref("course", "course", required=True),
        school=r.ref("school", "org", required=True),
        terms=r.refs("terms", "academicSession", required=True),
        subject_codes=r.strings("subjectCodes"),
        periods=r.strings("periods"),
    )


def _roles(r: _Reader, v: Version) -> tuple[RoleAssignment, ...]:
    raw_roles = r.obj.get("roles")
    if isinstance(raw_roles, list) and raw_roles:
        out = []
        for item in raw_roles:
            if not _is_map(item) or not isinstance(item.get("role"), str):
                r.note("roles", "has an entry without a role")
                continue
            if item["role"] not in ROLES_V1P2 and not item["role"].startswith("ext:"):
                r.note("roles", f"{item['role']!r} is not a OneRoster role")
            role_type = item.get("roleType") if item.get("roleType") in ("primary", "secondary") else "primary"
            profile = item.get("userProfile")
            out.append(
                RoleAssignment(
                    role_type=role_type,
                    role=item["role"],
                    org=_guidref(item.get("org"), "org"),
                    user_profile=profile if isinstance(profile, str) else None,
                    begin_date=item.get("beginDate") if isinstance(item.get("beginDate"), str) else None,
                    end_date=item.get("endDate") if isinstance(item.get("endDate"), str) else None,
                )
            )
        return tuple(out)
    role = r.enum("role", ROLES_V1P2, required=v is Version.V1P1)
    orgs = r.refs("orgs", "org")
    if role is None:
        if v is Version.V1P2:
            r.note("roles", "is missing")
        return ()
    if not orgs:
        return (RoleAssignment("primary", role, None),)
    return tuple(
        RoleAssignment("primary" if i == 0 else "secondary", role, org) for i, org in enumerate(orgs)
    )


def _user_ids(r: _Reader) -> tuple[UserId, ...]:
    value = r.obj.get("userIds")
    if value is None or value == []:
        return ()
    if not isinstance(value, list):
        r.note("userIds", "should be a list")
        return ()
    out = []
    for item in value:
        if _is_map(item):
            t, i = item.get("type"), item.get("identifier")
            out.append(UserId(t if isinstance(t, str) else None, str(i) if i is not None else None))
        else:
            r.note("userIds", "has an entry that is not an object")
    return tuple(out)


def _user(r: _Reader, c: dict, v: Version) -> User:
    return User(
        **c,
        username=r.str("username", required=v is Version.V1P1),
        enabled_user=r.bool("enabledUser"),
        given_name=r.str("givenName", required=True),
        family_name=r.str("familyName", required=True),
        middle_name=r.str("middleName"),
        preferred_first_name=r.str("preferredFirstName") or r.str("preferredGivenName"),
        preferred_middle_name=r.str("preferredMiddleName"),
        preferred_last_name=r.str("preferredLastName") or r.str("preferredFamilyName"),
        pronouns=r.str("pronouns"),
        roles=_roles(r, v),
        user_ids=_user_ids(r),
        user_master_identifier=r.str("userMasterIdentifier"),
        identifier=r.str("identifier"),
        email=r.str("email"),
        sms=r.str("sms"),
        phone=r.str("phone"),
        agents=r.refs("agents", "user"),
        grades=r.strings("grades"),
        primary_org=r.ref("primaryOrg", "org"),
    )


def _enrollment(r: _Reader, c: dict, v: Version) -> Enrollment:
    return Enrollment(
        **c,
        user=r.ref("user", "user", required=True),
        class_=r.ref("class", "class", required=True),
        school=r.ref("school", "org"),
        role=r.enum("role", ENROLLMENT_ROLES, required=True),
        primary=r.bool("primary"),
        begin_date=r.str("beginDate"),
        end_date=r.str("endDate"),
    )


def _demographics(r: _Reader, c: dict, v: Version) -> Demographics:
    return Demographics(
        **c,
        birth_date=r.str("birthDate"),
        sex=r.enum("sex", SEX_V1P2),
        races={name: r.bool(name) for name in RACE_FIELDS},
        country_of_birth_code=r.str("countryOfBirthCode"),
        state_of_birth_abbreviation=r.str("stateOfBirthAbbreviation"),
        city_of_birth=r.str("cityOfBirth"),
        public_school_residence_status=r.str("publicSchoolResidenceStatus"),
    )


_PARSERS = {
    Kind.ORG: _org,
    Kind.ACADEMIC_SESSION: _session,
    Kind.COURSE: _course,
    Kind.CLASS: _class,
    Kind.USER: _user,
    Kind.ENROLLMENT: _enrollment,
    Kind.DEMOGRAPHICS: _demographics,
}

RECORD_TYPES: dict[Kind, type[Record]] = {
    Kind.ORG: Org,
    Kind.ACADEMIC_SESSION: AcademicSession,
    Kind.COURSE: Course,
    Kind.CLASS: Class,
    Kind.USER: User,
    Kind.ENROLLMENT: Enrollment,
    Kind.DEMOGRAPHICS: Demographics,
}


def parse_record(kind: Kind, obj: Any, version: Version = Version.V1P1) -> Record:
    """Read one raw object of ``kind`` leniently; raises :class:`RecordError` only without a sourcedId."""
    reader, common = _common(kind, obj, version)
    record = _PARSERS[kind](reader, common, version)
    record.problems = reader.problems
    return record

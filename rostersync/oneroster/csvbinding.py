"""The OneRoster CSV binding (1.1 and 1.2.1), with no I/O of its own.

Reads text given to it (any iterable of lines: an open text file, the lines
of a zip entry) and turns each row into a JSON-ready record dict in the REST
shape of its version, so :func:`~rostersync.oneroster.records.parse_record`
reads CSV and JSON alike. The column sets are those of ONEROSTER.md section 6.

Reading is lenient and reporting precise. Everything that is not quite
right becomes a :class:`Finding` naming file, line and column:

* header: a BOM, column-name case, REST names used as column names
  (``parent`` for ``parentSourcedId``), blank or repeated column names,
  unknown columns (kept in the record, like unknown JSON fields; ``metadata.x``
  columns go to ``metadata``), missing columns;
* rows: too many or too few cells, no ``sourcedId``, bytes that are not UTF-8
  (decoded with ``surrogateescape`` by the caller), cells over the size bound
  are reported and the row skipped (yielded as a ``Finding`` of severity
  ``error``); enum case (``Scheduled``), the retired ``inactive`` status,
  space-separated grades, malformed dates are fixed up or dropped and reported.

Bulk rows with a blank status read as ``active``. Passwords (users.csv,
userProfiles.csv) are never carried into a record.

``csv.field_size_limit`` is process-wide; reading sets it to
:data:`MAX_CELL`, the standard library's own default.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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

MAX_CELL = 131_072  # characters in one cell (csv's default field_size_limit)

Mode = Literal["bulk", "delta", "absent"]
Severity = Literal["error", "warning"]

_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_USER_ID = re.compile(r"\{([^{}:]*):([^{}]*)\}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE_FALSE = {"true": "true", "false": "false"}


@dataclass(frozen=True, slots=True)
class Finding:
    """One precise finding about a CSV file: where, and what is wrong.

    ``error`` means data was not read (a row or a file skipped, a value
    dropped); ``warning`` means it was read with a fix-up.
    """

    file: str
    line: int | None
    column: str | None
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class CsvFormatError(RostersyncError):
    """A CSV file cannot be read at all."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(str(finding))


# ---------------------------------------------------------------------------
# column sets


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # CSV column, e.g. "schoolSourcedId"
    field: str  # REST field, e.g. "school"
    conv: str = "str"  # str|status|datetime|date|bool|list|grades|ref:T|refs:T|userIds|enum|secret
    allowed: tuple[str, ...] = ()  # for conv "enum"


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str  # canonical file stem, e.g. "userProfiles"
    kind: Kind | None  # None for roles and userProfiles, which fold into users
    columns: tuple[Column, ...]
    required: Mapping[Version, tuple[str, ...]]  # columns the standard requires
    essential: tuple[str, ...] = ("sourcedId",)  # without these the file is unreadable
    aliases: Mapping[str, str] = field(default_factory=dict)  # REST-style header -> column

    @property
    def filename(self) -> str:
        return self.name + ".csv"

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def column_for_field(self, rest_field: str) -> str:
        """The CSV column a REST field comes from (for reporting record problems)."""
        for col in self.columns:
            if col.field == rest_field:
                return col.name
        return rest_field


def _common() -> tuple[Column, ...]:
    return (Column("sourcedId", "sourcedId"), Column("status", "status", "status"),
            Column("dateLastModified", "dateLastModified", "datetime"))


def _both(*names: str) -> dict[Version, tuple[str, ...]]:
    return {Version.V1P1: names, Version.V1P2: names}


_RACES = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
          "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
          "hispanicOrLatinoEthnicity")

FILES: dict[str, FileSpec] = {s.name: s for s in (
    FileSpec("orgs", Kind.ORG, (
        *_common(), Column("name", "name"), Column("type", "type", "enum", ORG_TYPES),
        Column("identifier", "identifier"), Column("parentSourcedId", "parent", "ref:org"),
        Column("childSourcedIds", "children", "refs:org"),
    ), _both("name", "type"), aliases={"parent": "parentSourcedId", "children": "childSourcedIds"}),
    FileSpec("academicSessions", Kind.ACADEMIC_SESSION, (
        *_common(), Column("title", "title"), Column("type", "type", "enum", SESSION_TYPES),
        Column("startDate", "startDate", "date"), Column("endDate", "endDate", "date"),
        Column("parentSourcedId", "parent", "ref:academicSession"), Column("schoolYear", "schoolYear"),
        Column("childSourcedIds", "children", "refs:academicSession"),
    ), _both("title", "type", "startDate", "endDate", "schoolYear"),
        aliases={"parent": "parentSourcedId", "children": "childSourcedIds"}),
    FileSpec("courses", Kind.COURSE, (
        *_common(), Column("schoolYearSourcedId", "schoolYear", "ref:academicSession"),
        Column("title", "title"), Column("courseCode", "courseCode"), Column("grades", "grades", "grades"),
        Column("orgSourcedId", "org", "ref:org"), Column("subjects", "subjects", "list"),
        Column("subjectCodes", "subjectCodes", "list"),
    ), _both("title", "orgSourcedId"), aliases={"schoolYear": "schoolYearSourcedId", "org": "orgSourcedId"}),
    FileSpec("classes", Kind.CLASS, (
        *_common(), Column("title", "title"), Column("grades", "grades", "grades"),
        Column("courseSourcedId", "course", "ref:course"), Column("classCode", "classCode"),
        Column("classType", "classType", "enum", CLASS_TYPES), Column("location", "location"),
        Column("schoolSourcedId", "school", "ref:org"), Column("termSourcedIds", "terms", "refs:academicSession"),
        Column("subjects", "subjects", "list"), Column("subjectCodes", "subjectCodes", "list"),
        Column("periods", "periods", "list"),
    ), _both("title", "courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"),
        aliases={"course": "courseSourcedId", "school": "schoolSourcedId", "terms": "termSourcedIds"}),
    FileSpec("users", Kind.USER, (
        *_common(), Column("enabledUser", "enabledUser", "bool"), Column("orgSourcedIds", "orgs", "refs:org"),
        Column("role", "role", "enum", ROLES_V1P2), Column("username", "username"),
        Column("userIds", "userIds", "userIds"), Column("givenName", "givenName"),
        Column("familyName", "familyName"), Column("middleName", "middleName"),
        Column("identifier", "identifier"), Column("email", "email"), Column("sms", "sms"),
        Column("phone", "phone"), Column("agentSourcedIds", "agents", "refs:user"),
        Column("grades", "grades", "grades"), Column("password", "password", "secret"),
        Column("userMasterIdentifier", "userMasterIdentifier"),
        Column("preferredGivenName", "preferredFirstName"), Column("preferredMiddleName", "preferredMiddleName"),
        Column("preferredFamilyName", "preferredLastName"),
        Column("primaryOrgSourcedId", "primaryOrg", "ref:org"), Column("pronouns", "pronouns"),
    ), {Version.V1P1: ("enabledUser", "orgSourcedIds", "role", "username", "givenName", "familyName"),
        Version.V1P2: ("enabledUser", "givenName", "familyName")},
        aliases={"orgs": "orgSourcedIds", "agents": "agentSourcedIds", "primaryOrg": "primaryOrgSourcedId",
                 "preferredFirstName": "preferredGivenName", "preferredLastName": "preferredFamilyName"}),
    FileSpec("enrollments", Kind.ENROLLMENT, (
        *_common(), Column("classSourcedId", "class", "ref:class"), Column("schoolSourcedId", "school", "ref:org"),
        Column("userSourcedId", "user", "ref:user"), Column("role", "role", "enum", ENROLLMENT_ROLES),
        Column("primary", "primary", "bool"), Column("beginDate", "beginDate", "date"),
        Column("endDate", "endDate", "date"),
    ), _both("classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        aliases={"class": "classSourcedId", "school": "schoolSourcedId", "user": "userSourcedId"}),
    FileSpec("demographics", Kind.DEMOGRAPHICS, (
        *_common(), Column("birthDate", "birthDate", "date"), Column("sex", "sex", "enum", SEX_V1P2),
        *(Column(name, name, "bool") for name in _RACES),
        *(Column(name, name) for name in ("countryOfBirthCode", "stateOfBirthAbbreviation", "cityOfBirth",
                                          "publicSchoolResidenceStatus")),
    ), _both()),
    FileSpec("roles", None, (
        *_common(), Column("userSourcedId", "user", "ref:user"),
        Column("roleType", "roleType", "enum", ("primary", "secondary")),
        Column("role", "role", "enum", ROLES_V1P2), Column("beginDate", "beginDate", "date"),
        Column("endDate", "endDate", "date"), Column("orgSourcedId", "org", "ref:org"),
        Column("userProfileSourcedId", "userProfile"),
    ), _both("userSourcedId", "roleType", "role", "orgSourcedId"),
        essential=("sourcedId", "userSourcedId", "role"), aliases={"user": "userSourcedId", "org": "orgSourcedId"}),
    FileSpec("userProfiles", None, (
        *_common(), Column("userSourcedId", "user", "ref:user"), Column("profileType", "profileType"),
        Column("vendorId", "vendorId"), Column("applicationId", "applicationId"),
        Column("description", "description"), Column("credentialType", "credentialType"),
        Column("username", "username"), Column("password", "password", "secret"),
    ), _both("userSourcedId", "profileType", "vendorId"),
        essential=("sourcedId", "userSourcedId", "profileType", "vendorId"), aliases={"user": "userSourcedId"}),
)}

FILE_FOR_KIND: dict[Kind, str] = {spec.kind: name for name, spec in FILES.items() if spec.kind is not None}


def canonical_file(filename: str) -> str | None:
    """The canonical stem of a OneRoster CSV file name, whatever its case (``userprofiles.csv``)."""
    stem = filename[:-4] if filename.lower().endswith(".csv") else filename
    for name in FILES:
        if name.lower() == stem.lower():
            return name
    return None


# ---------------------------------------------------------------------------
# manifest


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.csv`` says (or what was assumed when there is none)."""

    version: Version
    files: Mapping[str, Mode | None]  # canonical stem -> mode; None: listed with a blank or bad value
    manifest_version: str | None = None
    source_system_name: str | None = None
    source_system_code: str | None = None
    declared: bool = True  # False: there was no manifest.csv

    def mode(self, name: str) -> Mode | None:
        return self.files.get(name)


def parse_manifest(lines: Iterable[str], *, report: Callable[[Finding], None],
                   fallback_version: Version = Version.V1P1, file: str = "manifest.csv") -> Manifest:
    """Read ``manifest.csv`` (``propertyName,value``) leniently; blank or odd values are reported."""
    _set_field_limit()
    files: dict[str, Mode | None] = {}
    props: dict[str, str | None] = {}
    version: Version | None = None
    reader = csv.reader(_strip_bom(lines))
    try:
        for row in reader:
            line = reader.line_num
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            key, value = cells[0], (cells[1] if len(cells) > 1 else "")
            if line == 1 and key.lower() == "propertyname":
                continue
            if len(cells) > 2 and any(cells[2:]):
                report(Finding(file, line, None, f"{len(cells)} cells where 2 belong; extra cells ignored"))
            low = key.lower()
            if low.startswith("file."):
                stem = canonical_file(key[5:]) or key[5:]
                mode = value.lower()
                if mode in ("bulk", "delta", "absent"):
                    files[stem] = mode  # type: ignore[assignment]
                else:
                    files[stem] = None
                    what = "has no value" if not value else f"has {value[:40]!r}, not bulk, delta or absent"
                    report(Finding(file, line, "value", f"{key} {what}"))
            elif low == "oneroster.version":
                version = _version(value)
                if version is None:
                    report(Finding(file, line, "value", f"oneroster.version {value[:40]!r} is not 1.1 or 1.2; "
                                   f"read as {fallback_version.value}"))
            elif low in ("manifest.version", "source.systemname", "source.systemcode"):
                props[low] = value or None
            else:
                report(Finding(file, line, "propertyName", f"unknown property {key[:60]!r}; ignored"))
    except csv.Error as exc:
        report(Finding(file, reader.line_num, None, f"unreadable: {exc}; the rest was ignored", "error"))
    return Manifest(
        version=version or fallback_version,
        files=files,
        manifest_version=props.get("manifest.version"),
        source_system_name=props.get("source.systemname"),
        source_system_code=props.get("source.systemcode"),
    )


def _version(value: str) -> Version | None:
    if value in ("1.1", "1.1.0", "v1p1"):
        return Version.V1P1
    if value in ("1.2", "1.2.0", "1.2.1", "v1p2"):
        return Version.V1P2
    return None


# ---------------------------------------------------------------------------
# rows


@dataclass(frozen=True, slots=True)
class Row:
    """One readable row: its line and its record in the REST shape."""

    file: str
    line: int
    record: dict[str, Any]

    @property
    def sourced_id(self) -> str:
        return self.record["sourcedId"]


@dataclass(slots=True)
class Header:
    """How a file's header maps cells to columns."""

    spec: FileSpec
    positions: list[tuple[int, Column | None, str]]  # (cell index, known column or None, header name)
    width: int  # cells a row should have
    missing: frozenset[str]  # columns the standard requires that the header lacks
    sourced_id_at: int  # cell index of sourcedId


def read_header(cells: list[str], *, spec: FileSpec, version: Version, file: str, line: int = 1,
                report: Callable[[Finding], None]) -> Header:
    """Map header cells to columns; raise :class:`CsvFormatError` when an essential column is missing."""
    found: list[Finding] = []
    names = [c.strip().lstrip("\ufeff").strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    if len(names) < len(cells):
        found.append(Finding(file, line, None, f"the header ends with {len(cells) - len(names)} blank column name(s); "
                       "they were ignored"))
    by_lower = {c.name.lower(): c for c in spec.columns}
    aliases = {k.lower(): v for k, v in spec.aliases.items()}
    seen: set[str] = set()
    positions: list[tuple[int, Column | None, str]] = []
    for index, name in enumerate(names):
        col = by_lower.get(name.lower())
        if col is None and name.lower() in aliases and aliases[name.lower()].lower() not in seen:
            col = spec.column(aliases[name.lower()])
            assert col is not None
            found.append(Finding(file, line, name, f"is a REST field name; read as {col.name}"))
        elif col is not None and col.name != name:
            found.append(Finding(file, line, name, f"read as {col.name} (column names are case-sensitive)"))
        if not name:
            found.append(Finding(file, line, f"#{index + 1}", "blank column name; its cells were ignored"))
            continue
        key = col.name.lower() if col else name.lower()
        if key in seen:
            found.append(Finding(file, line, name, "appears twice; the second was ignored"))
            continue
        seen.add(key)
        if col is None and not name.startswith("metadata."):
            hint = difflib.get_close_matches(name, [c.name for c in spec.columns], n=1, cutoff=0.8)
            did = f" (did you mean {hint[0]}?)" if hint else ""
            found.append(Finding(file, line, name, f"unknown column{did}; kept as an extra field"))
        positions.append((index, col, name))
    present = {col.name for _, col, _ in positions if col}
    lacking = [name for name in spec.essential if name not in present]
    if lacking:
        raise CsvFormatError(Finding(file, line, ", ".join(lacking), "missing from the header, so the file was "
                                     f"not read (its header is {', '.join(names)[:200]})", "error"))
    missing = frozenset(n for n in spec.required[version] if n not in present)
    for name in sorted(missing):
        found.append(Finding(file, line, name, "the header has no such column, which the standard requires"))
    for finding in found:
        report(finding)
    sourced_id_at = next(i for i, col, _ in positions if col is not None and col.name == "sourcedId")
    return Header(spec, positions, len(names), missing, sourced_id_at)


class RowReader:
    """Streams the rows of one file: a :class:`Row` per readable row, a ``Finding`` per skipped one.

    Fix-ups go to ``report``. Iterating raises :class:`CsvFormatError` when the
    file has no header or lacks an essential column. ``line`` is the last
    physical line read; ``missing`` the required columns the header lacks.
    """

    def __init__(self, lines: Iterable[str], *, spec: FileSpec, version: Version, mode: Mode,
                 report: Callable[[Finding], None], file: str | None = None) -> None:
        self.lines, self.spec, self.version, self.mode, self.report = lines, spec, version, mode, report
        self.file = file or spec.filename
        self.header: Header | None = None
        self.line = 0

    @property
    def missing(self) -> frozenset[str]:
        return self.header.missing if self.header else frozenset()

    def __iter__(self) -> Iterator[Row | Finding]:
        _set_field_limit()
        reader = csv.reader(_strip_bom(self.lines))
        file = self.file
        while True:
            start = self.line + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.line = reader.line_num
                yield Finding(file, start, None, _csv_error(exc), "error")
                continue
            self.line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if self.header is None:
                self.header = read_header(cells, spec=self.spec, version=self.version, file=file, line=start,
                                          report=self.report)
                continue
            yield _row(cells, self.header, self.mode, file, start, self.report)
        if self.header is None:
            raise CsvFormatError(Finding(file, None, None, "the file is empty (no header row)", "error"))


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    if "field limit" in text:
        return f"a cell is longer than {MAX_CELL} characters; row skipped"
    return f"unreadable row ({text}); row skipped"


def _row(cells: list[str], header: Header, mode: Mode, file: str, line: int,
         report: Callable[[Finding], None]) -> Row | Finding:
    if len(cells) < header.width or (len(cells) > header.width and any(c.strip() for c in cells[header.width:])):
        return Finding(file, line, None, f"{len(cells)} cells where the header has {header.width}; row skipped",
                       "error")
    for index, col, name in header.positions:
        if _NOT_UTF8.search(cells[index]):
            return Finding(file, line, name, "bytes that are not UTF-8; row skipped (save the file as UTF-8)",
                           "error")
    if not cells[header.sourced_id_at].strip():
        return Finding(file, line, "sourcedId", "row has no sourcedId; row skipped", "error")
    record: dict[str, Any] = {}
    extras: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for index, col, name in header.positions:
        value = cells[index].strip()
        if col is None:
            if value:
                if name.startswith("metadata.") and len(name) > 9:
                    metadata[name[9:]] = value
                else:
                    extras[name] = value
            continue
        converted = _convert(col, value, file, line, report)
        if converted is not None:
            record[col.field] = converted
    if "status" not in record:
        if mode == "delta":
            report(Finding(file, line, "status", "a delta row without a status; read as active"))
        record["status"] = "active"
    if mode == "delta" and "dateLastModified" not in record:
        report(Finding(file, line, "dateLastModified", "a delta row without a dateLastModified"))
    if metadata:
        record["metadata"] = metadata
    for name, value in extras.items():
        record.setdefault(name, value)
    return Row(file, line, record)


def _convert(col: Column, value: str, file: str, line: int, report: Callable[[Finding], None]) -> Any:
    if not value or col.conv == "secret":
        return None
    conv = col.conv
    if conv == "str":
        return value
    if conv == "status":
        low = value.lower()
        if low == "inactive":
            report(Finding(file, line, col.name, "'inactive' is the retired 1.0 status; read as tobedeleted"))
            return "tobedeleted"
        return _enum(col, value, ("active", "tobedeleted"), file, line, report)
    if conv == "enum":
        return _enum(col, value, col.allowed, file, line, report)
    if conv == "bool":
        return _TRUE_FALSE.get(value.lower(), value)
    if conv == "datetime":
        return _datetime(col, value, file, line, report)
    if conv == "date":
        if not _DATE.fullmatch(value):
            report(Finding(file, line, col.name, f"{value[:40]!r} is not a YYYY-MM-DD date"))
        return value
    if conv == "list":
        return _split(value)
    if conv == "grades":
        if "," not in value and " " in value:
            report(Finding(file, line, col.name, f"{value[:40]!r} separates grades with spaces; "
                           "read as a list (OneRoster CSV separates values with commas)"))
            return value.split()
        return _split(value)
    if conv.startswith("ref:"):
        return {"sourcedId": value, "type": conv[4:]}
    if conv.startswith("refs:"):
        return [{"sourcedId": part, "type": conv[5:]} for part in _split(value)]
    if conv == "userIds":
        found = _USER_ID.findall(value)
        rest = _USER_ID.sub("", value).replace(",", "").strip()
        if rest or not found:
            report(Finding(file, line, col.name, f"{value[:60]!r} is not a list of {{type:identifier}}; "
                           "the unreadable part was ignored"))
        return [{"type": t.strip(), "identifier": i.strip()} for t, i in found] or None
    raise AssertionError(f"unknown converter {conv}")


def _enum(col: Column, value: str, allowed: tuple[str, ...], file: str, line: int,
          report: Callable[[Finding], None]) -> str:
    if value in allowed:
        return value
    for option in allowed:
        if option.lower() == value.lower():
            report(Finding(file, line, col.name, f"{value!r} read as {option!r}"))
            return option
    return value  # parse_record reports values outside the enum


def _datetime(col: Column, value: str, file: str, line: int, report: Callable[[Finding], None]) -> str | None:
    if _DATE.fullmatch(value):
        report(Finding(file, line, col.name, f"{value!r} is a date without a time; read as {value}T00:00:00Z"))
        return value + "T00:00:00Z"
    if parse_datetime(value) is None:
        report(Finding(file, line, col.name, f"{value[:40]!r} is not an ISO 8601 date-time; ignored", "error"))
        return None
    return value


def parse_datetime(value: str) -> datetime.datetime | None:
    """An aware datetime from ISO 8601 text (naive means UTC), or None when unreadable."""
    try:
        parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


# ---------------------------------------------------------------------------
# 1.2.1: roles.csv and userProfiles.csv fold into users


def role_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """A roles.csv record as an entry of a 1.2 user's ``roles[]`` (the RoleDType fields only)."""
    entry = {k: record[k] for k in _ROLE_FIELDS if k in record}
    entry.setdefault("roleType", "primary")
    return entry


_ROLE_FIELDS = ("roleType", "role", "org", "userProfile", "beginDate", "endDate")
_PROFILE_FIELDS = ("profileType", "vendorId", "applicationId", "description")


def profile_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """A userProfiles.csv record as an entry of a 1.2 user's ``userProfiles[]`` (never its password)."""
    entry: dict[str, Any] = {"profileId": record["sourcedId"]}
    entry.update({k: record[k] for k in _PROFILE_FIELDS if k in record})
    credential = {k: v for k, v in (("type", record.get("credentialType")), ("username", record.get("username"))) if v}
    if credential:
        entry["credentials"] = [credential]
    return entry


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        if first:
            line = line.lstrip("\ufeff")
            first = False
        yield line


def _set_field_limit() -> None:
    if csv.field_size_limit() != MAX_CELL:
        csv.field_size_limit(MAX_CELL)

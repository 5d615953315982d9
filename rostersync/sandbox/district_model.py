"""The sandbox district's compact internal data: calendar, entities, columns.

Small collections (orgs, sessions, courses, classes) are lists of slotted
objects sorted by sourcedId. People and enrollments, the bulk of a district,
are columns (``array``/``bytearray``/lists of shared strings) indexed by a
slot that never moves: a record that vanishes keeps its slot with state
:data:`GONE`. Numeric ids are allocated in ascending order with a fixed number
of digits, so slot order is sourcedId order.

Timestamps are integer milliseconds since the Unix epoch; dates are integer
days since the epoch.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from ..errors import Terminal

ACTIVE, TOBEDELETED, GONE = 0, 1, 2
STATUS = ("active", "tobedeleted")
STUDENT, TEACHER = 0, 1

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

GRADES = ("PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
ELEMENTARY = tuple(range(0, 7))  # PK..05 as indexes into GRADES
MIDDLE = tuple(range(7, 10))  # 06..08
HIGH = tuple(range(10, 14))  # 09..12
SEX = ("male", "female", "unspecified", "other")
RACE_FLAGS = (  # bit i of a person's race byte
    "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)


class SandboxError(Terminal):
    """The sandbox district cannot do what was asked."""


def day_of(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


class _Dates(dict):
    """``DATES[day]`` is ``YYYY-MM-DD`` of a day number, worked out once per day (a district's
    dates span a few thousand days: birth dates and the school year)."""

    def __missing__(self, day: int) -> str:
        text = self[day] = date.fromordinal(day + _EPOCH_ORDINAL).isoformat()
        return text


DATES = _Dates()
# The time of day in three looked-up pieces: "THH:MM:", "SS." and "mmmZ" (2,500 short strings).
_HOUR_MINUTE = tuple(f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SECOND = tuple(f"{s:02d}." for s in range(60))
_MILLI = tuple(f"{m:03d}Z" for m in range(1000))


def iso_date(day: int) -> str:
    """``YYYY-MM-DD`` of a day number."""
    return DATES[day]


def iso_ms(ms: int) -> str:
    """ISO 8601 UTC with milliseconds and Z, e.g. ``2026-08-17T14:03:22.517Z``."""
    rem = ms % DAY_MS
    minute = rem % 60_000
    return DATES[ms // DAY_MS] + _HOUR_MINUTE[rem // 60_000] + _SECOND[minute // 1000] + _MILLI[minute % 1000]


def parse_timestamp(text: str) -> int:
    """Milliseconds of an ISO 8601 timestamp (a date alone means its midnight UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (AttributeError, ValueError) as exc:
        raise SandboxError(
            f"timestamp {text!r} is not ISO 8601 (expected e.g. 2026-08-17T14:03:22.517Z)"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return delta.days * DAY_MS + delta.seconds * 1000 + delta.microseconds // 1000


# The school year ------------------------------------------------------------

SCHOOL_YEAR = "2027"  # OneRoster schoolYear: the calendar year the school year ends
YEAR_START, YEAR_END = date(2026, 7, 1), date(2027, 7, 1)
FIRST_DAY = date(2026, 8, 17)  # a Monday
TERMS = (  # (title, start, end exclusive, grading periods)
    ("Semester 1", date(2026, 8, 17), date(2027, 1, 9),
     (("Quarter 1", date(2026, 8, 17), date(2026, 10, 17)),
      ("Quarter 2", date(2026, 10, 19), date(2027, 1, 9)))),
    ("Semester 2", date(2027, 1, 11), date(2027, 6, 5),
     (("Quarter 3", date(2027, 1, 11), date(2027, 3, 20)),
      ("Quarter 4", date(2027, 3, 22), date(2027, 6, 5)))),
)
_HOLIDAYS = {date(2026, 9, 7), date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27),
             date(2027, 1, 18), date(2027, 2, 15), date(2027, 5, 31)}
_HOLIDAYS |= {date(2026, 12, 21) + timedelta(days=i) for i in range(12)}  # winter break
_HOLIDAYS |= {date(2027, 3, 29) + timedelta(days=i) for i in range(5)}  # spring break


def _school_days() -> tuple[date, ...]:
    out, d = [], FIRST_DAY
    while d < TERMS[-1][2]:
        if d.weekday() < 5 and d not in _HOLIDAYS:
            out.append(d)
        d += timedelta(days=1)
    return tuple(out)


SCHOOL_DAYS = _school_days()  # school day N (1-based) is SCHOOL_DAYS[N - 1]


def school_date(day: int) -> date:
    """The calendar date of school day ``day``; day 0 is the Sunday before the first day."""
    if not isinstance(day, int) or isinstance(day, bool) or day < 0:
        raise SandboxError(f"day must be a whole number >= 0, got {day!r}")
    if day > len(SCHOOL_DAYS):
        raise SandboxError(
            f"day {day} is past the last school day of the year ({len(SCHOOL_DAYS)})",
            fix=f"use a day between 0 and {len(SCHOOL_DAYS)}",
        )
    return FIRST_DAY - timedelta(days=1) if day == 0 else SCHOOL_DAYS[day - 1]


def now_ms(day: int) -> int:
    """The district's clock after school day ``day``: 23:00 UTC that date."""
    return day_of(school_date(day)) * DAY_MS + 23 * HOUR_MS


# Entities ---------------------------------------------------------------------

@dataclass(slots=True)
class Org:
    sid: str
    name: str
    type: str  # district | school
    identifier: str
    parent: str | None
    children: list[str]
    dlm: int
    number: str = ""  # IC school number, served in metadata
    grades: tuple[int, ...] = ()  # indexes into GRADES taught here


@dataclass(slots=True)
class Session:
    sid: str
    title: str
    type: str  # schoolYear | term | gradingPeriod
    start: int
    end: int
    parent: str | None
    children: list[str]
    dlm: int
    school: str | None = None  # the school whose calendar holds this term


@dataclass(slots=True)
class Course:
    sid: str
    title: str
    code: str
    grades: tuple[int, ...]
    subject: str
    subject_code: str
    school: int  # index into Roster.schools
    dlm: int
    role: str = "core"  # homeroom | core | elective


@dataclass(slots=True)
class Section:
    sid: str
    title: str
    code: str
    homeroom: bool
    room: str
    course: int  # index into Roster.courses
    school: int
    terms: tuple[str, ...]
    period: int  # 0 for homerooms
    dlm: int
    number: int  # section number within its course


def _ints() -> array:
    return array("q")


@dataclass(slots=True)
class People:
    """Users (and the demographics of students), one slot per person."""

    ids: array = field(default_factory=_ints)  # personID, ascending
    role: bytearray = field(default_factory=bytearray)
    school: array = field(default_factory=_ints)  # index into Roster.schools
    school2: array = field(default_factory=_ints)  # a second school (teachers), or -1
    grade: bytearray = field(default_factory=bytearray)
    style: bytearray = field(default_factory=bytearray)  # names.NameMaker style
    given: list = field(default_factory=list)
    family: list = field(default_factory=list)
    middle: list = field(default_factory=list)
    preferred: list = field(default_factory=list)
    login: array = field(default_factory=_ints)  # username suffix counter (1 = none)
    number: array = field(default_factory=_ints)  # student / staff number
    state_id: array = field(default_factory=_ints)
    user_state: bytearray = field(default_factory=bytearray)
    demo_state: bytearray = field(default_factory=bytearray)
    user_dlm: array = field(default_factory=_ints)
    demo_dlm: array = field(default_factory=_ints)
    birth: array = field(default_factory=_ints)  # day number
    sex: bytearray = field(default_factory=bytearray)
    race: bytearray = field(default_factory=bytearray)
    birthplace: bytearray = field(default_factory=bytearray)
    residence: bytearray = field(default_factory=bytearray)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(slots=True)
class Enrollments:
    """Student (``s`` + rosterID) or teacher (``t`` + historyID) enrollments."""

    prefix: str
    ids: array = field(default_factory=_ints)
    user: array = field(default_factory=_ints)  # People slot
    section: array = field(default_factory=_ints)  # index into Roster.sections
    begin: array = field(default_factory=_ints)  # day number
    end: array = field(default_factory=_ints)  # day number (exclusive), 0 when open
    primary: bytearray = field(default_factory=bytearray)  # 0 n/a, 1 "true", 2 "false"
    state: bytearray = field(default_factory=bytearray)
    dlm: array = field(default_factory=_ints)

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, rid: int, user: int, section: int, begin: int, primary: int, dlm: int) -> int:
        self.ids.append(rid)
        self.user.append(user)
        self.section.append(section)
        self.begin.append(begin)
        self.end.append(0)
        self.primary.append(primary)
        self.state.append(ACTIVE)
        self.dlm.append(dlm)
        return len(self.ids) - 1


@dataclass
class Roster:
    """Everything the district is, as data; built by district_build, changed by churn."""

    seed: int
    students: int
    name: str
    domain: str
    state_code: str
    district: Org
    schools: list[Org]  # sorted by sourcedId
    sessions: list[Session]  # sorted by sourcedId
    courses: list[Course]  # sorted by sourcedId
    sections: list[Section]  # sorted by sourcedId
    people: People
    student_enrollments: Enrollments
    teacher_enrollments: Enrollments
    school_teachers: list[list[int]]  # per school: teacher slots
    school_sections: list[list[int]]  # per school: section indexes
    course_sections: list[list[int]]  # per course: section indexes
    logins: dict[str, int]  # username base -> last suffix used
    next_person: int
    next_roster: int
    next_history: int
    next_number: int
    day: int = 0
    term_of: dict[str, int] = field(default_factory=dict)  # term sid -> 0 | 1 (semester)

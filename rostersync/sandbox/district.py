"""A simulated Infinite Campus district: the sandbox's data, served as OneRoster.

``generate(seed=..., students=..., day=...)`` builds a deterministic district
(same arguments, byte-identical records) of any size from one 30-student
school to hundreds of thousands of students; :meth:`District.advance` plays
school days of churn (see :mod:`.churn`). Records are kept compact and
rendered on access, per version, in sourcedId order, with Infinite Campus ids
(ONEROSTER.md section 5): users ``s``/``t`` + personID in 1.1 and the bare
personID in 1.2, enrollments ``s`` + rosterID / ``t`` + historyID, classes
sectionIDs, courses courseIDs, sessions termIDs.

A district is not thread-safe while it advances; a view returned by
:meth:`District.records` shows the district as it is when read (compare
``view.revision`` with :attr:`District.revision`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from ..oneroster.kinds import Kind, Version
from .churn import CATEGORIES, DayLog, apply_day
from .district_build import build
from .district_model import GONE, SCHOOL_DAYS, STUDENT, TEACHER, SandboxError, iso_ms, now_ms, parse_timestamp
from .district_render import Renderer, RecordView
from .names import NameMaker

MAX_STUDENTS = 1_000_000
RECORDS_PER_STUDENT = 6.35  # measured: records of every kind per student at day 0 (10k-170k students)


def _version(version: Version | str) -> Version:
    try:
        return Version(version)
    except ValueError:
        raise SandboxError(f"unknown OneRoster version {version!r} (expected '1.1' or '1.2')") from None


def _kind(kind: Kind | str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        names = ", ".join(k.value for k in Kind)
        raise SandboxError(f"unknown record kind {kind!r} (expected one of {names})") from None


def _whole(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SandboxError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


class District:
    """One sandbox district at one school day. Build it with :func:`generate`."""

    def __init__(self, *, seed: int, students: int) -> None:
        self.seed = seed
        self.students = students
        self._names = NameMaker()
        self._roster = build(seed, students)
        self._render = Renderer(self._roster)
        self._logs: dict[int, DayLog] = {}
        self._views: dict[tuple[Kind, Version], RecordView] = {}
        self._index: dict[Kind, dict[str, int]] = {}
        self.revision = 0

    @property
    def day(self) -> int:
        return self._roster.day

    @property
    def now(self) -> str:
        """The district's clock: 23:00 UTC of the current school day (day 0: the eve of day 1)."""
        return iso_ms(now_ms(self.day))

    @property
    def schools(self) -> list[str]:
        """The sourcedIds of the schools, sorted."""
        return sorted(s.sid for s in self._roster.schools)

    # reading ------------------------------------------------------------------------
    def records(self, kind: Kind | str, version: Version | str) -> Sequence[dict[str, Any]]:
        """Every served record of ``kind`` as ``version`` shapes it, sorted by sourcedId, rendered lazily."""
        kind, version = _kind(kind), _version(version)
        view = self._views.get((kind, version))
        if view is None or view.revision != self.revision:
            view = RecordView(self._render.many(kind), self._rows(kind, version), version, self.revision)
            self._views[(kind, version)] = view
        return view

    def selection(self, resource: Any, version: Version | str) -> Sequence[int] | None:
        """Positions in :meth:`records` of the users ``/students`` or ``/teachers`` lists, read from
        the roster without rendering a record; None for any other selection."""
        version = _version(version)
        wanted = {("role", "student"): STUDENT, ("role", "teacher"): TEACHER}.get(resource.select)
        if resource.kind is not Kind.USER or wanted is None:
            return None
        role = self._roster.people.role
        return array("q", (i for i, slot in enumerate(self._rows(Kind.USER, version)) if role[slot] == wanted))

    def count(self, kind: Kind | str) -> int:
        return len(self.records(kind, Version.V1P1))

    def get(self, kind: Kind | str, sourced_id: str, version: Version | str) -> dict[str, Any] | None:
        """One served record by sourcedId (the id style of ``version``), or None."""
        kind, version = _kind(kind), _version(version)
        if not isinstance(sourced_id, str):
            return None
        row = self._find(kind, sourced_id, version)
        return None if row is None else self._render.many(kind)((row,), version)[0]

    def changed_since(self, kind: Kind | str, timestamp: str, version: Version | str) -> list[str]:
        """SourcedIds of served records with ``dateLastModified > timestamp``, sorted."""
        kind, version = _kind(kind), _version(version)
        since = parse_timestamp(timestamp)
        sid = self._sid(kind, version)
        dlm = self._dlm(kind)
        return [sid(row) for row in self._rows(kind, version) if dlm(row) > since]

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed, "students": self.students, "day": self.day, "now": self.now,
            "revision": self.revision, "name": self._roster.name,
            "counts": {kind.value: self.count(kind) for kind in Kind},
            "schools": self.schools,
        }

    def changes(self, day: int, version: Version | str = Version.V1P1) -> dict[Kind, dict[str, list[str]]]:
        """What school day ``day`` (1..self.day) created, updated, deleted and marked tobedeleted."""
        version = _version(version)
        if day not in self._logs:
            raise SandboxError(
                f"no changes recorded for day {day!r}: this district has played days 1..{self.day}"
                " (day 0 is the initial roster)")
        out: dict[Kind, dict[str, list[str]]] = {}
        for kind, categories in self._logs[day].items():
            sid = self._sid(kind, version)
            out[kind] = {c: sorted(sid(k) for k in categories[c]) for c in CATEGORIES}
        return out

    # changing ---------------------------------------------------------------------------
    def advance(self, days: int = 1) -> None:
        """Play ``days`` school days of churn, in place."""
        _whole("days", days, 0, len(SCHOOL_DAYS))
        if self.day + days > len(SCHOOL_DAYS):
            raise SandboxError(
                f"cannot advance {days} days from day {self.day}: the school year has "
                f"{len(SCHOOL_DAYS)} school days")
        for _ in range(days):
            day = self.day + 1
            self._logs[day] = apply_day(self._roster, self._names, day)
            self.revision += 1

    # internals ------------------------------------------------------------------------
    def _sid(self, kind: Kind, version: Version):
        r, render = self._roster, self._render
        if kind is Kind.ORG:
            return lambda i: r.district.sid if i < 0 else r.schools[i].sid
        if kind is Kind.ACADEMIC_SESSION:
            return lambda i: r.sessions[i].sid
        if kind is Kind.COURSE:
            return lambda i: r.courses[i].sid
        if kind is Kind.CLASS:
            return lambda i: r.sections[i].sid
        if kind is Kind.ENROLLMENT:
            return render.enrollment_sid
        return lambda slot: render.user_sid(slot, version)

    def _dlm(self, kind: Kind):
        r = self._roster
        p, se, te = r.people, r.student_enrollments, r.teacher_enrollments
        return {
            Kind.ORG: lambda i: (r.district if i < 0 else r.schools[i]).dlm,
            Kind.ACADEMIC_SESSION: lambda i: r.sessions[i].dlm,
            Kind.COURSE: lambda i: r.courses[i].dlm,
            Kind.CLASS: lambda i: r.sections[i].dlm,
            Kind.USER: lambda s: p.user_dlm[s],
            Kind.DEMOGRAPHICS: lambda s: p.demo_dlm[s],
            Kind.ENROLLMENT: lambda c: se.dlm[c] if c >= 0 else te.dlm[-c - 1],
        }[kind]

    def _rows(self, kind: Kind, version: Version) -> Sequence[int]:
        r = self._roster
        if kind is Kind.ORG:
            return sorted([-1, *range(len(r.schools))],
                          key=lambda i: r.district.sid if i < 0 else r.schools[i].sid)
        if kind in (Kind.ACADEMIC_SESSION, Kind.COURSE, Kind.CLASS):
            items = {Kind.ACADEMIC_SESSION: r.sessions, Kind.COURSE: r.courses, Kind.CLASS: r.sections}[kind]
            return range(len(items))  # built in ascending, fixed-width id order
        p = r.people
        if kind is Kind.DEMOGRAPHICS:
            state, role = p.demo_state, p.role
            return array("q", (s for s in range(len(p)) if state[s] != GONE and role[s] == STUDENT))
        if kind is Kind.USER:
            state, role = p.user_state, p.role
            live = [s for s in range(len(p)) if state[s] != GONE]
            if version is Version.V1P1:  # "s..." ids sort before "t..." ids
                live = [s for s in live if role[s] == STUDENT] + [s for s in live if role[s] == TEACHER]
            return array("q", live)
        se, te = r.student_enrollments, r.teacher_enrollments
        rows = array("q", (i for i in range(len(se)) if se.state[i] != GONE))
        rows.extend(-(i + 1) for i in range(len(te)) if te.state[i] != GONE)
        return rows

    def _find(self, kind: Kind, sid: str, version: Version) -> int | None:
        r = self._roster
        if kind in (Kind.USER, Kind.DEMOGRAPHICS):
            p = r.people
            role = None
            digits = sid
            if version is Version.V1P1:
                role = {"s": STUDENT, "t": TEACHER}.get(sid[:1])
                digits = sid[1:]
                if role is None:
                    return None
            slot = _locate(p.ids, digits)
            if slot is None or (role is not None and p.role[slot] != role):
                return None
            if kind is Kind.USER:
                return slot if p.user_state[slot] != GONE else None
            return slot if p.role[slot] == STUDENT and p.demo_state[slot] != GONE else None
        if kind is Kind.ENROLLMENT:
            table = {"s": r.student_enrollments, "t": r.teacher_enrollments}.get(sid[:1])
            row = None if table is None else _locate(table.ids, sid[1:])
            if row is None or table.state[row] == GONE:
                return None
            return row if table is r.student_enrollments else -(row + 1)
        index = self._index.get(kind)
        if index is None:
            ids = {Kind.ORG: None, Kind.ACADEMIC_SESSION: r.sessions, Kind.COURSE: r.courses,
                   Kind.CLASS: r.sections}[kind]
            if ids is None:
                index = {s.sid: i for i, s in enumerate(r.schools)}
                index[r.district.sid] = -1
            else:
                index = {s.sid: i for i, s in enumerate(ids)}
            self._index[kind] = index
        return index.get(sid)


def _locate(ids: array, digits: str) -> int | None:
    """The slot holding numeric id ``digits`` in an ascending id column."""
    if not digits.isascii() or not digits.isdigit() or digits.startswith("0"):
        return None
    value = int(digits)
    i = bisect_left(ids, value)
    return i if i < len(ids) and ids[i] == value else None


def generate(*, seed: int = 1, students: int = 1000, day: int = 0) -> District:
    """The district (``seed``, ``students``) as it stands after school day ``day``."""
    _whole("seed", seed, -(2**63), 2**63 - 1)
    _whole("students", students, 1, MAX_STUDENTS)
    _whole("day", day, 0, len(SCHOOL_DAYS))
    district = District(seed=seed, students=students)
    district.advance(day)
    return district


def records_for_total(n: int) -> int:
    """The ``students`` that yields about ``n`` records of all kinds in total."""
    _whole("n", n, 1, int(MAX_STUDENTS * RECORDS_PER_STUDENT))
    return max(1, min(MAX_STUDENTS, round(n / RECORDS_PER_STUDENT)))

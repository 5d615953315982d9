"""Rendering the sandbox district's compact data as OneRoster 1.1 / 1.2 JSON.

Every function builds a fresh dict (callers may mutate what they get). Shapes
follow ONEROSTER.md section 3 for 1.1 and the official 1.2 rostering OpenAPI
document for 1.2 (booleans there are the strings "true"/"false", as in 1.1).
Absent optional fields are omitted, never null. GUIDRefs use the id style of
the version served and hrefs relative to the service base (``/users/123``).

Enrollment rows are coded as one int: ``row`` for a student enrollment,
``-(row + 1)`` for a teacher enrollment (see :func:`enrollment_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..oneroster.kinds import Version
from .district_model import (
    GRADES,
    RACE_FLAGS,
    SCHOOL_YEAR,
    SEX,
    STATUS,
    STUDENT,
    Roster,
    iso_date,
    iso_ms,
)
from .district_people import BIRTHPLACES, RESIDENCE, username

V1P1 = Version.V1P1


def ref(collection: str, kind: str, sid: str) -> dict[str, str]:
    return {"href": f"/{collection}/{sid}", "sourcedId": sid, "type": kind}


def enrollment_code(teacher: bool, row: int) -> int:
    return -(row + 1) if teacher else row


class Renderer:
    """Turns slots and indexes of a :class:`Roster` into JSON-ready dicts."""

    def __init__(self, roster: Roster) -> None:
        self.r = roster
        self.year_sid = roster.sessions[0].sid
        self.org_sids = [s.sid for s in roster.schools]

    # ids ------------------------------------------------------------------------
    def user_sid(self, slot: int, version: Version) -> str:
        people = self.r.people
        pid = str(people.ids[slot])
        if version is V1P1:
            return ("s" if people.role[slot] == STUDENT else "t") + pid
        return pid

    def enrollment_sid(self, code: int) -> str:
        if code >= 0:
            return f"s{self.r.student_enrollments.ids[code]}"
        return f"t{self.r.teacher_enrollments.ids[-code - 1]}"

    def _org_ref(self, school: int) -> dict[str, str]:
        return ref("orgs", "org", self.org_sids[school])

    # kinds ----------------------------------------------------------------------
    def org(self, index: int, version: Version) -> dict[str, Any]:
        """``index`` -1 is the district, else a school index."""
        r = self.r
        org = r.district if index < 0 else r.schools[index]
        out: dict[str, Any] = {"sourcedId": org.sid, "status": "active",
                               "dateLastModified": iso_ms(org.dlm)}
        if org.number:
            out["metadata"] = {"ic": {"schoolNumber": org.number,
                                      "gradeSpan": [GRADES[g] for g in org.grades]}}
        out["name"] = org.name
        out["type"] = org.type
        out["identifier"] = org.identifier
        if org.parent:
            out["parent"] = ref("orgs", "org", org.parent)
        if org.children:
            out["children"] = [ref("orgs", "org", c) for c in org.children]
        return out

    def session(self, index: int, version: Version) -> dict[str, Any]:
        s = self.r.sessions[index]
        out: dict[str, Any] = {
            "sourcedId": s.sid, "status": "active", "dateLastModified": iso_ms(s.dlm),
            "title": s.title, "type": s.type, "startDate": iso_date(s.start), "endDate": iso_date(s.end),
            "schoolYear": SCHOOL_YEAR,
        }
        if s.parent:
            out["parent"] = ref("academicSessions", "academicSession", s.parent)
        if s.children:
            out["children"] = [ref("academicSessions", "academicSession", c) for c in s.children]
        return out

    def course(self, index: int, version: Version) -> dict[str, Any]:
        c = self.r.courses[index]
        return {
            "sourcedId": c.sid, "status": "active", "dateLastModified": iso_ms(c.dlm),
            "title": c.title,
            "schoolYear": ref("academicSessions", "academicSession", self.year_sid),
            "courseCode": c.code, "grades": [GRADES[g] for g in c.grades], "subjects": [c.subject],
            "org": self._org_ref(c.school), "subjectCodes": [c.subject_code],
        }

    def section(self, index: int, version: Version) -> dict[str, Any]:
        r = self.r
        s = r.sections[index]
        c = r.courses[s.course]
        out: dict[str, Any] = {
            "sourcedId": s.sid, "status": "active", "dateLastModified": iso_ms(s.dlm),
            "metadata": {"ic": {"sectionNumber": str(s.number), "courseNumber": c.code}},
            "title": s.title, "classCode": s.code, "classType": "homeroom" if s.homeroom else "scheduled",
            "location": s.room, "grades": [GRADES[g] for g in c.grades], "subjects": [c.subject],
            "course": ref("courses", "course", c.sid), "school": self._org_ref(s.school),
            "terms": [ref("academicSessions", "academicSession", t) for t in s.terms],
            "subjectCodes": [c.subject_code],
        }
        if s.period:
            out["periods"] = [str(s.period)]
        return out

    def user(self, slot: int, version: Version) -> dict[str, Any]:
        r = self.r
        p = r.people
        student = p.role[slot] == STUDENT
        sid = self.user_sid(slot, version)
        number, state_id = str(p.number[slot]), str(p.state_id[slot])
        out: dict[str, Any] = {"sourcedId": sid, "status": STATUS[p.user_state[slot]],
                               "dateLastModified": iso_ms(p.user_dlm[slot])}
        if version is V1P1:
            if student:
                out["metadata"] = {"ic": {"stateId": state_id}}
        else:
            ic = {"legacysourceId": self.user_sid(slot, V1P1)}
            if student:
                ic["stateId"] = state_id
            out["metadata"] = {"ic": ic}
            out["userMasterIdentifier"] = state_id
        login = username(r, slot)
        out["username"] = login
        out["userIds"] = [{"type": "studentNumber" if student else "staffNumber", "identifier": number},
                          {"type": "stateId", "identifier": state_id}]
        out["enabledUser"] = "true"
        out["givenName"] = p.given[slot]
        out["familyName"] = p.family[slot]
        if p.middle[slot]:
            out["middleName"] = p.middle[slot]
        role = "student" if student else "teacher"
        schools = [p.school[slot]] + ([p.school2[slot]] if p.school2[slot] >= 0 else [])
        if version is V1P1:
            out["role"] = role
        else:
            if p.preferred[slot]:
                out["preferredFirstName"] = p.preferred[slot]
            out["roles"] = [{"roleType": "primary", "role": role, "org": self._org_ref(s)} for s in schools]
            out["primaryOrg"] = self._org_ref(schools[0])
        out["identifier"] = number
        out["email"] = f"{login}@students.{r.domain}" if student else f"{login}@{r.domain}"
        if version is V1P1:
            out["orgs"] = [self._org_ref(s) for s in schools]
        if student:
            out["grades"] = [GRADES[p.grade[slot]]]
        return out

    def demographics(self, slot: int, version: Version) -> dict[str, Any]:
        p = self.r.people
        out: dict[str, Any] = {"sourcedId": self.user_sid(slot, version),
                               "status": STATUS[p.demo_state[slot]],
                               "dateLastModified": iso_ms(p.demo_dlm[slot]),
                               "birthDate": iso_date(p.birth[slot])}
        sex = p.sex[slot]
        if sex < 2 or version is not V1P1:  # 1.1 knows only male and female
            out["sex"] = SEX[sex]
        race = p.race[slot]
        for bit, name in enumerate(RACE_FLAGS):
            out[name] = "true" if race >> bit & 1 else "false"
        country, state, city = BIRTHPLACES[p.birthplace[slot]]
        out["countryOfBirthCode"] = country
        if state:
            out["stateOfBirthAbbreviation"] = state
        out["cityOfBirth"] = city
        out["publicSchoolResidenceStatus"] = RESIDENCE[p.residence[slot]]
        return out

    def enrollment(self, code: int, version: Version) -> dict[str, Any]:
        r = self.r
        teacher = code < 0
        table = r.teacher_enrollments if teacher else r.student_enrollments
        row = -code - 1 if teacher else code
        section = r.sections[table.section[row]]
        out: dict[str, Any] = {
            "sourcedId": f"{table.prefix}{table.ids[row]}", "status": STATUS[table.state[row]],
            "dateLastModified": iso_ms(table.dlm[row]),
            "user": ref("users", "user", self.user_sid(table.user[row], version)),
            "class": ref("classes", "class", section.sid),
            "school": self._org_ref(section.school),
            "role": "teacher" if teacher else "student",
        }
        if teacher:
            out["primary"] = "true" if table.primary[row] == 1 else "false"
        out["beginDate"] = iso_date(table.begin[row])
        if table.end[row]:
            out["endDate"] = iso_date(table.end[row])
        return out


class RecordView(Sequence):
    """A lazily rendered, read-only list of records: ``rows`` rendered on access."""

    __slots__ = ("_render", "_rows", "_version", "revision")

    def __init__(self, render: Callable[[int, Version], dict], rows: Sequence[int],
                 version: Version, revision: int) -> None:
        self._render = render
        self._rows = rows
        self._version = version
        self.revision = revision  # the district revision this view shows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._render(row, self._version) for row in self._rows[index]]
        return self._render(self._rows[index], self._version)

    def __iter__(self):
        for row in self._rows:
            yield self._render(row, self._version)

    def __repr__(self) -> str:
        return f"<RecordView {len(self)} records>"

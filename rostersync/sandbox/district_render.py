"""Rendering the sandbox district's compact data as OneRoster 1.1 / 1.2 JSON.

Every function builds fresh dicts, nested ones included (callers may mutate
what they get). Shapes follow ONEROSTER.md section 3 for 1.1 and the official
1.2 rostering OpenAPI document for 1.2 (booleans there are the strings
"true"/"false", as in 1.1). Absent optional fields are omitted, never null.
GUIDRefs use the id style of the version served and hrefs relative to the
service base (``/users/123``).

Records are rendered a batch at a time (``Renderer.users(slots, version)``
and so on; the provider asks for a few dozen at a time, see
:func:`~rostersync.provider.source.record_parts`), with the district's
columns bound once per batch rather than looked up per record.
Users, demographics and enrollments, nearly all of a district, have their own
batch loops; the small collections render record by record. A single record
is a batch of one.

Enrollment rows are coded as one int: ``row`` for a student enrollment,
``-(row + 1)`` for a teacher enrollment (see :func:`enrollment_code`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..oneroster.kinds import Kind, Version
from .district_model import (
    DATES,
    GRADES,
    RACE_FLAGS,
    SCHOOL_YEAR,
    SEX,
    STATUS,
    STUDENT,
    TEACHER,
    Roster,
    iso_date,
    iso_ms,
)
from .district_people import BIRTHPLACES, RESIDENCE
from .names import FOLDS

V1P1 = Version.V1P1
Batch = Callable[[Sequence[int], Version], list[dict[str, Any]]]
# A user's sourcedId prefix by role (STUDENT 0, TEACHER 1): "s"/"t" + personID in 1.1, the bare personID in 1.2.
_ROLE_PREFIX = {Version.V1P1: ("s", "t"), Version.V1P2: ("", "")}
assert (STUDENT, TEACHER) == (0, 1)


def ref(collection: str, kind: str, sid: str) -> dict[str, str]:
    return {"href": f"/{collection}/{sid}", "sourcedId": sid, "type": kind}


def enrollment_code(teacher: bool, row: int) -> int:
    return -(row + 1) if teacher else row


class Renderer:
    """Turns slots and indexes of a :class:`Roster` into JSON-ready dicts."""

    def __init__(self, roster: Roster) -> None:
        self.r = roster
        self.year_sid = roster.sessions[0].sid
        self.org_sids = [s.sid for s in roster.schools]  # schools never change after the build
        self._org_hrefs = [f"/orgs/{sid}" for sid in self.org_sids]
        self._class_refs: list[tuple[str, str, int]] = []  # per section: href, sourcedId, school
        # Demographics fields shared by many students, in served key order: the race flags per race
        # byte, and countryOfBirthCode, stateOfBirthAbbreviation (when known), cityOfBirth per birthplace.
        self._race_fields = [{name: "true" if race >> bit & 1 else "false" for bit, name in enumerate(RACE_FLAGS)}
                             for race in range(1 << len(RACE_FLAGS))]
        self._birthplace_fields = [
            {"countryOfBirthCode": country, **({"stateOfBirthAbbreviation": state} if state else {}),
             "cityOfBirth": city}
            for country, state, city in BIRTHPLACES]

    def many(self, kind: Kind) -> Batch:
        """The batch renderer of ``kind``: ``(rows, version) -> [record, ...]``."""
        return {
            Kind.ORG: self.orgs, Kind.ACADEMIC_SESSION: self.sessions, Kind.COURSE: self.courses,
            Kind.CLASS: self.sections, Kind.USER: self.users, Kind.DEMOGRAPHICS: self.demographics,
            Kind.ENROLLMENT: self.enrollments,
        }[kind]

    # ids ------------------------------------------------------------------------
    def user_sid(self, slot: int, version: Version) -> str:
        people = self.r.people
        return _ROLE_PREFIX[version][people.role[slot]] + str(people.ids[slot])

    def enrollment_sid(self, code: int) -> str:
        if code >= 0:
            return f"s{self.r.student_enrollments.ids[code]}"
        return f"t{self.r.teacher_enrollments.ids[-code - 1]}"

    def _org_ref(self, school: int) -> dict[str, str]:
        return ref("orgs", "org", self.org_sids[school])

    def _classes(self) -> list[tuple[str, str, int]]:
        sections = self.r.sections
        if len(self._class_refs) != len(sections):
            self._class_refs = [(f"/classes/{s.sid}", s.sid, s.school) for s in sections]
        return self._class_refs

    # the small kinds, record by record --------------------------------------------
    def orgs(self, indexes: Sequence[int], version: Version) -> list[dict[str, Any]]:
        return [self.org(i, version) for i in indexes]

    def sessions(self, indexes: Sequence[int], version: Version) -> list[dict[str, Any]]:
        return [self.session(i, version) for i in indexes]

    def courses(self, indexes: Sequence[int], version: Version) -> list[dict[str, Any]]:
        return [self.course(i, version) for i in indexes]

    def sections(self, indexes: Sequence[int], version: Version) -> list[dict[str, Any]]:
        return [self.section(i, version) for i in indexes]

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

    # the bulk: users, demographics, enrollments, a batch at a time --------------------
    def users(self, slots: Sequence[int], version: Version) -> list[dict[str, Any]]:
        r = self.r
        p = r.people
        ids, role, state, dlm = p.ids, p.role, p.user_state, p.user_dlm
        number, state_ids, login, grade = p.number, p.state_id, p.login, p.grade
        given, family, middle, preferred = p.given, p.family, p.middle, p.preferred
        school, school2 = p.school, p.school2
        org_hrefs, org_sids = self._org_hrefs, self.org_sids
        folds, stamp = FOLDS, iso_ms
        v11 = version is V1P1
        student_mail, staff_mail = f"@students.{r.domain}", f"@{r.domain}"
        out = []
        append = out.append
        for slot in slots:
            student = role[slot] == STUDENT
            pid = str(ids[slot])
            legacy = ("s" if student else "t") + pid
            ident, state_id = str(number[slot]), str(state_ids[slot])
            name = folds[given[slot]] + "." + folds[family[slot]]
            counter = login[slot]
            if counter != 1:
                name += str(counter)
            if v11:
                record: dict[str, Any] = {"sourcedId": legacy, "status": STATUS[state[slot]],
                                          "dateLastModified": stamp(dlm[slot])}
                if student:
                    record["metadata"] = {"ic": {"stateId": state_id}}
            else:
                ic = {"legacysourceId": legacy, "stateId": state_id} if student else {"legacysourceId": legacy}
                record = {"sourcedId": pid, "status": STATUS[state[slot]], "dateLastModified": stamp(dlm[slot]),
                          "metadata": {"ic": ic}, "userMasterIdentifier": state_id}
            record["username"] = name
            record["userIds"] = [{"type": "studentNumber" if student else "staffNumber", "identifier": ident},
                                 {"type": "stateId", "identifier": state_id}]
            record["enabledUser"] = "true"
            record["givenName"] = given[slot]
            record["familyName"] = family[slot]
            if middle[slot]:
                record["middleName"] = middle[slot]
            first, second = school[slot], school2[slot]
            orgs = [{"href": org_hrefs[first], "sourcedId": org_sids[first], "type": "org"}]
            if second >= 0:
                orgs.append({"href": org_hrefs[second], "sourcedId": org_sids[second], "type": "org"})
            role_name = "student" if student else "teacher"
            if v11:
                record["role"] = role_name
            else:
                if preferred[slot]:
                    record["preferredFirstName"] = preferred[slot]
                roles = [{"roleType": "primary", "role": role_name, "org": orgs[0]}]
                if second >= 0:
                    roles.append({"roleType": "primary", "role": role_name, "org": orgs[1]})
                record["roles"] = roles
                record["primaryOrg"] = {"href": org_hrefs[first], "sourcedId": org_sids[first], "type": "org"}
            record["identifier"] = ident
            record["email"] = name + (student_mail if student else staff_mail)
            if v11:
                record["orgs"] = orgs
            if student:
                record["grades"] = [GRADES[grade[slot]]]
            append(record)
        return out

    def demographics(self, slots: Sequence[int], version: Version) -> list[dict[str, Any]]:
        p = self.r.people
        ids, role, state, dlm, birth = p.ids, p.role, p.demo_state, p.demo_dlm, p.birth
        sexes, races, birthplaces, residences = p.sex, p.race, p.birthplace, p.residence
        race_fields, birthplace_fields = self._race_fields, self._birthplace_fields
        prefix, dates, stamp = _ROLE_PREFIX[version], DATES, iso_ms
        every_sex = version is not V1P1  # 1.1 knows only male and female
        out = []
        append = out.append
        for slot in slots:
            record: dict[str, Any] = {"sourcedId": prefix[role[slot]] + str(ids[slot]),
                                      "status": STATUS[state[slot]], "dateLastModified": stamp(dlm[slot]),
                                      "birthDate": dates[birth[slot]]}
            sex = sexes[slot]
            if sex < 2 or every_sex:
                record["sex"] = SEX[sex]
            record.update(race_fields[races[slot]])
            record.update(birthplace_fields[birthplaces[slot]])
            record["publicSchoolResidenceStatus"] = RESIDENCE[residences[slot]]
            append(record)
        return out

    def enrollments(self, codes: Sequence[int], version: Version) -> list[dict[str, Any]]:
        r = self.r
        people = r.people
        person_ids, person_role = people.ids, people.role
        se, te = r.student_enrollments, r.teacher_enrollments
        classes, org_hrefs, org_sids = self._classes(), self._org_hrefs, self.org_sids
        prefix, dates, stamp = _ROLE_PREFIX[version], DATES, iso_ms
        out = []
        append = out.append
        for code in codes:
            if code >= 0:
                table, row = se, code
            else:
                table, row = te, -code - 1
            user = table.user[row]
            uid = prefix[person_role[user]] + str(person_ids[user])
            class_href, class_sid, school = classes[table.section[row]]
            record: dict[str, Any] = {
                "sourcedId": table.prefix + str(table.ids[row]), "status": STATUS[table.state[row]],
                "dateLastModified": stamp(table.dlm[row]),
                "user": {"href": "/users/" + uid, "sourcedId": uid, "type": "user"},
                "class": {"href": class_href, "sourcedId": class_sid, "type": "class"},
                "school": {"href": org_hrefs[school], "sourcedId": org_sids[school], "type": "org"},
            }
            if code >= 0:
                record["role"] = "student"
            else:
                record["role"] = "teacher"
                record["primary"] = "true" if table.primary[row] == 1 else "false"
            record["beginDate"] = dates[table.begin[row]]
            end = table.end[row]
            if end:
                record["endDate"] = dates[end]
            append(record)
        return out


class RecordView(Sequence):
    """A lazily rendered, read-only list of records: ``rows`` rendered on access, a batch at a time."""

    __slots__ = ("_render", "_rows", "_version", "revision")

    BATCH = 50  # records rendered per call when iterating (few: see provider.source.PART_RECORDS)

    def __init__(self, render: Batch, rows: Sequence[int], version: Version, revision: int) -> None:
        self._render = render  # (rows, version) -> records
        self._rows = rows
        self._version = version
        self.revision = revision  # the district revision this view shows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self._render(self._rows[index], self._version)
        return self._render((self._rows[index],), self._version)[0]

    def take(self, positions: Sequence[int]) -> list[dict[str, Any]]:
        """The records at ``positions`` (each ``0 <= p < len(self)``), rendered in one call."""
        rows = self._rows
        if type(positions) is range and positions.step == 1:
            return self._render(rows[positions.start:positions.stop], self._version)
        return self._render([rows[p] for p in positions], self._version)

    def __iter__(self):
        rows, step = self._rows, self.BATCH
        for start in range(0, len(rows), step):
            yield from self._render(rows[start:start + step], self._version)

    def __repr__(self) -> str:
        return f"<RecordView {len(self)} records>"

"""Build a sandbox district's day-0 roster from (seed, students).

The shape: one district org; under 150 students a single K-12 school,
otherwise elementary (PK-05, ~450 students), middle (06-08, ~650) and high
(09-12, ~1300) schools. One school year; each school's calendar has two terms
(semesters) of two grading periods. Elementary students sit in one homeroom;
secondary students take four core courses for their grade and one to four
electives (5 to 8 classes), scheduled into distinct periods where sections
allow. Every class has exactly one primary teacher; some have a co-teacher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from .district_model import (
    DAY_MS,
    ELEMENTARY,
    FIRST_DAY,
    GRADES,
    HIGH,
    MIDDLE,
    TERMS,
    YEAR_END,
    YEAR_START,
    Course,
    Enrollments,
    Org,
    People,
    Roster,
    Section,
    Session,
    day_of,
)
from .district_people import US_STATES, add_student, add_teacher, grade_label
from .names import NameMaker, district_name, place_names

SMALL_DISTRICT = 150  # fewer students: one K-12 school
SCHOOL_SIZE = {"elementary": 450, "middle": 650, "high": 1300}
HOMEROOM_CAP, SECTION_CAP, PERIODS = 24, 28, 8
_FIPS = {"MN": 27, "IA": 19, "WI": 55, "CO": 8, "TX": 48, "CA": 6, "WA": 53, "IL": 17, "NE": 31,
         "MI": 26, "OH": 39}

# (subject, short title, titles for grades 06..12, SCED area, course code prefix)
CORE = (
    ("English Language Arts", "English",
     ("ELA 6", "ELA 7", "ELA 8", "English 9", "English 10", "English 11", "English 12"), "01", "ENG"),
    ("Mathematics", "Math",
     ("Math 6", "Math 7", "Pre-Algebra", "Algebra I", "Geometry", "Algebra II", "Pre-Calculus"), "02", "MTH"),
    ("Science", "Science",
     ("Science 6", "Life Science", "Physical Science", "Biology", "Chemistry", "Physics",
      "Environmental Science"), "03", "SCI"),
    ("Social Studies", "Social Studies",
     ("World Cultures", "State History", "U.S. History to 1877", "World History", "U.S. History",
      "Government and Economics", "Psychology and Sociology"), "04", "SOC"),
)
# (title, subject, SCED area, code, full year?, popularity)
ELECTIVES_MIDDLE = (
    ("Physical Education", "Physical Education", "08", "PE", True, 5),
    ("Art", "Fine and Performing Arts", "05", "ART", False, 3),
    ("Band", "Fine and Performing Arts", "05", "BND", True, 2),
    ("Choir", "Fine and Performing Arts", "05", "CHR", True, 2),
    ("Orchestra", "Fine and Performing Arts", "05", "ORC", True, 1),
    ("Spanish I", "World Languages", "06", "SPN1", True, 2),
    ("Health", "Health Education", "08", "HLT", False, 3),
    ("Computer Science Discoveries", "Computer Science", "10", "CSD", False, 2),
)
ELECTIVES_HIGH = (
    ("Physical Education", "Physical Education", "08", "PE", True, 3),
    ("Health", "Health Education", "08", "HLT", False, 3),
    ("Spanish I", "World Languages", "06", "SPN1", True, 2),
    ("Spanish II", "World Languages", "06", "SPN2", True, 2),
    ("French I", "World Languages", "06", "FRN1", True, 1),
    ("Mandarin I", "World Languages", "06", "MAN1", True, 1),
    ("Art I", "Fine and Performing Arts", "05", "ART1", False, 2),
    ("Ceramics", "Fine and Performing Arts", "05", "CER", False, 1),
    ("Band", "Fine and Performing Arts", "05", "BND", True, 1),
    ("Choir", "Fine and Performing Arts", "05", "CHR", True, 1),
    ("AP Computer Science A", "Computer Science", "10", "APCSA", True, 1),
    ("Personal Finance", "Business", "12", "PFIN", False, 2),
    ("Journalism", "English Language Arts", "01", "JRN", True, 1),
    ("Engineering Design", "Engineering and Technology", "21", "ENGR", True, 1),
    ("Creative Writing", "English Language Arts", "01", "CWR", False, 1),
)
_CLASS_COUNT = ((5, 1), (6, 3), (7, 4), (8, 2))  # classes per secondary student, weighted


@dataclass
class _Plan:
    kind: str  # elementary | middle | high | k12
    counts: dict[int, int]  # grade index -> students


def _split(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    out = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _plan(rng: Random, students: int) -> list[_Plan]:
    weights = [(0.5 if g == 0 else 1.0) * rng.uniform(0.93, 1.07) for g in range(len(GRADES))]
    per_grade = _split(students, weights)
    if students < SMALL_DISTRICT:
        return [_Plan("k12", {g: n for g, n in enumerate(per_grade)})]
    plans = []
    for kind, band in (("elementary", ELEMENTARY), ("middle", MIDDLE), ("high", HIGH)):
        total = sum(per_grade[g] for g in band)
        n = max(1, min(total, round(total / SCHOOL_SIZE[kind])))
        sizes = [rng.uniform(0.75, 1.25) for _ in range(n)]
        split = [_split(per_grade[g], sizes) for g in band]
        plans.extend(_Plan(kind, {g: split[k][i] for k, g in enumerate(band)}) for i in range(n))
    return plans


def _groups(grades: list[int], counts: dict[int, int], minimum: int) -> list[tuple[int, ...]]:
    """Consecutive grades merged until each group has ``minimum`` students (small schools)."""
    groups: list[list[int]] = []
    size = 0
    for g in grades:
        if not groups or size >= minimum:
            groups.append([])
            size = 0
        groups[-1].append(g)
        size += counts[g]
    if len(groups) > 1 and size < minimum:
        groups[-2].extend(groups.pop())
    return [tuple(g) for g in groups]


class _Ids:
    """Ascending ids of a fixed width, with small random gaps."""

    def __init__(self, rng: Random, start: int) -> None:
        self.rng, self.value = rng, start

    def next(self) -> str:
        self.value += self.rng.randint(1, 3)
        return str(self.value)


def _width_start(rng: Random, expected: int) -> int:
    """A start so that ``expected`` ids with gaps up to 3 keep one width."""
    width = 5
    while 10 ** (width - 1) * 1.2 + 4 * expected + 1000 >= 10 ** width:
        width += 1
    return 10 ** (width - 1) + rng.randrange(10 ** (width - 1) // 10)


class _Builder:
    def __init__(self, seed: int, students: int) -> None:
        self.rng = rng = Random(f"rostersync.sandbox/{seed}/{students}")
        self.names = NameMaker()
        self._june1 = day_of(FIRST_DAY.replace(month=6, day=1)) * DAY_MS
        self._summer_span = (day_of(FIRST_DAY) - 3) * DAY_MS - self._june1
        name, domain = district_name(rng)
        state = rng.choice(US_STATES)
        plans = _plan(rng, students)
        leaid = f"{_FIPS[state]:02d}{rng.randrange(10000, 99999)}"
        district = Org(str(rng.randint(1, 9)), name, "district", leaid, None, [], self._ms(2025, 240, 120))
        stems = place_names(rng, len(plans))
        suffix = {"elementary": "Elementary School", "middle": "Middle School",
                  "high": "High School", "k12": "K-12 School"}
        school_start = 100 if len(plans) < 800 else 1000
        schools = []
        for i, plan in enumerate(plans):
            sid = str(school_start + i)
            schools.append(Org(
                sid, f"{stems[i]} {suffix[plan.kind]}", "school", f"{leaid}{rng.randrange(10000, 99999)}",
                district.sid, [], self._ms(2025, 240, 300), number=f"{i + 1:03d}",
                grades=tuple(g for g, n in sorted(plan.counts.items()) if n),
            ))
        district.children = [s.sid for s in schools]
        people_ids = _width_start(rng, students * 2)
        self.roster = Roster(
            seed=seed, students=students, name=name, domain=domain, state_code=state,
            district=district, schools=schools, sessions=[], courses=[], sections=[],
            people=People(), student_enrollments=Enrollments("s"), teacher_enrollments=Enrollments("t"),
            school_teachers=[[] for _ in schools], school_sections=[[] for _ in schools], course_sections=[],
            logins={}, next_person=people_ids, next_roster=_width_start(rng, students * 10),
            next_history=_width_start(rng, students),
            next_number=100_000 + rng.randrange(50_000),
        )
        self.plans = plans
        self.session_ids = _Ids(rng, 10_000 + rng.randrange(5_000))
        self.course_ids = _Ids(rng, _width_start(rng, len(plans) * 40))
        self.section_ids = _Ids(rng, _width_start(rng, students // 4 + 100))

    def _ms(self, year: int, day_of_year: int, spread_days: int) -> int:
        """A random moment within ``spread_days`` from day ``day_of_year`` of ``year``."""
        start = day_of(date(year, 1, 1) + timedelta(days=day_of_year)) * DAY_MS
        return start + self.rng.randrange(spread_days * DAY_MS)

    def _summer(self) -> int:
        """A day-0 user/enrollment timestamp: June 1 .. August 13, 2026."""
        return self._june1 + self.rng.randrange(self._summer_span)

    def run(self) -> Roster:
        roster = self.roster
        self._sessions()
        for index, plan in enumerate(self.plans):
            self._school(index, plan)
        roster.course_sections = [[] for _ in roster.courses]
        for i, section in enumerate(roster.sections):
            roster.course_sections[section.course].append(i)
        return roster

    # sessions -----------------------------------------------------------------
    def _sessions(self) -> None:
        roster = self.roster
        dlm = self._ms(2026, 90, 30)
        year = Session(self.session_ids.next(), "2026-2027", "schoolYear", day_of(YEAR_START),
                       day_of(YEAR_END), None, [], dlm)
        roster.sessions.append(year)
        self.school_terms: list[tuple[str, str]] = []
        for school in roster.schools:
            term_sids = []
            for half, (title, start, end, periods) in enumerate(TERMS):
                term = Session(self.session_ids.next(), title, "term", day_of(start), day_of(end),
                               year.sid, [], dlm, school=school.sid)
                roster.sessions.append(term)
                roster.term_of[term.sid] = half
                year.children.append(term.sid)
                term_sids.append(term.sid)
                for gp_title, gp_start, gp_end in periods:
                    gp = Session(self.session_ids.next(), gp_title, "gradingPeriod", day_of(gp_start),
                                 day_of(gp_end), term.sid, [], dlm, school=school.sid)
                    roster.sessions.append(gp)
                    term.children.append(gp.sid)
            self.school_terms.append((term_sids[0], term_sids[1]))

    # one school ---------------------------------------------------------------
    def _course(self, title: str, code: str, grades: tuple[int, ...], subject: str,
                subject_code: str, school: int, role: str) -> int:
        roster = self.roster
        roster.courses.append(Course(self.course_ids.next(), title, code, grades, subject,
                                     subject_code, school, self._ms(2026, 120, 90), role))
        return len(roster.courses) - 1

    def _begin(self, section: int) -> int:
        """The first day of a section's first term."""
        roster = self.roster
        return day_of(TERMS[roster.term_of[roster.sections[section].terms[0]]][1])

    def _section(self, course: int, school: int, terms: tuple[str, ...], period: int,
                 number: int, room: int) -> int:
        roster = self.roster
        c = roster.courses[course]
        roster.sections.append(Section(
            self.section_ids.next(), f"{c.title} - {number}", f"{c.code}-{number}", period == 0,
            f"Room {room}", course, school, terms, period, self._ms(2026, 150, 60), number,
        ))
        roster.school_sections[school].append(len(roster.sections) - 1)
        return len(roster.sections) - 1

    def _school(self, index: int, plan: _Plan) -> None:
        rng, roster = self.rng, self.roster
        order = [g for g, n in sorted(plan.counts.items()) for _ in range(n)]
        rng.shuffle(order)
        by_grade: dict[int, list[int]] = {g: [] for g in plan.counts}
        for g in order:
            by_grade[g].append(add_student(roster, rng, self.names, index, g, self._summer()))
        primaries: list[tuple[int, int]] = []  # (section, teacher slot)
        elementary = [g for g in sorted(plan.counts) if g in ELEMENTARY and plan.counts[g]]
        secondary = [g for g in sorted(plan.counts) if g not in ELEMENTARY and plan.counts[g]]
        if elementary:
            primaries += self._homerooms(index, elementary, plan.counts, by_grade)
        if secondary:
            primaries += self._secondary(index, secondary, plan.counts, by_grade)
        self._teacher_enrollments(index, primaries)

    def _homerooms(self, school: int, grades: list[int], counts: dict[int, int],
                   by_grade: dict[int, list[int]]) -> list[tuple[int, int]]:
        rng, roster = self.rng, self.roster
        terms = self.school_terms[school]
        begin = day_of(TERMS[0][1])
        out = []
        room = 100
        for group in _groups(grades, counts, 12):
            label = grade_label(group)
            course = self._course(f"Homeroom {label}", f"HR{label.replace('-', '')}", group,
                                  "Homeroom", f"22{group[0]:03d}", school, "homeroom")
            members = [s for g in group for s in by_grade[g]]
            n = max(1, math.ceil(len(members) / HOMEROOM_CAP))
            sections = []
            for j in range(n):
                room += rng.randint(1, 3)
                sections.append(self._section(course, school, terms, 0, j + 1, room))
                out.append((sections[-1], add_teacher(roster, rng, self.names, school, self._summer())))
            for k, slot in enumerate(members):
                self._enroll(slot, sections[k % n], begin)
        return out

    def _secondary(self, school: int, grades: list[int], counts: dict[int, int],
                   by_grade: dict[int, list[int]]) -> list[tuple[int, int]]:
        rng, roster = self.rng, self.roster
        s1, s2 = self.school_terms[school]
        catalog = ELECTIVES_HIGH if any(g in HIGH for g in grades) else ELECTIVES_MIDDLE
        enrolled = sum(counts[g] for g in grades)
        catalog = catalog[: max(4, 4 + enrolled // 40)]  # a small school offers fewer electives
        # local course keys: ("core", group, k) or ("elective", k)
        group_of = {}
        groups = _groups(grades, counts, 15)
        for group in groups:
            for g in group:
                group_of[g] = group
        takers: dict[tuple, list[int]] = {}
        choices: list[tuple[int, list[tuple]]] = []
        popularity = [e[5] for e in catalog]
        for g in grades:
            for slot in by_grade[g]:
                want = _pick(rng, _CLASS_COUNT)
                keys = [("core", group_of[g], k) for k in range(len(CORE))]
                picked: list[int] = []
                while len(picked) < min(want - len(CORE), len(catalog)):
                    e = _pick_index(rng, popularity)
                    if e not in picked:
                        picked.append(e)
                keys += [("elective", e) for e in picked]
                for key in keys:
                    takers.setdefault(key, []).append(slot)
                choices.append((slot, keys))
        # courses and sections, in catalog order, only those with takers
        course_of: dict[tuple, int] = {}
        sections_of: dict[tuple, list[int]] = {}
        dept_sections: dict[str, list[int]] = {}
        offset = 0
        for key in [("core", gr, k) for gr in groups for k in range(len(CORE))] + \
                   [("elective", e) for e in range(len(catalog))]:
            if key not in takers:
                continue
            if key[0] == "core":
                subject, short, titles, sced, prefix = CORE[key[2]]
                group = key[1]
                label = grade_label(group)
                title = titles[group[0] - 7] if len(group) == 1 else f"{short} {label}"
                course = self._course(title, f"{prefix}{label.replace('-', '')}", group, subject,
                                      f"{sced}{group[0]:03d}", school, "core")
                full_year, cap = True, SECTION_CAP
            else:
                title, subject, sced, code, full_year, _ = catalog[key[1]]
                course = self._course(title, code, tuple(grades), subject, f"{sced}{100 + key[1]:03d}", school,
                                      "elective")
                cap = SECTION_CAP + 2
            course_of[key] = course
            n = max(1, math.ceil(len(takers[key]) / cap))
            room_base = 100 * (1 + int(roster.courses[course].subject_code[:2]) % 9)
            secs = []
            for j in range(n):
                terms = (s1, s2) if full_year else ((s1,) if j % 2 == 0 else (s2,))
                period = (offset + j) % PERIODS + 1
                secs.append(self._section(course, school, terms, period, j + 1,
                                          room_base + rng.randint(1, 40)))
            offset += 3
            sections_of[key] = secs
            # teachers by department; a small school's teachers teach across subjects
            dept_sections.setdefault(subject if enrolled >= 100 else "", []).extend(secs)
        # schedule each student into one section per course, avoiding period clashes
        sections = roster.sections
        mask = {}
        for secs in sections_of.values():
            for s in secs:
                sec = sections[s]
                bits = 0
                for t in sec.terms:
                    bits |= 1 << (2 * sec.period + (0 if t == s1 else 1))
                mask[s] = bits
        load = dict.fromkeys(mask, 0)
        for slot, keys in choices:
            busy = 0
            for key in sorted(keys, key=lambda k: len(sections_of[k])):
                secs = sections_of[key]
                chosen = _choose(secs, rng.randrange(len(secs)), busy, mask, load, SECTION_CAP + 2)
                busy |= mask[chosen]
                load[chosen] += 1
                self._enroll(slot, chosen, self._begin(chosen))
        # teachers: about five sections each, per department, dealt across periods
        out = []
        for subject in dept_sections:
            secs = sorted(dept_sections[subject], key=lambda s: (sections[s].period, s))
            teachers = [add_teacher(roster, rng, self.names, school, self._summer())
                        for _ in range(max(1, math.ceil(len(secs) / 5)))]
            out += [(s, teachers[k % len(teachers)]) for k, s in enumerate(secs)]
        return out

    def _teacher_enrollments(self, school: int, primaries: list[tuple[int, int]]) -> None:
        """Primary teachers, some co-teachers (specialists), shared teachers' second schools."""
        rng, roster = self.rng, self.roster
        if not primaries:
            return
        specialists = [add_teacher(roster, rng, self.names, school, self._summer())
                       for _ in range(max(1, len(primaries) // 20))]
        co_taught = {s for s, _ in primaries if rng.random() < 0.08}
        if not co_taught:
            co_taught = {primaries[rng.randrange(len(primaries))][0]}
        table = roster.teacher_enrollments
        for section, teacher in sorted(primaries):
            begin = self._begin(section)
            table.add(self._history(), teacher, section, begin, 1, self._summer())
            if section in co_taught:
                table.add(self._history(), rng.choice(specialists), section, begin, 2, self._summer())
        others = [i for i, p in enumerate(self.plans) if p.kind in ("middle", "high") and i != school]
        if others and self.plans[school].kind in ("middle", "high"):  # music, art, language teachers
            people = roster.people
            for slot in roster.school_teachers[school]:
                if rng.random() < 0.04:
                    people.school2[slot] = rng.choice(others)

    def _history(self) -> int:
        self.roster.next_history += self.rng.randint(1, 3)
        return self.roster.next_history

    def _enroll(self, slot: int, section: int, begin: int) -> None:
        roster = self.roster
        roster.next_roster += self.rng.randint(1, 2)
        roster.student_enrollments.add(roster.next_roster, slot, section, begin, 0, self._summer())


def _pick(rng: Random, pairs: tuple[tuple[int, int], ...]) -> int:
    x = rng.random() * sum(w for _, w in pairs)
    for value, weight in pairs:
        x -= weight
        if x < 0:
            return value
    return pairs[-1][0]


def _pick_index(rng: Random, weights: list[int]) -> int:
    x = rng.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _choose(secs: list[int], start: int, busy: int, mask: dict, load: dict, cap: int) -> int:
    """A section with a free period and room; else a free period; else the emptiest."""
    n = len(secs)
    fallback = -1
    for i in range(n):
        s = secs[(start + i) % n]
        if not mask[s] & busy:
            if load[s] < cap:
                return s
            if fallback < 0:
                fallback = s
    if fallback >= 0:
        return fallback
    return min(secs, key=lambda s: (load[s], s))


def build(seed: int, students: int) -> Roster:
    """The day-0 roster of the district (``seed``, ``students``)."""
    return _Builder(seed, students).run()

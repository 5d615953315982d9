"""One school day of changes in the sandbox district, deterministic per (seed, day).

Each day, stamped within that day (12:00-23:00 UTC): students withdraw (their
user, demographics and enrollments vanish, as Infinite Campus does; some are
served ``tobedeleted`` instead) and enroll (user, demographics, classes);
schedules change (a class dropped and another added), classes are added and
dropped (a drop vanishes, is end-dated or goes ``tobedeleted``); a class's
primary teacher is replaced; names change (and with them username and email);
emails change; demographics are corrected.

Every record is touched at most once a day and every touch changes a field
besides ``dateLastModified``, so ``dateLastModified > end of day N-1`` selects
exactly day N's created, updated and tobedeleted records. Volumes scale with
the district: per day about 0.2-1% of enrollments and a handful to a few dozen
students per 10,000; in a tiny district each kind of change still happens at
least once every three days.
"""

from __future__ import annotations

from random import Random

from ..oneroster.kinds import Kind
from .district_model import (
    ACTIVE,
    DAY_MS,
    ELEMENTARY,
    GONE,
    HOUR_MS,
    STUDENT,
    TERMS,
    TOBEDELETED,
    Roster,
    day_of,
    school_date,
)
from .district_people import RESIDENCE, add_student, add_teacher, assign_login
from .names import NameMaker

CATEGORIES = ("created", "updated", "deleted", "tobedeleted")
DayLog = dict[Kind, dict[str, list[int]]]  # user/demographics: slots; enrollments: codes


def empty_log() -> DayLog:
    return {kind: {c: [] for c in CATEGORIES} for kind in Kind}


def apply_day(roster: Roster, names: NameMaker, day: int) -> DayLog:
    """Apply school day ``day`` (the day after ``roster.day``) in place; return what changed."""
    if day != roster.day + 1:
        raise ValueError(f"day {day} does not follow day {roster.day}")
    changes = _Day(roster, names, day)
    changes.run()
    roster.day = day
    return changes.log


class _Day:
    def __init__(self, roster: Roster, names: NameMaker, day: int) -> None:
        self.r, self.names, self.day = roster, names, day
        self.rng = Random(f"rostersync.sandbox.churn/{roster.seed}/{roster.students}/{day}")
        self.today = day_of(school_date(day))
        self.start = self.today * DAY_MS + 12 * HOUR_MS
        self.log = empty_log()
        self.busy_people: set[int] = set()  # user/demographics touched today
        self.busy_classes: set[int] = set()  # students whose enrollments changed today
        self.busy_sections: set[int] = set()  # sections whose teacher changed today
        self.forced_tobedeleted = day % 3 != 1  # one drop goes tobedeleted every third day

    def stamp(self) -> int:
        return self.start + self.rng.randrange(11 * HOUR_MS)

    def count(self, base: float, low: float, high: float, kind: int) -> int:
        expected = base * self.rng.uniform(low, high)
        n = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
        if n == 0 and (self.day + kind) % 3 == 0:
            n = 1
        return n

    def run(self) -> None:
        r = self.r
        students = r.students
        enrollments = max(len(r.student_enrollments), 1)
        withdrawals = self.count(students, 0.0005, 0.0015, 0)
        arrivals = self.count(students, 0.0006, 0.0018, 1)
        swaps = self.count(enrollments, 0.0008, 0.0025, 2)
        adds = self.count(enrollments, 0.0003, 0.001, 3)
        drops = self.count(enrollments, 0.0003, 0.001, 4)
        replacements = self.count(len(r.sections), 0.001, 0.003, 5)
        renames = self.count(students, 0.0001, 0.0004, 6)
        emails = self.count(students, 0.0001, 0.0003, 7)
        corrections = self.count(students, 0.0001, 0.0003, 8)

        leaving = self.pick_students(withdrawals, self.busy_people, minimum_left=2)
        self.busy_people.update(leaving)
        self.busy_classes.update(leaving)
        movers = [self.pick_students(n, self.busy_classes) for n in (swaps, adds, drops)]
        for group in movers:
            self.busy_classes.update(group)
        classes = self.classes_of(set(leaving).union(*movers))
        for slot in leaving:
            self.withdraw(slot, classes[slot])
        for _ in range(arrivals):
            self.arrive()
        for slot in movers[0]:
            self.swap(slot, classes[slot])
        for slot in movers[1]:
            self.add_class(slot, classes[slot])
        for slot in movers[2]:
            self.drop_class(slot, classes[slot])
        self.replace_teachers(replacements)
        for slot in self.pick_people(renames):
            self.rename(slot)
        for slot in self.pick_people(emails):
            self.new_email(slot)
        for slot in self.pick_students(corrections, self.busy_people):
            self.correct(slot)

    # choosing -------------------------------------------------------------------
    def _pick(self, n: int, ok, busy: set[int]) -> list[int]:
        rng, size = self.rng, len(self.r.people)
        out: list[int] = []
        candidates = None
        while len(out) < n:
            slot = -1
            for _ in range(64):
                s = rng.randrange(size)
                if s not in busy and s not in out and ok(s):
                    slot = s
                    break
            if slot < 0:  # a small or depleted district: choose from the list
                if candidates is None:
                    candidates = [s for s in range(size) if s not in busy and ok(s)]
                candidates = [s for s in candidates if s not in out]
                if not candidates:
                    break
                slot = candidates[rng.randrange(len(candidates))]
            out.append(slot)
        return out

    def pick_students(self, n: int, busy: set[int], minimum_left: int = 0) -> list[int]:
        people = self.r.people
        if minimum_left:
            active = sum(1 for s in range(len(people)) if people.role[s] == STUDENT
                         and people.user_state[s] == ACTIVE)
            n = min(n, max(0, active - minimum_left))
        return self._pick(n, lambda s: people.role[s] == STUDENT and people.user_state[s] == ACTIVE, busy)

    def pick_people(self, n: int) -> list[int]:
        people = self.r.people
        picked = self._pick(n, lambda s: people.user_state[s] == ACTIVE, self.busy_people)
        self.busy_people.update(picked)
        return picked

    def classes_of(self, students: set[int]) -> dict[int, list[int]]:
        """Each student's enrollment rows that are still served."""
        table = self.r.student_enrollments
        out: dict[int, list[int]] = {s: [] for s in students}
        if students:
            state = table.state
            for row, user in enumerate(table.user):
                if user in students and state[row] != GONE:
                    out[user].append(row)
        return out

    # enrollments ------------------------------------------------------------------
    def _open(self, section: int) -> bool:
        """Whether a section's last term has not ended."""
        r = self.r
        last = r.sections[section].terms[-1]
        return day_of(TERMS[r.term_of[last]][2]) > self.today

    def _begin(self, section: int) -> int:
        r = self.r
        first = r.sections[section].terms[0]
        return max(self.today, day_of(TERMS[r.term_of[first]][1]))

    def _enroll(self, slot: int, section: int, dlm: int) -> None:
        r = self.r
        r.next_roster += self.rng.randint(1, 2)
        row = r.student_enrollments.add(r.next_roster, slot, section, self._begin(section), 0, dlm)
        self.log[Kind.ENROLLMENT]["created"].append(row)

    def _end(self, teacher: bool, row: int, dlm: int, force_tobedeleted: bool = False) -> None:
        """Drop an enrollment: it vanishes, is end-dated, or goes tobedeleted."""
        table = self.r.teacher_enrollments if teacher else self.r.student_enrollments
        code = -(row + 1) if teacher else row
        roll = self.rng.random()
        tobedeleted, end_dated = (0.3, 0.5) if teacher else (0.1, 0.35)
        if force_tobedeleted or roll < tobedeleted:
            table.state[row] = TOBEDELETED
            table.dlm[row] = dlm
            self.log[Kind.ENROLLMENT]["tobedeleted"].append(code)
        elif roll < end_dated:
            table.end[row] = self.today
            table.dlm[row] = dlm
            self.log[Kind.ENROLLMENT]["updated"].append(code)
        else:
            table.state[row] = GONE
            self.log[Kind.ENROLLMENT]["deleted"].append(code)

    def _current(self, rows: list[int]) -> list[int]:
        table = self.r.student_enrollments
        return [row for row in rows if table.state[row] == ACTIVE and not table.end[row]]

    def _drop_fate(self) -> bool:
        if self.forced_tobedeleted:
            return False
        self.forced_tobedeleted = True
        return True

    def _mask(self, section: int) -> int:
        s = self.r.sections[section]
        bits = 0
        for term in s.terms:
            bits |= 1 << (2 * s.period + self.r.term_of[term])
        return bits

    def _new_section(self, slot: int, rows: list[int], prefer_period: int = 0) -> int | None:
        """An open section of a course ``slot`` does not take, in a free period if possible."""
        r, rng = self.r, self.rng
        table = r.student_enrollments
        taken = {r.sections[table.section[row]].course for row in rows}
        busy = 0
        for row in rows:
            busy |= self._mask(table.section[row])
        grade = r.people.grade[slot]
        options = [s for s in r.school_sections[r.people.school[slot]]
                   if not r.sections[s].homeroom and r.sections[s].course not in taken
                   and grade in r.courses[r.sections[s].course].grades and self._open(s)]
        if not options:
            return None
        free = [s for s in options if not self._mask(s) & busy]
        same = [s for s in free if r.sections[s].period == prefer_period]
        pool = same or free or options
        return pool[rng.randrange(len(pool))]

    def swap(self, slot: int, rows: list[int]) -> None:
        """A schedule change: one class dropped, another added (homeroom moves in elementary)."""
        r, rng = self.r, self.rng
        table = r.student_enrollments
        current = self._current(rows)
        if not current:
            return
        t = self.stamp()
        if r.people.grade[slot] in ELEMENTARY or r.sections[table.section[current[0]]].homeroom:
            row = current[0]
            section = r.sections[table.section[row]]
            others = [s for s in r.course_sections[section.course]
                      if s != table.section[row] and self._open(s)]
            if not others:
                return
            self._end(False, row, t, self._drop_fate())
            self._enroll(slot, others[rng.randrange(len(others))], t)
            return
        row = current[rng.randrange(len(current))]
        period = r.sections[table.section[row]].period
        keep = [x for x in current if x != row]
        new = self._new_section(slot, keep + [row], period)
        if new is None:
            return
        self._end(False, row, t, self._drop_fate())
        self._enroll(slot, new, t)

    def add_class(self, slot: int, rows: list[int]) -> None:
        current = self._current(rows)
        if self.r.people.grade[slot] in ELEMENTARY or not 0 < len(current) < 8:
            return
        new = self._new_section(slot, current)
        if new is not None:
            self._enroll(slot, new, self.stamp())

    def drop_class(self, slot: int, rows: list[int]) -> None:
        current = self._current(rows)
        if self.r.people.grade[slot] in ELEMENTARY or len(current) <= 5:
            return
        self._end(False, current[self.rng.randrange(len(current))], self.stamp(), self._drop_fate())

    # people -------------------------------------------------------------------------
    def withdraw(self, slot: int, rows: list[int]) -> None:
        """The student leaves: everything vanishes, or (sometimes) goes tobedeleted."""
        people, table = self.r.people, self.r.student_enrollments
        t = self.stamp()
        log = self.log
        if self.rng.random() < 0.15:
            people.user_state[slot] = people.demo_state[slot] = TOBEDELETED
            people.user_dlm[slot] = people.demo_dlm[slot] = t
            log[Kind.USER]["tobedeleted"].append(slot)
            log[Kind.DEMOGRAPHICS]["tobedeleted"].append(slot)
            for row in rows:
                if table.state[row] == ACTIVE:
                    table.state[row] = TOBEDELETED
                    table.dlm[row] = t
                    log[Kind.ENROLLMENT]["tobedeleted"].append(row)
            return
        people.user_state[slot] = people.demo_state[slot] = GONE
        log[Kind.USER]["deleted"].append(slot)
        log[Kind.DEMOGRAPHICS]["deleted"].append(slot)
        for row in rows:
            table.state[row] = GONE
            log[Kind.ENROLLMENT]["deleted"].append(row)

    def arrive(self) -> None:
        """A new student, modelled on an enrolled one (same school and grade)."""
        r, rng = self.r, self.rng
        people = r.people
        model = self._pick(1, lambda s: people.role[s] == STUDENT and people.user_state[s] == ACTIVE, set())
        if not model:
            return
        school, grade = people.school[model[0]], people.grade[model[0]]
        t = self.stamp()
        slot = add_student(r, rng, self.names, school, grade, t)
        self.busy_people.add(slot)
        self.busy_classes.add(slot)
        self.log[Kind.USER]["created"].append(slot)
        self.log[Kind.DEMOGRAPHICS]["created"].append(slot)
        sections = [s for s in r.school_sections[school] if self._open(s)
                    and grade in r.courses[r.sections[s].course].grades]
        homerooms = [s for s in sections if r.sections[s].homeroom]
        if homerooms:
            self._enroll(slot, homerooms[rng.randrange(len(homerooms))], t)
            return
        chosen: list[int] = []
        busy = 0
        courses = sorted({r.sections[s].course for s in sections})
        core = [c for c in courses if r.courses[c].role == "core"]
        electives = [c for c in courses if r.courses[c].role == "elective"]
        rng.shuffle(electives)
        want = rng.choice((5, 6, 6, 7, 7, 8))
        for course in core + electives[: max(1, want - len(core))]:
            options = [s for s in sections if r.sections[s].course == course]
            free = [s for s in options if not self._mask(s) & busy] or options
            pick = free[rng.randrange(len(free))]
            busy |= self._mask(pick)
            chosen.append(pick)
        for section in chosen:
            self._enroll(slot, section, t)

    def replace_teachers(self, n: int) -> None:
        """A class gets a new primary teacher; the old enrollment ends one of three ways."""
        r, rng = self.r, self.rng
        table = r.teacher_enrollments
        primary: dict[int, int] = {}
        teachers_of: dict[int, set[int]] = {}
        for row in range(len(table)):
            if table.state[row] == ACTIVE and not table.end[row]:
                teachers_of.setdefault(table.section[row], set()).add(table.user[row])
                if table.primary[row] == 1:
                    primary[table.section[row]] = row
        candidates = sorted(s for s in primary if self._open(s))
        for _ in range(n):
            candidates = [s for s in candidates if s not in self.busy_sections]
            if not candidates:
                return
            section = candidates[rng.randrange(len(candidates))]
            self.busy_sections.add(section)
            school = r.sections[section].school
            t = self.stamp()
            staff = [s for s in r.school_teachers[school]
                     if r.people.user_state[s] == ACTIVE and s not in teachers_of[section]]
            if staff and rng.random() < 0.8:
                teacher = staff[rng.randrange(len(staff))]
            else:
                teacher = add_teacher(r, rng, self.names, school, t)
                self.busy_people.add(teacher)
                self.log[Kind.USER]["created"].append(teacher)
            self._end(True, primary[section], t)
            r.next_history += rng.randint(1, 3)
            row = table.add(r.next_history, teacher, section, self._begin(section), 1, t)
            self.log[Kind.ENROLLMENT]["created"].append(-(row + 1))
            teachers_of[section].add(teacher)

    def rename(self, slot: int) -> None:
        """A new surname; username and email follow it."""
        people = self.r.people
        people.family[slot] = self.names.new_family(self.rng, people.style[slot], people.family[slot])
        assign_login(self.r, slot)
        people.user_dlm[slot] = self.stamp()
        self.log[Kind.USER]["updated"].append(slot)

    def new_email(self, slot: int) -> None:
        """A new username and email for the same name (an account reissued)."""
        people = self.r.people
        assign_login(self.r, slot)
        people.user_dlm[slot] = self.stamp()
        self.log[Kind.USER]["updated"].append(slot)

    def correct(self, slot: int) -> None:
        """A demographics correction: residence status or birth date."""
        people, rng = self.r.people, self.rng
        if rng.random() < 0.6:
            choices = [i for i in range(len(RESIDENCE)) if i != people.residence[slot]]
            people.residence[slot] = choices[rng.randrange(len(choices))]
        else:
            people.birth[slot] += rng.choice((-1, 1)) * rng.randint(1, 30)
        people.demo_dlm[slot] = self.stamp()
        self.busy_people.add(slot)
        self.log[Kind.DEMOGRAPHICS]["updated"].append(slot)

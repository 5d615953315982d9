"""Creating people in the sandbox district: students, teachers, their logins.

Shared by the day-0 build and the daily churn, so a student enrolling in
October looks like one generated in August.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from itertools import accumulate
from random import Random

from .district_model import ACTIVE, GONE, GRADES, STUDENT, TEACHER, Roster, SandboxError, day_of
from .names import NATIVE, NameMaker, fold

AI, ASIAN, BLACK, NHPI, WHITE, TWO, HISP = 1, 2, 4, 8, 16, 32, 64

# Per culture of names.CULTURES: race/ethnicity bitmasks and birth countries, weighted.
_RACE: tuple[tuple[tuple[int, int], ...], ...] = (
    ((WHITE, 70), (BLACK, 20), (AI, 2), (ASIAN, 2), (NHPI, 1), (WHITE | BLACK | TWO, 5)),
    ((HISP | WHITE, 70), (HISP | AI, 8), (HISP | BLACK, 4), (HISP | WHITE | AI | TWO, 8), (HISP, 10)),
    ((ASIAN, 95), (ASIAN | WHITE | TWO, 5)),
    ((ASIAN, 95), (ASIAN | WHITE | TWO, 5)),
    ((ASIAN, 95), (ASIAN | WHITE | TWO, 5)),
    ((WHITE, 90), (BLACK, 10)),
    ((WHITE, 100),),
    ((WHITE, 100),),
    ((ASIAN, 100),),
    ((BLACK, 95), (BLACK | WHITE | TWO, 5)),
)
_COUNTRY: tuple[tuple[tuple[str, int], ...], ...] = (
    (("US", 100),),
    (("US", 75), ("MX", 15), ("GT", 4), ("SV", 3), ("HN", 3)),
    (("US", 70), ("VN", 30)),
    (("US", 65), ("CN", 30), ("TW", 5)),
    (("US", 70), ("KR", 30)),
    (("US", 55), ("SY", 10), ("IQ", 10), ("EG", 10), ("YE", 5), ("SA", 10)),
    (("US", 50), ("UA", 30), ("RU", 20)),
    (("US", 70), ("FR", 10), ("DE", 10), ("CA", 10)),
    (("US", 70), ("IN", 25), ("PK", 5)),
    (("US", 60), ("NG", 15), ("GH", 10), ("ET", 10), ("SN", 5)),
)
# Places of birth: US states and other countries are separate tables ("CA" is both California and Canada).
_STATE_CITIES = {
    "MN": "Minneapolis|Saint Paul|Rochester", "IA": "Des Moines|Cedar Rapids", "WI": "Milwaukee|Madison",
    "CO": "Denver|Colorado Springs", "TX": "Houston|San Antonio|El Paso", "CA": "Los Angeles|San José",
    "WA": "Seattle|Spokane", "IL": "Chicago|Peoria", "NE": "Omaha|Lincoln", "MI": "Detroit|Grand Rapids",
    "OH": "Columbus|Cleveland",
}
_COUNTRY_CITIES = {
    "MX": "Guadalajara|Ciudad de México|Monterrey", "GT": "Ciudad de Guatemala",
    "SV": "San Salvador", "HN": "Tegucigalpa", "VN": "Hồ Chí Minh|Hà Nội", "CN": "Beijing|Guangzhou",
    "TW": "Taipei", "KR": "Seoul|Busan", "SY": "Damascus|Aleppo", "IQ": "Baghdad", "EG": "Cairo",
    "YE": "Sana'a", "SA": "Riyadh", "UA": "Kyiv|Kharkiv", "RU": "Moscow", "FR": "Paris", "DE": "München",
    "CA": "Montréal|Toronto", "IN": "Mumbai|Bengaluru", "PK": "Lahore", "NG": "Lagos", "GH": "Accra",
    "ET": "Addis Ababa", "SN": "Dakar",
}
US_STATES = tuple(_STATE_CITIES)
# (countryOfBirthCode, stateOfBirthAbbreviation or None, cityOfBirth); a person stores an index.
BIRTHPLACES: tuple[tuple[str, str | None, str], ...] = (
    *(("US", state, city) for state, cities in _STATE_CITIES.items() for city in cities.split("|")),
    *((country, None, city) for country, cities in _COUNTRY_CITIES.items() for city in cities.split("|")),
)
_PLACES_OF_STATE: dict[str, list[int]] = {}
_PLACES_OF_COUNTRY: dict[str, list[int]] = {}
for _i, (_country, _state, _city) in enumerate(BIRTHPLACES):
    if _state is not None:
        _PLACES_OF_STATE.setdefault(_state, []).append(_i)
    else:
        _PLACES_OF_COUNTRY.setdefault(_country, []).append(_i)

RESIDENCE = ("01652", "01653", "01654", "01656")  # CEDS PublicSchoolResidenceStatus
_RESIDENCE_CUM = tuple(accumulate((85, 8, 5, 2)))


def _weighted(rng: Random, pairs: tuple[tuple[object, int], ...]):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, weight in pairs:
        x -= weight
        if x < 0:
            return value
    return pairs[-1][0]


def assign_login(roster: Roster, slot: int) -> None:
    """Give ``slot`` the next unused username for its current name."""
    people = roster.people
    base = f"{fold(people.given[slot])}.{fold(people.family[slot])}"
    counter = roster.logins.get(base, 0) + 1
    roster.logins[base] = counter
    people.login[slot] = counter


def _next_person_id(roster: Roster, rng: Random) -> int:
    pid = roster.next_person + rng.randint(1, 3)
    if len(str(pid)) != len(str(roster.next_person)):
        raise SandboxError("the sandbox district ran out of personIDs", fix="generate a larger district")
    roster.next_person = pid
    return pid


def _append_person(roster: Roster, rng: Random, role: int, school: int, grade: int,
                   dlm: int, names: NameMaker, female: bool, style: int | None) -> int:
    people = roster.people
    name = names.person(rng, female, style)
    people.ids.append(_next_person_id(roster, rng))
    people.role.append(role)
    people.school.append(school)
    people.school2.append(-1)
    people.grade.append(grade)
    people.style.append(name.style)
    people.given.append(name.given)
    people.family.append(name.family)
    people.middle.append(name.middle)
    people.preferred.append(name.preferred)
    people.login.append(0)
    roster.next_number += rng.randint(1, 4)
    people.number.append(roster.next_number)
    people.state_id.append(4_000_000_000 + roster.next_number * 5 + rng.randint(0, 4))
    people.user_state.append(ACTIVE)
    people.user_dlm.append(dlm)
    slot = len(people.ids) - 1
    assign_login(roster, slot)
    return slot


def add_student(roster: Roster, rng: Random, names: NameMaker, school: int, grade: int, dlm: int) -> int:
    """Append a student (user and demographics) and return its slot."""
    roll = rng.random()
    sex = 0 if roll < 0.49 else 1 if roll < 0.98 else 2 if roll < 0.992 else 3
    female = sex == 1 or (sex > 1 and rng.random() < 0.5)
    slot = _append_person(roster, rng, STUDENT, school, grade, dlm, names, female, None)
    people = roster.people
    culture = people.style[slot] & ~NATIVE
    level = grade - 1  # PK -1, KG 0, 01 1, ...
    if rng.random() < 0.04:
        level += rng.choice((-1, 1))  # retained or skipped a grade
    people.birth.append(day_of(date(2026 - level - 6, 9, 2)) + rng.randrange(365))
    people.sex.append(sex)
    people.race.append(_weighted(rng, _RACE[culture]))
    country = _weighted(rng, _COUNTRY[culture])
    if country == "US":
        home = roster.state_code if rng.random() < 0.8 else rng.choice(US_STATES)
        people.birthplace.append(rng.choice(_PLACES_OF_STATE[home]))
    else:
        people.birthplace.append(rng.choice(_PLACES_OF_COUNTRY[country]))
    people.residence.append(bisect_right(_RESIDENCE_CUM, rng.random() * _RESIDENCE_CUM[-1]))
    people.demo_state.append(ACTIVE)
    people.demo_dlm.append(dlm)
    return slot


def add_teacher(roster: Roster, rng: Random, names: NameMaker, school: int, dlm: int) -> int:
    """Append a teacher (no demographics) at ``school`` and return its slot."""
    slot = _append_person(roster, rng, TEACHER, school, 0, dlm, names, rng.random() < 0.75, None)
    people = roster.people
    people.birth.append(0)
    people.sex.append(0)
    people.race.append(0)
    people.birthplace.append(0)
    people.residence.append(0)
    people.demo_state.append(GONE)
    people.demo_dlm.append(0)
    roster.school_teachers[school].append(slot)
    return slot


def grade_label(grades: tuple[int, ...]) -> str:
    """"03", or "KG-02" for a span of grades."""
    first, last = GRADES[grades[0]], GRADES[grades[-1]]
    return first if first == last else f"{first}-{last}"

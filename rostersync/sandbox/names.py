"""Names as real districts hold them, for the sandbox.

People come from weighted name pools per cultural group, so common names
repeat (several "Maria Garcia"), and the pools carry what breaks naive code:
apostrophes (O'Brien, D'Angelo, N'Diaye), spaces (De La Cruz, Van Buren),
accents (José, Zoë, Ngô, Dvořák), hyphens (Jean-Baptiste, Al-Ahmad, plus
hyphenated double surnames) and non-Latin scripts (张伟, Дмитрий, محمد, 김민준).
Every name has an ASCII form (:func:`fold`) for usernames and emails; names in
non-Latin scripts carry their romanisation.

A person's name style is one byte (:data:`NATIVE` marks the native script),
so the district can draw a new surname of the same style on a name change.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from random import Random

NATIVE = 0x80  # style bit: this person's name is in its native (non-Latin) script

_FOLD_EXTRA = str.maketrans({
    "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ß": "ss",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th",
})
_ROMAN: dict[str, str] = {}  # native-script name -> ASCII romanisation


class _Folds(dict):
    """``FOLDS[text] == fold(text)``, worked out once per distinct name (renderers index it in a loop)."""

    def __missing__(self, text: str) -> str:
        out = _ROMAN.get(text)
        if out is None:
            plain = unicodedata.normalize("NFKD", text.translate(_FOLD_EXTRA))
            out = "".join(c for c in plain.lower() if c.isascii() and c.isalnum())
        self[text] = out
        return out


FOLDS = _Folds()


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` ("O'Brien-Núñez" -> "obriennunez")."""
    return FOLDS[text]


def _w(spec: str) -> list[tuple[str, int]]:
    """Parse "Name:weight, Name, ..." (weight 1 when omitted) into pairs."""
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, weight = item.rpartition(":") if ":" in item else (item, "", "1")
        out.append((name.strip(), int(weight)))
    return out


def _n(spec: str) -> list[tuple[str, str, int]]:
    """Parse "native=Roman:weight, ..." into (native, roman, weight)."""
    out = []
    for name, weight in _w(spec):
        native, roman = name.split("=")
        _ROMAN[native] = fold(roman)
        out.append((native, roman, weight))
    return out


@dataclass(frozen=True)
class _Pool:
    """Weighted choice over a list of names."""

    names: tuple[str, ...]
    cum: tuple[int, ...]

    @classmethod
    def of(cls, pairs: list[tuple[str, int]]) -> "_Pool":
        return cls(tuple(n for n, _ in pairs), tuple(accumulate(w for _, w in pairs)))

    def pick(self, rng: Random) -> str:
        return self.names[bisect_right(self.cum, rng.random() * self.cum[-1])]


@dataclass(frozen=True)
class _Culture:
    weight: float
    female: tuple[_Pool, _Pool | None]  # (Latin script, native script or None)
    male: tuple[_Pool, _Pool | None]
    family: tuple[_Pool, _Pool | None]
    native_share: float = 0.0
    middle_share: float = 0.4
    hyphen_share: float = 0.0


def _latin(f: str, m: str, fam: str, weight: float, **kw) -> _Culture:
    return _Culture(weight, (_Pool.of(_w(f)), None), (_Pool.of(_w(m)), None),
                    (_Pool.of(_w(fam)), None), **kw)


def _scripted(f: str, m: str, fam: str, weight: float, **kw) -> _Culture:
    def pools(spec: str) -> tuple[_Pool, _Pool]:
        triples = _n(spec)
        return (_Pool.of([(r, w) for _, r, w in triples]), _Pool.of([(n, w) for n, _, w in triples]))
    return _Culture(weight, pools(f), pools(m), pools(fam), **kw)


CULTURES: tuple[_Culture, ...] = (
    _latin(  # 0: United States, with Irish, Italian, German and Polish surnames
        "Olivia:5, Emma:5, Ava:4, Sophia:4, Isabella:3, Mia:3, Charlotte:3, Amelia:3, Harper:3,"
        "Evelyn:2, Abigail:2, Emily:3, Elizabeth:2, Madison:2, Chloe:2, Ella:2, Grace:2, Lily:2,"
        "Hannah:2, Zoë, Renée, Aaliyah:2, Jasmine, Brianna, Kayla, Avery:2, Riley:2, Sarah:2,"
        "Jessica, Mary-Kate, Anne-Marie, Samantha",
        "Liam:5, Noah:5, Oliver:4, James:4, Elijah:3, William:3, Henry:3, Lucas:3, Benjamin:3,"
        "Michael:3, Ethan:3, Jacob:3, Jackson:2, Aiden:2, Logan:2, Daniel:2, Matthew:2, Joseph:2,"
        "David:2, Jayden:2, DeShawn, Jamal, Malik, Andre, Ryan:2, Tyler:2, Connor, Owen:2, Wyatt,"
        "John:2, Christopher:2, John Paul, Ja'Marcus",
        "Smith:10, Johnson:8, Williams:7, Brown:7, Jones:6, Miller:5, Davis:5, Wilson:4, Anderson:4,"
        "Taylor:4, Thomas:4, Moore:3, Jackson:3, Martin:3, Lee:3, Thompson:3, White:3, Harris:3,"
        "Clark:3, Lewis:3, Robinson:3, Walker:3, Young:2, Allen:2, King:2, Wright:2, Scott:2, Hill:2,"
        "Green:2, Adams:2, Baker:2, Nelson:2, Carter:2, Mitchell:2, Roberts:2, Campbell:2, O'Brien:2,"
        "O'Connor:2, O'Neil, D'Angelo, McDonald:2, MacKenzie, Van Buren, St. Clair, Schmidt:2,"
        "Kowalski, Nowak, Olson:2, Johansson, Peterson:2, Murphy:2, Sullivan:2, Kelly:2, Rossi,"
        "Russo, De Luca, Jean-Baptiste, Washington, Coleman:2, Jenkins:2, Brooks:2, Hughes:2",
        0.47, middle_share=0.5, hyphen_share=0.03,
    ),
    _latin(  # 1: Hispanic: unaccented spellings dominate, as in many SIS databases
        "Maria:8, María:2, Sofía:3, Sofia:2, Valentina:2, Camila:3, Isabella:2, Ximena, Lucía:2,"
        "Daniela:2, Gabriela:2, Ana:2, Guadalupe, Mariana:2, Fernanda, Natalia:2, Valeria:2, Jimena,"
        "Renata, Alejandra, Andrea:2",
        "José:5, Jose:3, Juan:3, Luis:3, Carlos:3, Miguel:3, Jesús:2, Mateo:3, Santiago:3, Diego:2,"
        "Sebastián:2, Alejandro:2, Ángel:2, Angel, Emiliano, Joaquín, Julián, Gael, Adrián, Iker, Rafael",
        "Garcia:10, García:2, Rodriguez:8, Rodríguez:2, Martinez:7, Martínez:2, Hernandez:7,"
        "Hernández:2, Lopez:6, López:2, Gonzalez:6, González:2, Perez:4, Pérez, Sanchez:4, Sánchez,"
        "Ramirez:4, Ramírez, Torres:3, Flores:3, Rivera:3, Gomez:3, Gómez, Diaz:3, Díaz, Cruz:2,"
        "Reyes:2, Morales:2, Ortiz:2, Gutierrez:2, Chavez:2, Chávez, Ramos:2, Ruiz:2, Mendoza:2,"
        "Vásquez, Castillo:2, Jiménez, Muñoz:2, Peña, Núñez, Ibáñez, De La Cruz:2, De León",
        0.27, middle_share=0.45, hyphen_share=0.06,
    ),
    _latin(  # 2: Vietnamese
        "Linh:2, Anh:2, Mai, Ngọc, Thảo, Trang, Hương, Vy:2",
        "Minh:2, Huy:2, Khoa, Đức, Quang, Tuấn, Bảo:2, Phúc",
        "Nguyen:10, Nguyễn:3, Tran:5, Trần:2, Le:4, Lê:2, Pham:4, Phạm, Ngô:2, Ngo, Hoang:2, Huỳnh,"
        "Vo:2, Võ, Đặng, Bui, Đỗ",
        0.035, middle_share=0.5,
    ),
    _scripted(  # 3: Chinese
        "秀英=Xiuying, 静=Jing, 丽=Li, 婷=Ting, 欣怡=Xinyi:2, 雨涵=Yuhan, 梓涵=Zihan",
        "伟=Wei:3, 强=Qiang, 磊=Lei, 浩然=Haoran, 子轩=Zixuan, 宇轩=Yuxuan, 俊杰=Junjie",
        "张=Zhang:4, 王=Wang:4, 李=Li:4, 刘=Liu:3, 陈=Chen:3, 杨=Yang:2, 黄=Huang:2, 赵=Zhao,"
        "吴=Wu, 周=Zhou, 林=Lin",
        0.03, native_share=0.35, middle_share=0.1,
    ),
    _scripted(  # 4: Korean
        "서연=Seoyeon, 서윤=Seoyun, 지우=Jiwoo, 서현=Seohyun, 민서=Minseo, 하은=Haeun",
        "민준=Minjun:2, 서준=Seojun, 도윤=Doyoon, 예준=Yejun, 시우=Siwoo, 하준=Hajun",
        "김=Kim:5, 이=Lee:4, 박=Park:3, 최=Choi:2, 정=Jung:2, 강=Kang, 조=Cho, 윤=Yoon",
        0.02, native_share=0.35, middle_share=0.1,
    ),
    _scripted(  # 5: Arabic
        "فاطمة=Fatima:2, مريم=Maryam, عائشة=Aisha, نور=Nour, ليلى=Layla, زينب=Zainab, سارة=Sara",
        "محمد=Mohammed:4, أحمد=Ahmed:3, عمر=Omar, يوسف=Yousef, علي=Ali, خالد=Khaled, حمزة=Hamza",
        "حسن=Hassan:2, علي=Ali:2, إبراهيم=Ibrahim, عبدالله=Abdullah, خليل=Khalil, منصور=Mansour,"
        "الأحمد=Al-Ahmad",
        0.03, native_share=0.35, middle_share=0.2,
    ),
    _scripted(  # 6: Russian and Ukrainian (surnames without gendered endings)
        "Анна=Anna:2, Мария=Mariya, Анастасия=Anastasiya, Софья=Sofya, Екатерина=Yekaterina, Дарья=Darya",
        "Дмитрий=Dmitriy:2, Александр=Aleksandr:2, Максим=Maksim, Иван=Ivan, Артём=Artyom, Михаил=Mikhail",
        "Шевченко=Shevchenko:2, Коваленко=Kovalenko, Бондаренко=Bondarenko, Ткаченко=Tkachenko,"
        "Кравчук=Kravchuk, Мельник=Melnyk, Лысенко=Lysenko",
        0.025, native_share=0.35, middle_share=0.3,
    ),
    _latin(  # 7: European names with diacritics
        "Zoë:2, Chloé:2, Renée, Inès, Léa, Noémie, Åsa, Anaïs",
        "André:2, Léo, Jérôme, Søren, Björn, François, Théo, Élie",
        "Dubois, Lefèvre, Müller:2, Schröder, Østergaard, Dvořák, Lindqvist, Fontaine, Bélanger, Côté,"
        "Gagné, Šimić, Łukasiewicz, Groß",
        0.03, middle_share=0.3, hyphen_share=0.05,
    ),
    _latin(  # 8: South Asian
        "Priya:2, Ananya:2, Aadhya, Diya, Saanvi, Isha",
        "Aarav:2, Vihaan, Arjun:2, Rohan, Aditya, Krish",
        "Patel:6, Shah:3, Singh:3, Kumar:2, Sharma:2, Reddy:2, D'Souza, Gupta:2, Iyer, Chaudhary",
        0.035, middle_share=0.2,
    ),
    _latin(  # 9: West and East African
        "Amara:2, Ama, Chiamaka, Abena, Nia, Zuri, Fatoumata",
        "Kwame:2, Chidi, Kofi, Oluwaseun, Emeka, Mamadou, Tunde",
        "Okafor:2, Mensah:2, Adeyemi, Diallo:2, N'Diaye, Boateng, Okonkwo, Traoré, Haile, Tesfaye",
        0.035, middle_share=0.3,
    ),
)
_CULTURE_CUM = tuple(accumulate(c.weight for c in CULTURES))

NICKNAMES = {
    "William": "Will", "Elizabeth": "Ellie", "Benjamin": "Ben", "Matthew": "Matt",
    "Christopher": "Chris", "Daniel": "Danny", "Michael": "Mike", "Jessica": "Jess",
    "Isabella": "Bella", "Alejandro": "Alex", "Santiago": "Santi", "Abigail": "Abby",
    "Samantha": "Sam", "José": "Pepe", "Guadalupe": "Lupe", "Jesús": "Chuy", "Mohammed": "Mo",
    "Aleksandr": "Sasha", "Dmitriy": "Dima", "Yekaterina": "Katya", "Anastasiya": "Nastya",
    "Oluwaseun": "Seun", "Sebastián": "Sebas", "Valentina": "Vale", "Joseph": "Joe",
}


@dataclass(frozen=True, slots=True)
class PersonName:
    given: str
    family: str
    middle: str | None
    preferred: str | None
    style: int  # culture index, | NATIVE when in native script


class NameMaker:
    """Draws names; hyphenated surnames are interned so equal names share one string."""

    def __init__(self) -> None:
        self._interned: dict[str, str] = {}

    def _intern(self, text: str) -> str:
        return self._interned.setdefault(text, text)

    def person(self, rng: Random, female: bool, style: int | None = None) -> PersonName:
        """A new person's name; ``style`` keeps a family's culture and script."""
        if style is None:
            culture_index = bisect_right(_CULTURE_CUM, rng.random() * _CULTURE_CUM[-1])
            culture = CULTURES[culture_index]
            native = rng.random() < culture.native_share
            style = culture_index | (NATIVE if native else 0)
        culture = CULTURES[style & ~NATIVE]
        script = 1 if style & NATIVE else 0
        givens = (culture.female if female else culture.male)[script]
        given = givens.pick(rng)
        middle = None
        if rng.random() < culture.middle_share:
            middle = givens.pick(rng)
            if middle == given:
                middle = None
        family = self.family(rng, style)
        preferred = None
        if script:  # a native-script name: prefers its romanisation at school
            if rng.random() < 0.5:
                preferred = culture_roman(given)
        elif given in NICKNAMES and rng.random() < 0.3:
            preferred = NICKNAMES[given]
        return PersonName(given, family, middle, preferred, style)

    def family(self, rng: Random, style: int) -> str:
        """A surname of ``style``, sometimes a hyphenated double surname."""
        culture = CULTURES[style & ~NATIVE]
        pool = culture.family[1 if style & NATIVE else 0]
        family = pool.pick(rng)
        if culture.hyphen_share and rng.random() < culture.hyphen_share:
            second = pool.pick(rng)
            if second != family and _simple(family) and _simple(second):
                family = self._intern(f"{family}-{second}")
        return family

    def new_family(self, rng: Random, style: int, current: str) -> str:
        """A surname different from ``current`` (marriage, adoption, correction)."""
        for _ in range(100):
            candidate = self.family(rng, style)
            if rng.random() < 0.25 and _simple(current) and _simple(candidate) and not style & NATIVE:
                candidate = self._intern(f"{current}-{candidate}")
            if candidate != current:
                return candidate
        raise AssertionError("no different surname found")  # pools have many names


def _simple(family: str) -> bool:
    return "-" not in family and " " not in family


def culture_roman(native: str) -> str:
    """The capitalised romanisation of a native-script name."""
    roman = _ROMAN.get(native, native)
    return roman[:1].upper() + roman[1:]


# Schools and districts -------------------------------------------------------

_PLACE_A = (
    "Maple Cedar Oak Pine Willow Aspen Birch Elm Spruce Juniper Sycamore Magnolia Hawthorn Laurel "
    "Cypress Redwood Sequoia Alder Hickory Chestnut Walnut Poplar Linden Sage Meadow River Lake "
    "Prairie Canyon Summit Valley Harbor Forest Mesa Bluff Spring Stone Eagle Falcon Heron Sunset "
    "Sunrise Horizon Liberty Unity Pioneer Frontier Clearwater Silver Golden"
).split()
_PLACE_B = "Creek Hills Park View Grove Heights Point Crossing Trail Glen Woods Ridge Brook Field".split()
_HONOREES = (
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Kennedy", "Sacajawea", "César Chávez",
    "Martin Luther King Jr.", "Sojourner Truth", "Dolores Huerta", "Amelia Earhart", "Sally Ride",
    "Thurgood Marshall", "Rosa Parks", "Frederick Douglass", "Harriet Tubman", "Sonia Sotomayor",
    "Daniel K. Inouye", "Maya Angelou", "Langston Hughes", "Jackie Robinson", "Roberto Clemente",
    "Ellen Ochoa", "Patsy T. Mink", "Chief Joseph", "Wilma Mankiller", "Fred Korematsu",
)


def place_names(rng: Random, n: int) -> list[str]:
    """``n`` distinct school name stems ("Maple Creek", "Rosa Parks", ...)."""
    stems = [f"{a} {b}" for a in _PLACE_A for b in _PLACE_B] + list(_HONOREES)
    rng.shuffle(stems)
    out = stems[:n]
    round_ = 2
    while len(out) < n:  # more schools than stems: number the campuses
        out.extend(f"{s} {round_}" for s in stems[: n - len(out)])
        round_ += 1
    return out


def district_name(rng: Random) -> tuple[str, str]:
    """A district's name and its email domain."""
    stem = f"{rng.choice(_PLACE_A)} {rng.choice(_PLACE_B)}"
    suffix = rng.choice(("School District", "Public Schools", "Unified School District",
                         "Independent School District", "Community Schools"))
    return f"{stem} {suffix}", fold(stem) + ".example.org"

"""Consistency checks over what a sandbox district serves, for tests and benchmarks.

:func:`problems` renders every record of one version and reports, in plain
words, any id that is not unique or not sorted, any GUIDRef that does not
resolve to a served record of its type (or whose href does not match), an
enrollment whose school is not its class's, a class without exactly one
current primary teacher, and a student whose schedule is off (elementary: one
homeroom; secondary: 5 to 8 classes). An empty list means consistent.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from ..oneroster.kinds import Kind, Version

if TYPE_CHECKING:
    from .district import District

COLLECTION = {"org": "orgs", "academicSession": "academicSessions", "course": "courses",
              "class": "classes", "user": "users"}
ELEMENTARY_GRADES = {"PK", "KG", "01", "02", "03", "04", "05"}


def current(enrollment: dict[str, Any]) -> bool:
    """Served as active and not end-dated."""
    return enrollment["status"] == "active" and "endDate" not in enrollment


def problems(district: "District", version: Version, limit: int = 20) -> list[str]:
    found: list[str] = []

    def note(text: str) -> None:
        if len(found) < limit:
            found.append(text)

    served = {kind: list(district.records(kind, version)) for kind in Kind}
    ids = {kind: {r["sourcedId"]: r for r in records} for kind, records in served.items()}
    for kind, records in served.items():
        sids = [r["sourcedId"] for r in records]
        if sids != sorted(sids) or len(set(sids)) != len(sids):
            note(f"{kind.value}: sourcedIds not unique and sorted")
    by_type = {"org": ids[Kind.ORG], "academicSession": ids[Kind.ACADEMIC_SESSION],
               "course": ids[Kind.COURSE], "class": ids[Kind.CLASS], "user": ids[Kind.USER]}

    def check(owner: str, field: str, value: Any, kind: str) -> None:
        for guid in value if isinstance(value, list) else [value]:
            where = f"{owner} {field}"
            if not isinstance(guid, dict) or guid.get("type") != kind:
                note(f"{where}: not a GUIDRef of type {kind}: {guid!r}")
            elif guid.get("href") != f"/{COLLECTION[kind]}/{guid.get('sourcedId')}":
                note(f"{where}: href {guid.get('href')!r} does not match {guid.get('sourcedId')!r}")
            elif guid["sourcedId"] not in by_type[kind]:
                note(f"{where}: {kind} {guid['sourcedId']!r} is not served")

    refs = {
        Kind.ORG: (("parent", "org"), ("children", "org")),
        Kind.ACADEMIC_SESSION: (("parent", "academicSession"), ("children", "academicSession")),
        Kind.COURSE: (("schoolYear", "academicSession"), ("org", "org")),
        Kind.CLASS: (("course", "course"), ("school", "org"), ("terms", "academicSession")),
        Kind.USER: (("orgs", "org"), ("primaryOrg", "org"), ("agents", "user")),
        Kind.ENROLLMENT: (("user", "user"), ("class", "class"), ("school", "org")),
    }
    for kind, fields in refs.items():
        for record in served[kind]:
            owner = f"{kind.value} {record['sourcedId']}"
            for field, target in fields:
                if field in record:
                    check(owner, field, record[field], target)
            for role in record.get("roles", []):
                check(owner, "roles[].org", role["org"], "org")
    for record in served[Kind.DEMOGRAPHICS]:
        user = ids[Kind.USER].get(record["sourcedId"])
        if user is None or _role(user) != "student":
            note(f"demographics {record['sourcedId']}: no student user with this sourcedId")

    primaries: Counter[str] = Counter()
    schedule: dict[str, list[dict[str, Any]]] = {}
    for e in served[Kind.ENROLLMENT]:
        cls = ids[Kind.CLASS].get(e["class"]["sourcedId"])
        if cls is not None and cls["school"]["sourcedId"] != e["school"]["sourcedId"]:
            note(f"enrollment {e['sourcedId']}: school is not its class's school")
        if not current(e):
            continue
        if e["role"] == "teacher" and e.get("primary") == "true":
            primaries[e["class"]["sourcedId"]] += 1
        if e["role"] == "student" and cls is not None:
            schedule.setdefault(e["user"]["sourcedId"], []).append(cls)
    for sid in ids[Kind.CLASS]:
        if primaries[sid] != 1:
            note(f"class {sid}: {primaries[sid]} current primary teachers, expected 1")
    for user in served[Kind.USER]:
        if _role(user) != "student" or user["status"] != "active":
            continue
        classes = schedule.get(user["sourcedId"], [])
        if user["grades"][0] in ELEMENTARY_GRADES:
            if [c["classType"] for c in classes] != ["homeroom"]:
                note(f"user {user['sourcedId']}: elementary student without exactly one homeroom")
        elif not 5 <= len(classes) <= 8 or any(c["classType"] != "scheduled" for c in classes):
            note(f"user {user['sourcedId']}: secondary student with {len(classes)} classes")
    return found


def _role(user: dict[str, Any]) -> str:
    if "role" in user:
        return user["role"]
    return next(r["role"] for r in user["roles"] if r["roleType"] == "primary")

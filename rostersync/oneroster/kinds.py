"""Record kinds and protocol versions."""

from __future__ import annotations

from enum import Enum


class Version(str, Enum):
    V1P1 = "1.1"
    V1P2 = "1.2"

    @property
    def path_segment(self) -> str:
        """The segment after ``/ims/oneroster`` in a Base URL."""
        return "v1p1" if self is Version.V1P1 else "rostering/v1p2"


class Kind(str, Enum):
    """The rostering record kinds of ONEROSTER.md section 3."""

    ORG = "org"
    ACADEMIC_SESSION = "academicSession"
    COURSE = "course"
    CLASS = "class"
    USER = "user"
    ENROLLMENT = "enrollment"
    DEMOGRAPHICS = "demographics"


# Infinite Campus's recommended read order (ONEROSTER.md section 5): a kind's
# references point at kinds earlier in this list.
SYNC_ORDER: tuple[Kind, ...] = (
    Kind.ORG,
    Kind.ACADEMIC_SESSION,
    Kind.DEMOGRAPHICS,
    Kind.USER,
    Kind.COURSE,
    Kind.CLASS,
    Kind.ENROLLMENT,
)

STATUSES = ("active", "tobedeleted")
ORG_TYPES = ("department", "district", "local", "national", "school", "state")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES = ("homeroom", "scheduled")
ROLES_V1P1 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
ROLES_V1P2 = ROLES_V1P1 + (
    "districtAdministrator",
    "siteAdministrator",
    "principal",
    "counselor",
    "systemAdministrator",
)
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher")
SEX_V1P1 = ("male", "female")
SEX_V1P2 = ("male", "female", "unspecified", "other")

"""The fields each record kind has in each OneRoster version.

Derived from ONEROSTER.md section 3 (1.1) and the official 1.2 rostering
OpenAPI document (the ``*DType`` schemas). A field's shape is ``None`` for a
scalar or a list of scalars, a dict of sub-fields for an object or a list of
objects, or :data:`ANY` for vendor extensions (``metadata``), whose sub-paths
are all allowed.

Used by the provider to reject unknown filter, sort and ``fields`` names with
``invalid_filter_field`` / ``invalid_sort_field`` / ``invalid_selection_field``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .kinds import Kind, Version

ANY = "*"  # any sub-path is allowed (vendor metadata)

Shape = Mapping[str, "Shape"] | str | None

GUIDREF: dict[str, Shape] = {"href": None, "sourcedId": None, "type": None}

_COMMON: dict[str, Shape] = {"sourcedId": None, "status": None, "dateLastModified": None, "metadata": ANY}

_ORG: dict[str, Shape] = {**_COMMON, "name": None, "type": None, "identifier": None,
                          "parent": GUIDREF, "children": GUIDREF}
_SESSION: dict[str, Shape] = {**_COMMON, "title": None, "startDate": None, "endDate": None, "type": None,
                              "parent": GUIDREF, "children": GUIDREF, "schoolYear": None}
_COURSE: dict[str, Shape] = {**_COMMON, "title": None, "schoolYear": GUIDREF, "courseCode": None,
                             "grades": None, "subjects": None, "org": GUIDREF, "subjectCodes": None,
                             "resources": GUIDREF}
_CLASS: dict[str, Shape] = {**_COMMON, "title": None, "classCode": None, "classType": None, "location": None,
                            "grades": None, "subjects": None, "course": GUIDREF, "school": GUIDREF,
                            "terms": GUIDREF, "subjectCodes": None, "periods": None, "resources": GUIDREF}
_ENROLLMENT: dict[str, Shape] = {**_COMMON, "user": GUIDREF, "class": GUIDREF, "school": GUIDREF, "role": None,
                                 "primary": None, "beginDate": None, "endDate": None}
_DEMOGRAPHICS: dict[str, Shape] = {**_COMMON, "birthDate": None, "sex": None,
                                   "americanIndianOrAlaskaNative": None, "asian": None,
                                   "blackOrAfricanAmerican": None, "nativeHawaiianOrOtherPacificIslander": None,
                                   "white": None, "demographicRaceTwoOrMoreRaces": None,
                                   "hispanicOrLatinoEthnicity": None, "countryOfBirthCode": None,
                                   "stateOfBirthAbbreviation": None, "cityOfBirth": None,
                                   "publicSchoolResidenceStatus": None}
_USER_COMMON: dict[str, Shape] = {**_COMMON, "username": None, "userIds": {"type": None, "identifier": None},
                                  "enabledUser": None, "givenName": None, "familyName": None,
                                  "middleName": None, "identifier": None, "email": None, "sms": None,
                                  "phone": None, "agents": GUIDREF, "grades": None, "password": None}
_USER_V1P1: dict[str, Shape] = {**_USER_COMMON, "role": None, "orgs": GUIDREF}
_USER_V1P2: dict[str, Shape] = {
    **_USER_COMMON,
    "userMasterIdentifier": None,
    "preferredFirstName": None,
    "preferredMiddleName": None,
    "preferredLastName": None,
    "pronouns": None,
    "roles": {"roleType": None, "role": None, "org": GUIDREF, "userProfile": None,
              "beginDate": None, "endDate": None},
    "userProfiles": {"profileId": None, "profileType": None, "vendorId": None, "applicationId": None,
                     "description": None, "credentials": {"type": None, "username": None, "password": None}},
    "primaryOrg": GUIDREF,
    "resources": GUIDREF,
}

FIELDS: dict[tuple[Kind, Version], dict[str, Shape]] = {}
for _version in Version:
    FIELDS[(Kind.ORG, _version)] = _ORG
    FIELDS[(Kind.ACADEMIC_SESSION, _version)] = _SESSION
    FIELDS[(Kind.COURSE, _version)] = _COURSE
    FIELDS[(Kind.CLASS, _version)] = _CLASS
    FIELDS[(Kind.ENROLLMENT, _version)] = _ENROLLMENT
    FIELDS[(Kind.DEMOGRAPHICS, _version)] = _DEMOGRAPHICS
FIELDS[(Kind.USER, Version.V1P1)] = _USER_V1P1
FIELDS[(Kind.USER, Version.V1P2)] = _USER_V1P2


def top_level_fields(kind: Kind, version: Version) -> frozenset[str]:
    """The field names a ``kind`` record may carry in ``version``."""
    return frozenset(FIELDS[(kind, version)])


def is_known_path(kind: Kind, version: Version, path: str) -> bool:
    """True when the dotted ``path`` names a field (or sub-field) of ``kind`` in ``version``.

    ``metadata.*`` is always known; a path into a GUIDRef (``school.sourcedId``)
    or a list of objects (``roles.role``) is known when each segment is.
    """
    shape: Shape = FIELDS[(kind, version)]
    for segment in path.split("."):
        if shape == ANY:
            return bool(segment)
        if not isinstance(shape, Mapping) or segment not in shape:
            return False
        shape = shape[segment]
    return True

"""The OneRoster resource table: which path serves which kind in which envelope.

Every rostering collection of ONEROSTER.md section 3 is one :class:`Resource`.
Several resources serve the same kind with an implicit selection
(``/schools`` is ``/orgs`` of type school, ``/students`` is ``/users`` whose
role is student). Nested routes (``/schools/{id}/classes``) are
:class:`NestedRoute` rows naming the relation that links the parent id to the
target records; the provider implements the relations, the client only needs
the paths.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kinds import Kind, Version

BOTH = (Version.V1P1, Version.V1P2)


@dataclass(frozen=True)
class Resource:
    name: str  # path segment, e.g. "students"
    kind: Kind
    envelope: str  # list envelope key, e.g. "users"
    single: str  # single-record envelope key, e.g. "user"
    aliases: tuple[str, ...] = ()  # other list envelope keys seen in the wild
    select: tuple[str, str] | None = None  # implicit selection: (field, value)
    versions: tuple[Version, ...] = BOTH

    @property
    def path(self) -> str:
        return "/" + self.name

    @property
    def envelope_keys(self) -> tuple[str, ...]:
        """Every list envelope key accepted for this resource, preferred first."""
        return (self.envelope, *self.aliases)


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource("orgs", Kind.ORG, "orgs", "org", aliases=("schools",)),
        Resource("schools", Kind.ORG, "orgs", "org", aliases=("schools",), select=("type", "school")),
        Resource("academicSessions", Kind.ACADEMIC_SESSION, "academicSessions", "academicSession",
                 aliases=("terms", "gradingPeriods")),
        Resource("terms", Kind.ACADEMIC_SESSION, "academicSessions", "academicSession",
                 aliases=("terms",), select=("type", "term")),
        Resource("gradingPeriods", Kind.ACADEMIC_SESSION, "academicSessions", "academicSession",
                 aliases=("gradingPeriods",), select=("type", "gradingPeriod")),
        Resource("courses", Kind.COURSE, "courses", "course"),
        Resource("classes", Kind.CLASS, "classes", "class"),
        Resource("users", Kind.USER, "users", "user", aliases=("students", "teachers")),
        Resource("students", Kind.USER, "users", "user", aliases=("students",), select=("role", "student")),
        Resource("teachers", Kind.USER, "users", "user", aliases=("teachers",), select=("role", "teacher")),
        Resource("enrollments", Kind.ENROLLMENT, "enrollments", "enrollment"),
        Resource("demographics", Kind.DEMOGRAPHICS, "demographics", "demographics"),
    )
}

# The collections a full sync reads, in Infinite Campus's recommended order
# (students and teachers rather than /users).
SYNC_RESOURCES: tuple[str, ...] = (
    "orgs",
    "academicSessions",
    "demographics",
    "students",
    "teachers",
    "courses",
    "classes",
    "enrollments",
)


@dataclass(frozen=True)
class NestedRoute:
    """``/{parent}/{id}/{target}`` (or two levels deep for school/class).

    ``relation`` names how the parent id selects target records:

    * ``ref:<field>``: the target's GUIDRef field (single or list) names the id,
      e.g. ``ref:school`` for ``/schools/{id}/classes``;
    * ``org``: users whose orgs (1.1) or roles[].org (1.2) include the id;
    * ``enrolled_users``: users enrolled in the class ``id``;
    * ``user_classes``: classes the user ``id`` is enrolled in;
    * ``school_terms``: terms used by the classes of school ``id``;
    * ``parent``: academic sessions whose ``parent`` is the id.
    """

    parent: str  # resource name of the parent, e.g. "schools"
    target: str  # resource name of what is listed, e.g. "classes"
    relation: str
    inner: str | None = None  # for /schools/{sid}/classes/{cid}/X: "classes"

    @property
    def template(self) -> str:
        if self.inner:
            return f"/{self.parent}/{{parent_id}}/{self.inner}/{{inner_id}}/{self.target}"
        return f"/{self.parent}/{{parent_id}}/{self.target}"


NESTED_ROUTES: tuple[NestedRoute, ...] = (
    NestedRoute("schools", "classes", "ref:school"),
    NestedRoute("schools", "enrollments", "ref:school"),
    NestedRoute("schools", "students", "org"),
    NestedRoute("schools", "teachers", "org"),
    NestedRoute("schools", "terms", "school_terms"),
    NestedRoute("schools", "courses", "ref:org"),
    NestedRoute("schools", "enrollments", "ref:class", inner="classes"),
    NestedRoute("schools", "students", "enrolled_users", inner="classes"),
    NestedRoute("schools", "teachers", "enrolled_users", inner="classes"),
    NestedRoute("terms", "classes", "ref:terms"),
    NestedRoute("terms", "gradingPeriods", "parent"),
    NestedRoute("courses", "classes", "ref:course"),
    NestedRoute("users", "classes", "user_classes"),
    NestedRoute("students", "classes", "user_classes"),
    NestedRoute("teachers", "classes", "user_classes"),
    NestedRoute("classes", "students", "enrolled_users"),
    NestedRoute("classes", "teachers", "enrolled_users"),
)


def resource_for_envelope(body: dict, resource: Resource) -> tuple[str, object] | None:
    """The (key, value) of the first accepted list envelope present in ``body``."""
    for key in resource.envelope_keys:
        if key in body:
            return key, body[key]
    return None


def base_path(version: Version) -> str:
    """Path after the host-specific prefix, e.g. ``/ims/oneroster/v1p1``."""
    return "/ims/oneroster/" + version.path_segment

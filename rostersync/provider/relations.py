"""The nested routes: which target records a parent id selects.

Each relation named in :data:`rostersync.oneroster.resources.NESTED_ROUTES` is
answered from the per-revision indexes (no scan per request). A parent that
does not exist, or is not in the parent collection (``/schools/<a district>``),
is a 404 ``unknownobject``; an existing parent with no children is an empty
list. ``/classes/{id}/students`` lists users with a *student* enrollment in
the class who are also in ``/students`` (likewise for teachers); results keep
the source's natural order.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence

from ..oneroster import imsx
from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import RESOURCES, Resource
from .indexes import Indexes, Positions, org_field, ref_ids, selection_predicate
from .query import ProviderError, Route
from .source import RecordSource


def in_collection(resource: Resource, record: Mapping | None, version: Version) -> bool:
    """True when ``record`` exists and ``resource`` lists it (``/students`` only lists students)."""
    if record is None:
        return False
    predicate = selection_predicate(resource, version)
    return predicate is None or predicate(record)


def unknown_record(resource: Resource, sourced_id: str) -> ProviderError:
    """The 404 for a sourcedId that ``resource`` does not list."""
    return ProviderError(
        imsx.UNKNOWN_OBJECT, f"There is no {resource.single} with sourcedId {sourced_id!r} in /{resource.name}."
    )


def _positions_of(ids: Iterable[str], index: Mapping[str, int]) -> list[int]:
    return sorted({index[i] for i in ids if i in index})


def nested_positions(route: Route, version: Version, source: RecordSource, idx: Indexes) -> Positions:
    """Positions (into ``records(target kind)``) of the records a nested route lists."""
    nested = route.nested
    assert nested is not None and route.parent_id is not None
    parent_resource = RESOURCES[nested.parent]
    if not in_collection(parent_resource, source.get(parent_resource.kind, route.parent_id, version), version):
        raise unknown_record(parent_resource, route.parent_id)
    subject = route.parent_id
    if nested.inner:
        inner_resource = RESOURCES[nested.inner]
        inner = source.get(inner_resource.kind, route.inner_id or "", version)
        if not in_collection(inner_resource, inner, version) or route.parent_id not in set(ref_ids(inner, "school")):
            raise unknown_record(inner_resource, route.inner_id or "")
        subject = route.inner_id or ""

    target = route.resource
    records = source.records(target.kind, version)

    def compute() -> Positions:
        found = _related(nested.relation, target, subject, version, source, idx, records)
        predicate = selection_predicate(target, version)
        if predicate is not None:
            found = [p for p in found if predicate(records[p])]
        return array("q", found)

    return idx.cached(("nested",) + route.key, compute)


def _related(relation: str, target: Resource, subject: str, version: Version, source: RecordSource,
             idx: Indexes, records: Sequence[Mapping]) -> Sequence[int]:
    if relation.startswith("ref:") or relation == "parent":
        path = relation[4:] if relation.startswith("ref:") else "parent"
        return idx.by_ref(target.kind, version, path, records).get(subject, ())
    if relation == "org":
        return idx.by_ref(Kind.USER, version, org_field(version), records).get(subject, ())
    if relation == "enrolled_users":
        enrollments = source.records(Kind.ENROLLMENT, version)
        role = target.select[1] if target.select else None
        user_ids = [
            user
            for p in idx.by_ref(Kind.ENROLLMENT, version, "class", enrollments).get(subject, ())
            if role is None or role in set(ref_ids(enrollments[p], "role"))
            for user in ref_ids(enrollments[p], "user")
        ]
        return _positions_of(user_ids, idx.by_id(Kind.USER, version, records))
    if relation == "user_classes":
        enrollments = source.records(Kind.ENROLLMENT, version)
        class_ids = [
            cls
            for p in idx.by_ref(Kind.ENROLLMENT, version, "user", enrollments).get(subject, ())
            for cls in ref_ids(enrollments[p], "class")
        ]
        return _positions_of(class_ids, idx.by_id(Kind.CLASS, version, records))
    if relation == "school_terms":
        classes = source.records(Kind.CLASS, version)
        term_ids = [
            term
            for p in idx.by_ref(Kind.CLASS, version, "school", classes).get(subject, ())
            for term in ref_ids(classes[p], "terms")
        ]
        return _positions_of(term_ids, idx.by_id(Kind.ACADEMIC_SESSION, version, records))
    raise ProviderError(imsx.UNKNOWN_OBJECT, f"The relation {relation!r} is not served.")

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


# Relations that go through records of another kind: the subject id selects
# ``via`` records by ``via_field``; their ``out_field`` names the records listed.
_VIA: dict[str, tuple[Kind, str, str, Kind]] = {
    "enrolled_users": (Kind.ENROLLMENT, "class", "user", Kind.USER),  # limited to the target's role
    "user_classes": (Kind.ENROLLMENT, "user", "class", Kind.CLASS),
    "school_terms": (Kind.CLASS, "school", "terms", Kind.ACADEMIC_SESSION),
}


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
    if relation in _VIA:
        via_kind, via_field, out_field, out_kind = _VIA[relation]
        via = source.records(via_kind, version)
        role = target.select[1] if relation == "enrolled_users" and target.select else None
        ids = [
            out
            for p in idx.by_ref(via_kind, version, via_field, via).get(subject, ())
            if role is None or role in set(ref_ids(via[p], "role"))
            for out in ref_ids(via[p], out_field)
        ]
        return _positions_of(ids, idx.by_id(out_kind, version, records))
    raise ProviderError(imsx.UNKNOWN_OBJECT, f"The relation {relation!r} is not served.")

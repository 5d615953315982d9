"""Per-revision indexes and result caches, so big sources are not scanned per request.

Everything here is keyed on the source's ``revision``: when it changes,
:class:`Indexes` is rebuilt from scratch. Indexes are built lazily, once, on
first use (one scan of the collection they cover); matching index lists of
filtered or sorted queries live in a small LRU. Position lists are stored as
``array('q')`` (8 bytes per record) rather than lists of ints.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence

from ..oneroster.filter import Clause, Filter, compile_filter, values_at
from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import Resource

Positions = Sequence[int]  # range, array('q') or list of positions into records(kind, version)


def selection_predicate(resource: Resource, version: Version) -> Callable[[Mapping], bool] | None:
    """The implicit selection of ``resource`` (``/students``: role student), or None."""
    if resource.select is None:
        return None
    field, value = resource.select
    if resource.kind is Kind.USER and field == "role" and version is Version.V1P2:
        field = "roles.role"
    return compile_filter(Filter((Clause(field, "=", value),)))


def org_field(version: Version) -> str:
    """Where a user names its orgs: ``orgs`` in 1.1, ``roles[].org`` in 1.2."""
    return "orgs" if version is Version.V1P1 else "roles.org"


def ref_ids(record: Mapping, path: str) -> list[str]:
    """The sourcedIds a GUIDRef field (single or list, or a dotted path to them) names."""
    if "." not in path:  # fast path for plain dicts: school, orgs, terms, class, user
        value = record.get(path)
        if value is None:
            return []
        if type(value) is dict:
            ref = value.get("sourcedId")
            return [ref] if type(ref) is str else []
        if type(value) is list:
            out = []
            for item in value:
                if type(item) is not dict:
                    break
                ref = item.get("sourcedId")
                if type(ref) is str:
                    out.append(ref)
            else:
                return out
    return [v for v in values_at(record, path) if isinstance(v, str)]


class Indexes:
    """Lazily built lookups over one revision of a record source.

    Thread-safe: builds and cache misses are serialised by one lock, cache hits
    take only a short lock.
    """

    def __init__(self, revision: int, *, cache_size: int = 16) -> None:
        self.revision = revision
        self._cache_size = cache_size
        self._built: dict[Hashable, object] = {}
        self._results: OrderedDict[Hashable, Positions] = OrderedDict()
        self._build_lock = threading.RLock()
        self._lru_lock = threading.Lock()

    # -- generic memo -------------------------------------------------------

    def _memo(self, key: Hashable, build: Callable[[], object]) -> object:
        found = self._built.get(key)
        if found is not None:
            return found
        with self._build_lock:
            found = self._built.get(key)
            if found is None:
                found = build()
                self._built[key] = found
            return found

    def cached(self, key: Hashable, compute: Callable[[], Positions]) -> Positions:
        """The LRU entry for ``key``, computed (once, under a lock) on a miss."""
        with self._lru_lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        with self._build_lock:
            with self._lru_lock:
                if key in self._results:
                    return self._results[key]
            value = compute()
            with self._lru_lock:
                self._results[key] = value
                while len(self._results) > self._cache_size:
                    self._results.popitem(last=False)
            return value

    # -- indexes ------------------------------------------------------------

    def selection(self, resource: Resource, version: Version, records: Sequence[Mapping],
                  source: object = None) -> Positions:
        """Positions of the records ``resource`` lists (all of them without an implicit selection);
        from ``source.selection`` when the source offers it (see :class:`.source.RecordSource`)."""
        predicate = selection_predicate(resource, version)
        if predicate is None:
            return range(len(records))
        quick = getattr(source, "selection", None)

        def build() -> Positions:
            found = quick(resource, version) if quick is not None else None
            if found is not None:
                return found
            return array("q", (i for i, r in enumerate(records) if predicate(r)))

        return self._memo(("selection", resource.name, version), build)  # type: ignore[return-value]

    def by_ref(self, kind: Kind, version: Version, path: str, records: Sequence[Mapping]) -> dict[str, array]:
        """sourcedId -> positions of ``kind`` records whose ``path`` (GUIDRef or list of them) names it."""

        def build() -> dict[str, array]:
            index: dict[str, array] = {}
            for i, record in enumerate(records):
                for ref in ref_ids(record, path):
                    bucket = index.get(ref)
                    if bucket is None:
                        index[ref] = bucket = array("q")
                    if not bucket or bucket[-1] != i:
                        bucket.append(i)
            return index

        return self._memo(("ref", kind, version, path), build)  # type: ignore[return-value]

    def by_id(self, kind: Kind, version: Version, records: Sequence[Mapping]) -> dict[str, int]:
        """sourcedId -> position of ``kind`` records."""

        def build() -> dict[str, int]:
            return {r.get("sourcedId"): i for i, r in enumerate(records) if isinstance(r.get("sourcedId"), str)}

        return self._memo(("id", kind, version), build)  # type: ignore[return-value]

"""The record source the sandbox serves: the district, plus records faults inserted.

:class:`OverlaySource` is a :class:`~rostersync.provider.RecordSource` over a
district. The ``insert_record`` fault puts extra records at the front of a
collection (before any offset a client has reached), so the total shifts
between two pages. ``records()`` returns a snapshot view: a page already
being streamed is not disturbed by a later insertion.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence
from typing import Any

from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import Resource
from ..provider.indexes import selection_predicate


class _Prefixed(Sequence):
    """``front`` followed by ``rest``, without copying ``rest``."""

    __slots__ = ("_front", "_rest", "_n")

    def __init__(self, front: tuple[dict, ...], rest: Sequence[dict]) -> None:
        self._front, self._rest, self._n = front, rest, len(front)

    def __len__(self) -> int:
        return self._n + len(self._rest)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if 0 <= index < self._n:
            return self._front[index]
        if index < 0:
            raise IndexError(index)
        return self._rest[index - self._n]

    def take(self, positions: Sequence[int]) -> list[dict]:
        """The records at ``positions``; those past ``front`` rendered by ``rest`` in one call when it can."""
        n, rest = self._n, self._rest
        if not hasattr(rest, "take") or any(p < n for p in positions):
            return [self[p] for p in positions]
        return rest.take([p - n for p in positions])

    def __iter__(self):
        yield from self._front
        yield from self._rest


class OverlaySource:
    """``district`` as a RecordSource, with fault-inserted records in front."""

    def __init__(self, district: Any) -> None:
        self.district = district
        self._lock = threading.Lock()
        self._front: dict[tuple[Kind, Version], tuple[dict, ...]] = {}
        self._by_id: dict[tuple[Kind, Version], dict[str, dict]] = {}
        self._inserts = 0

    @property
    def revision(self) -> int:
        return int(self.district.revision) * 1_000_003 + self._inserts

    def records(self, kind: Kind, version: Version) -> Sequence[dict]:
        rest = self.district.records(kind, version)
        front = self._front.get((kind, version))
        return _Prefixed(front, rest) if front else rest

    def selection(self, resource: Resource, version: Version) -> Sequence[int] | None:
        """The district's :meth:`~rostersync.sandbox.district.District.selection`, after the inserted records."""
        found = self.district.selection(resource, version)
        front = self._front.get((resource.kind, version))
        if found is None or not front:
            return found
        predicate = selection_predicate(resource, version)
        return array("q", [*(i for i, r in enumerate(front) if predicate is None or predicate(r)),
                           *(len(front) + p for p in found)])

    def get(self, kind: Kind, sourced_id: str, version: Version) -> dict | None:
        found = self._by_id.get((kind, version), {}).get(sourced_id)
        return found if found is not None else self.district.get(kind, sourced_id, version)

    def insert_copy(self, kind: Kind, version: Version, template: dict, *, stamp: str) -> dict:
        """Put a copy of ``template`` with a new sourcedId at the front of ``kind``; returns it."""
        with self._lock:
            n = self._inserts + 1
            record = dict(template)
            record["sourcedId"] = f"{template.get('sourcedId', 'record')}-new{n}"
            record["dateLastModified"] = stamp
            record["status"] = "active"
            key = (kind, version)
            self._front[key] = (record, *self._front.get(key, ()))
            self._by_id.setdefault(key, {})[record["sourcedId"]] = record
            self._inserts = n  # last: the new revision is only seen with the new data
            return record

    @property
    def inserted(self) -> int:
        """How many records faults inserted."""
        return self._inserts

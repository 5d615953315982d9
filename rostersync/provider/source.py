"""What the provider serves from: the record source protocol and an in-memory source."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Protocol, runtime_checkable

from ..oneroster.kinds import Kind, Version

# Records fetched at a time from a source's sequence. Few enough that the containers of one part
# (a user record is about nine) stay under Python's 700 net allocations between young collections,
# so records read and dropped a part at a time are freed by reference counting before the
# collector ever walks them (with whole pages of records alive, its full passes cost more than
# rendering them).
PART_RECORDS = 50


@runtime_checkable
class RecordSource(Protocol):
    """Records of every kind, already in each version's JSON shape.

    ``revision`` must change whenever the data changes: the provider keys its
    indexes and result caches on it. ``records`` returns a stable order (the
    natural order of unsorted pages) and may render items lazily on access.

    A source that renders lazily may also offer ``selection(resource, version)``:
    the positions in ``records(resource.kind, version)`` of the records an
    implicit selection (``/students``: role student) lists, found without
    rendering every record, or None to let the provider filter them; and the
    sequence ``records`` returns may offer ``take(positions) -> list``, the
    records at those positions rendered in one call (see :func:`record_parts`).
    """

    revision: int

    def records(self, kind: Kind, version: Version) -> Sequence[dict]: ...

    def get(self, kind: Kind, sourced_id: str, version: Version) -> dict | None: ...


def record_parts(records: Sequence[Mapping], positions: Sequence[int], part: int = PART_RECORDS) -> Iterator[list]:
    """``records[p] for p in positions`` as lists of at most ``part``, each fetched when due: in one
    ``records.take(...)`` call where the sequence offers it, else record by record."""
    take = getattr(records, "take", None)
    for start in range(0, len(positions), part):
        some = positions[start:start + part]
        yield take(some) if take is not None else [records[p] for p in some]


class InMemorySource:
    """A list-backed :class:`RecordSource` (tests, small fixtures, CSV packages).

    ``data`` maps ``(kind, version)`` to JSON-ready record dicts. :meth:`replace`
    swaps one collection and bumps ``revision``.
    """

    def __init__(self, data: Mapping[tuple[Kind, Version], Iterable[dict]] | None = None) -> None:
        self.revision = 0
        self._lists: dict[tuple[Kind, Version], list[dict]] = {}
        self._ids: dict[tuple[Kind, Version], dict[str, dict]] = {}
        for key, records in (data or {}).items():
            self._store(key, records)

    def _store(self, key: tuple[Kind, Version], records: Iterable[dict]) -> None:
        items = list(records)
        self._lists[key] = items
        self._ids[key] = {r["sourcedId"]: r for r in items if isinstance(r.get("sourcedId"), str)}

    def replace(self, kind: Kind, version: Version, records: Iterable[dict]) -> None:
        """Swap the records of one kind and version (and invalidate provider caches)."""
        self._store((kind, version), records)
        self.revision += 1

    def records(self, kind: Kind, version: Version) -> Sequence[dict]:
        return self._lists.get((kind, version), [])

    def get(self, kind: Kind, sourced_id: str, version: Version) -> dict | None:
        return self._ids.get((kind, version), {}).get(sourced_id)

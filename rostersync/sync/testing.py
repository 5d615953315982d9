"""An in-memory :class:`~rostersync.sync.reader.RosterReader` for tests and demos.

Not used by rostersync itself. :class:`FakeReader` serves collections of raw
OneRoster dicts (or a sandbox district), parsed the way the client parses
them, and misbehaves on cue::

    reader = FakeReader.from_district(district)
    reader.fail("teachers", ProviderUnavailable("down"), after=3)  # raise after 3 records
    reader.replace("students", [])                                    # come back empty
    reader.inject("users", {"givenName": "no sourcedId"})            # a malformed record
    engine = SyncEngine(engine=db, vault=vault, reader_factory=reader.factory)

``since`` keeps records whose dateLastModified is after it, as a provider's
``dateLastModified>'...'`` filter does; ``calls`` records every read.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..oneroster.kinds import Kind, Version
from ..oneroster.records import Record, RecordError, parse_record
from ..oneroster.resources import RESOURCES, SYNC_RESOURCES
from ..store.types import parse_timestamp


class FakeReader:
    """Collections of raw records by resource name (see the module docstring)."""

    def __init__(self, collections: Mapping[str, Sequence[dict[str, Any]]], *, version: Version = Version.V1P1):
        self.collections: dict[str, list[Any]] = {name: list(items) for name, items in collections.items()}
        self.version = version
        self.calls: list[tuple[str, datetime.datetime | None]] = []
        self._failures: dict[str, tuple[BaseException, int]] = {}
        self.on_record: Callable[[str, int], None] | None = None  # called before yielding record #n

    @classmethod
    def from_district(cls, district: Any, *, version: Version = Version.V1P1) -> FakeReader:
        """Every collection a sync reads, from a sandbox district as it is now."""
        return cls(district_collections(district, version), version=version)

    def factory(self, connection: Any, secrets: Mapping[str, Any]) -> FakeReader:
        """Use as ``SyncEngine(reader_factory=reader.factory)``."""
        return self

    def replace(self, resource: str, items: Sequence[Any]) -> None:
        self.collections[resource] = list(items)

    def inject(self, resource: str, *items: Any) -> None:
        """Append raw items (any JSON value) to a collection."""
        self.collections.setdefault(resource, []).extend(items)

    def fail(self, resource: str, error: BaseException, *, after: int = 0) -> None:
        """Raise ``error`` after yielding ``after`` records of ``resource``."""
        self._failures[resource] = (error, after)

    def heal(self) -> None:
        self._failures.clear()

    def read(self, resource: str, *, since: datetime.datetime | None = None) -> Iterator[Record | RecordError]:
        kind = RESOURCES[resource].kind
        for raw in self.read_objects(resource, since=since):
            try:
                yield parse_record(kind, raw, self.version)
            except RecordError as exc:
                yield exc

    def read_objects(self, resource: str, *, since: datetime.datetime | None = None) -> Iterator[Any]:
        """The raw items of ``resource``, as the engine's fast route reads them (``read`` parses these)."""
        self.calls.append((resource, since))
        failure = self._failures.get(resource)
        count = 0
        for raw in self.collections.get(resource, []):
            if since is not None and isinstance(raw, dict):
                stamp = parse_timestamp(raw.get("dateLastModified"))
                if stamp is not None and stamp <= since:
                    continue
            if failure is not None and count >= failure[1]:
                raise failure[0]
            if self.on_record is not None:
                self.on_record(resource, count)
            count += 1
            yield raw
        if failure is not None:
            raise failure[0]


def district_collections(district: Any, version: Version = Version.V1P1) -> dict[str, list[dict[str, Any]]]:
    """The raw records of every sync collection of a sandbox district (students and teachers split by role)."""
    out = {}
    for name in SYNC_RESOURCES:
        resource = RESOURCES[name]
        records = district.records(resource.kind, version)
        if resource.select is None:
            out[name] = list(records)
        else:
            out[name] = [r for r in records if _selected(r, resource.select, resource.kind)]
    return out


def _selected(raw: dict[str, Any], select: tuple[str, str], kind: Kind) -> bool:
    field, value = select
    if kind is Kind.USER and field == "role" and "roles" in raw:  # 1.2: the primary role
        roles = raw.get("roles") or []
        primary = [r for r in roles if isinstance(r, dict) and r.get("roleType") == "primary"] or roles[:1]
        return bool(primary) and primary[0].get("role") == value
    return raw.get(field) == value

"""The OneRoster read API over any :class:`RecordSource`, framework-agnostic.

``OneRosterService(source, version=...).handle(path, query, base_url)``
answers one GET: collections (with implicit selections), single records,
nested routes, paging (``limit`` clamped to ``max_limit``, ``X-Total-Count``,
``Link``), ``filter``, ``sort``/``orderBy`` and ``fields``. Bad input gets an
imsx error body with the right HTTP status, never a 500.

Cost model: an unfiltered, unsorted page of an unselected collection slices
the source's sequence directly. Implicit selections and nested relations are
per-revision indexes; filtered/sorted results are cached per (route, filter,
sort, revision) in a small LRU. Records are rendered and serialised only for
the requested page, in chunks.
"""

from __future__ import annotations

import logging
import threading
from array import array
from collections.abc import Mapping, Sequence
from itertools import chain
from operator import itemgetter

from ..oneroster import imsx
from ..oneroster.filter import compile_filter, leaf_text, values_at
from ..oneroster.kinds import Version
from .indexes import Indexes, Positions
from .query import ProviderError, Query, parse_query, resolve_route
from .relations import in_collection, nested_positions, unknown_record
from .response import (
    CHUNK_RECORDS,
    JSON,
    ProviderResponse,
    error_response,
    paging_headers,
    project,
    single_response,
    stream_records,
)
from .source import RecordSource, record_parts

logger = logging.getLogger(__name__)


def _sort_key(fields: Sequence[str]):
    """Key of a record for ``sort``: missing values sort last ascending (first descending)."""

    def one(record: Mapping, name: str) -> tuple[int, str]:
        value = record.get(name)
        if type(value) is not str:
            value = next(values_at(record, name), None)
        return (1, "") if value is None else (0, leaf_text(value))

    if len(fields) == 1:
        name = fields[0]
        return lambda record: one(record, name)
    return lambda record: tuple(one(record, name) for name in fields)


class OneRosterService:
    """Serves one OneRoster version of ``source``."""

    def __init__(
        self,
        source: RecordSource,
        *,
        version: Version,
        max_limit: int = 10_000,
        default_limit: int = 100,
        cache_size: int = 16,
        chunk_records: int = CHUNK_RECORDS,
    ) -> None:
        if max_limit < 1 or default_limit < 1:
            raise ValueError("max_limit and default_limit must be at least 1")
        self.source = source
        self.version = Version(version)
        self.max_limit = max_limit
        self.default_limit = min(default_limit, max_limit)
        self._cache_size = cache_size
        self._chunk = chunk_records
        self._lock = threading.Lock()
        self._indexes: Indexes | None = None

    def handle(self, path: str, query: Sequence[tuple[str, str]], base_url: str) -> ProviderResponse:
        """Answer ``GET {base_url}{path}?{query}``; ``path`` is relative to the Base URL."""
        try:
            return self._handle(path, query, base_url)
        except ProviderError as exc:
            return error_response(exc.code_minor, exc.message)
        except Exception:  # a source or provider bug: no stack trace to the caller
            logger.exception("OneRoster provider failed to answer a %s request", self.version.value)
            return error_response(imsx.INTERNAL_SERVER_ERROR, "The server failed to answer this request.")

    def indexes(self) -> Indexes:
        """The indexes of the source's current revision (rebuilt when it changes)."""
        revision = self.source.revision
        with self._lock:
            if self._indexes is None or self._indexes.revision != revision:
                self._indexes = Indexes(revision, cache_size=self._cache_size)
            return self._indexes

    def _handle(self, path: str, query: Sequence[tuple[str, str]], base_url: str) -> ProviderResponse:
        route = resolve_route(path, self.version)
        resource = route.resource
        q = parse_query(query, resource.kind, self.version,
                        default_limit=self.default_limit, max_limit=self.max_limit)
        if route.sourced_id is not None:
            record = self.source.get(resource.kind, route.sourced_id, self.version)
            if not in_collection(resource, record, self.version):
                raise unknown_record(resource, route.sourced_id)
            return single_response(resource.single, next(project([record], q.fields)))

        idx = self.indexes()
        records = self.source.records(resource.kind, self.version)
        if route.nested is not None:
            base = nested_positions(route, self.version, self.source, idx)
        else:
            base = idx.selection(resource, self.version, records, self.source)
        positions = base
        if q.filter is not None or q.sort:
            positions = idx.cached((route.key, q.result_key), lambda: self._select(base, records, q))

        total = len(positions)
        page = positions[q.offset:q.offset + q.limit]
        body = stream_records(resource.envelope, records, page, fields=q.fields, chunk=self._chunk)
        headers = {"Content-Type": JSON}
        headers.update(paging_headers(base_url=base_url, path=path, query=query, total=total,
                                      limit=q.limit, offset=q.offset))
        return ProviderResponse(200, headers, body)

    @staticmethod
    def _select(base: Positions, records: Sequence[Mapping], q: Query) -> Positions:
        predicate = compile_filter(q.filter) if q.filter is not None else None
        each = zip(base, chain.from_iterable(record_parts(records, base)))
        if not q.sort:
            return array("q", (p for p, record in each if predicate(record)))  # type: ignore[misc]
        key = _sort_key(q.sort)
        keyed = []
        for p, record in each:
            if predicate is None or predicate(record):
                keyed.append((key(record), p))
        keyed.sort(key=itemgetter(0), reverse=q.descending)
        return array("q", (p for _, p in keyed))


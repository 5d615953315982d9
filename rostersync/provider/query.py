"""Reading a OneRoster request: which route it names and which query it asks.

:func:`resolve_route` turns a path relative to the Base URL into a
:class:`Route`; :func:`parse_query` validates ``limit``, ``offset``,
``filter``, ``sort``, ``orderBy`` and ``fields`` against the kind and version
being served. Both raise :class:`ProviderError`, which carries the imsx code
minor the response must use. Unknown query parameters (``oauth_*`` signing
parameters, cache busters) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import Terminal
from ..oneroster import imsx
from ..oneroster.fields import is_known_path, top_level_fields
from ..oneroster.filter import Filter, FilterSyntaxError, parse_filter
from ..oneroster.kinds import Kind, Version
from ..oneroster.resources import NESTED_ROUTES, RESOURCES, NestedRoute, Resource

_INT_RE = re.compile(r"\s*[+-]?\d{1,18}\s*")


class ProviderError(Terminal):
    """The request cannot be served."""

    def __init__(self, code_minor: str, description: str) -> None:
        self.code_minor = code_minor
        self.status = imsx.HTTP_STATUS.get(code_minor, 500)
        super().__init__(description)


@dataclass(frozen=True)
class Route:
    """A resolved path: a collection, one record, or a nested collection."""

    resource: Resource  # what is listed or fetched
    sourced_id: str | None = None  # /{collection}/{sourcedId}
    nested: NestedRoute | None = None
    parent_id: str | None = None
    inner_id: str | None = None

    @property
    def key(self) -> tuple:
        """Identifies the candidate set (for result caches)."""
        rel = self.nested.relation if self.nested else None
        parent = self.nested.parent if self.nested else None
        return (self.resource.name, parent, rel, self.parent_id, self.inner_id)


_NESTED = {(r.parent, r.inner, r.target): r for r in NESTED_ROUTES}


def resolve_route(path: str, version: Version) -> Route:
    """The route ``path`` (relative to the Base URL) names; 404 ``unknownobject`` if none."""
    segments = [s for s in path.split("/") if s]

    def resource(name: str) -> Resource | None:
        found = RESOURCES.get(name)
        return found if found is not None and version in found.versions else None

    route: Route | None = None
    if len(segments) == 1 and resource(segments[0]):
        route = Route(resource(segments[0]))
    elif len(segments) == 2 and resource(segments[0]):
        route = Route(resource(segments[0]), sourced_id=segments[1])
    elif len(segments) == 3:
        nested = _NESTED.get((segments[0], None, segments[2]))
        if nested and resource(nested.target):
            route = Route(resource(nested.target), nested=nested, parent_id=segments[1])
    elif len(segments) == 5:
        nested = _NESTED.get((segments[0], segments[2], segments[4]))
        if nested and resource(nested.target):
            route = Route(resource(nested.target), nested=nested, parent_id=segments[1], inner_id=segments[3])
    if route is None:
        shown = "/" + "/".join(segments)
        raise ProviderError(imsx.UNKNOWN_OBJECT, f"There is no OneRoster {version.value} endpoint at {shown}.")
    return route


@dataclass(frozen=True)
class Query:
    """Validated query parameters of one request."""

    limit: int
    offset: int = 0
    filter: Filter | None = None
    sort: tuple[str, ...] = ()
    descending: bool = False
    fields: tuple[str, ...] = ()

    @property
    def result_key(self) -> tuple:
        """What decides the matching, ordered index list (paging and projection excluded)."""
        return (str(self.filter) if self.filter else None, self.sort, self.descending)


def _first(query: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in query:
        if key == name:
            return value
    return None


def _whole_number(name: str, text: str, minimum: int) -> int:
    if not _INT_RE.fullmatch(text) or int(text) < minimum:
        kind = "a positive whole number" if minimum > 0 else "a whole number, 0 or more"
        raise ProviderError(imsx.INVALID_PAGING, f"{name} must be {kind}; got {text[:40]!r}.")
    return int(text)


def parse_query(
    query: Sequence[tuple[str, str]],
    kind: Kind,
    version: Version,
    *,
    default_limit: int,
    max_limit: int,
) -> Query:
    """Validate the query parameters of a request for ``kind`` records in ``version``."""
    limit_text = _first(query, "limit")
    limit = default_limit if limit_text is None else _whole_number("limit", limit_text, 1)
    limit = min(limit, max_limit)
    offset_text = _first(query, "offset")
    offset = 0 if offset_text is None else _whole_number("offset", offset_text, 0)

    flt: Filter | None = None
    filter_text = _first(query, "filter")
    if filter_text is not None and filter_text.strip():
        try:
            flt = parse_filter(filter_text)
        except FilterSyntaxError as exc:
            raise ProviderError(imsx.INVALID_FILTER_FIELD, exc.message) from exc
        for name in flt.fields:
            if not is_known_path(kind, version, name):
                raise ProviderError(
                    imsx.INVALID_FILTER_FIELD,
                    f"{name!r} is not a field of {kind.value} in OneRoster {version.value}; it cannot be filtered on.",
                )

    sort: tuple[str, ...] = ()
    sort_text = _first(query, "sort")
    if sort_text is not None and sort_text.strip():
        sort = tuple(s.strip() for s in sort_text.split(",") if s.strip())
        for name in sort:
            if not is_known_path(kind, version, name):
                raise ProviderError(
                    imsx.INVALID_SORT_FIELD,
                    f"{name[:60]!r} is not a field of {kind.value} in OneRoster {version.value}; it cannot be sorted on.",
                )
    order_text = (_first(query, "orderBy") or "asc").strip().lower()
    if order_text not in ("asc", "desc"):
        raise ProviderError(imsx.INVALID_SORT_FIELD, f"orderBy must be asc or desc; got {order_text[:20]!r}.")

    fields: list[str] = []
    allowed = top_level_fields(kind, version)
    for key, value in query:
        if key != "fields":
            continue
        for name in (n.strip() for n in value.split(",")):
            if not name or name in fields:
                continue
            if name not in allowed:
                raise ProviderError(
                    imsx.INVALID_SELECTION_FIELD,
                    f"{name[:60]!r} is not a field of {kind.value} in OneRoster {version.value}; it cannot be selected.",
                )
            fields.append(name)
    return Query(limit, offset, flt, sort, order_text == "desc", tuple(fields))

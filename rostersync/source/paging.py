"""Offset paging as a small strategy object: where the next page starts, when
to stop, and which pages are safe to fetch ahead.

End of a collection, in order of trust: a ``Link`` header (``rel=next`` means
more; Link headers without ``next`` mean the end), then ``X-Total-Count``,
then "the page was full". An empty page always stops; ``max_pages`` is a hard
bound. A first page shorter than asked with nothing else to go on is followed
by one probe, because providers that silently cap the page size would
otherwise be read as one page (the classic "users past page one are lost").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import InvalidResponse


@dataclass(frozen=True, slots=True)
class Page:
    """One page as received: its offset, raw items and what the headers said."""

    offset: int
    items: list[Any]
    total: int | None  # X-Total-Count
    next_url: httpx.URL | None  # Link rel=next, resolved against the request URL
    has_links: bool  # the response carried a Link header at all


class OffsetPaging:
    """Decides the next offset of one read pass; remembers the totals it saw."""

    def __init__(self, *, limit: int, max_pages: int, what: str) -> None:
        self.limit = limit  # page size asked for; shrinks to the provider's cap once seen
        self.max_pages = max_pages
        self.what = what
        self.pages = 0
        self.totals: set[int] = set()
        self.total: int | None = None  # the latest X-Total-Count
        self._last_full = False
        self._probing = False
        self.cursor: httpx.URL | None = None  # a rel=next without an offset: follow it as given

    def advance(self, page: Page) -> int | None:
        """Record ``page``; return the offset of the next page, or None at the end."""
        self.pages += 1
        if page.total is not None:
            self.totals.add(page.total)
            self.total = page.total
        count = len(page.items)
        if count == 0:
            return None
        first, self._probing = self.pages == 1, False
        link_offset = _offset_of(page.next_url)
        self.cursor = page.next_url if page.next_url is not None and link_offset is None else None
        if page.next_url is not None:
            more = True
        elif page.has_links:
            more = False
        elif page.total is not None:
            more = page.offset + count < page.total
        else:
            more = count >= self.limit
            if not more and first:
                self._probing = more = True  # maybe a silent page-size cap: look once more
        if first and count < self.limit and more and (link_offset is None or link_offset == count):
            self.limit = count  # the provider caps pages at this size
        self._last_full = count >= self.limit
        if not more:
            return None
        if self.pages >= self.max_pages:
            raise InvalidResponse(
                f"{self.what}: stopped after {self.pages} pages of {self.limit} records and the provider "
                "still offered more (hard limit)",
                fix="Check that the provider honours the offset parameter; report it to the vendor.",
            )
        if link_offset is not None and link_offset > page.offset:
            return link_offset
        return page.offset + count

    def ahead(self, offset: int, count: int) -> Iterator[int]:
        """Up to ``count`` offsets after ``offset`` worth fetching now (never past the known end)."""
        if self._probing or self.cursor is not None or count <= 0:
            return
        for i in range(1, count + 1):
            nxt = offset + i * self.limit
            if self.total is not None:
                if nxt >= self.total:
                    return
            elif not self._last_full:
                return
            if nxt // self.limit >= self.max_pages:
                return
            yield nxt


def _offset_of(url: httpx.URL | None) -> int | None:
    if url is None:
        return None
    value = url.params.get("offset")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None

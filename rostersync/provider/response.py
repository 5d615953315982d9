"""Framework-agnostic responses: status, headers and a streamed JSON body.

Collections are written with orjson a few thousand records at a time, so a
50,000-record page never exists as one bytes object. ``Link`` headers carry
absolute first/prev/next/last URLs that keep the request's other query
parameters (except OAuth 1.0a signing parameters, which would be stale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import quote

import orjson

from ..oneroster import imsx

JSON = "application/json"
CHUNK_RECORDS = 2000
_DROP_FROM_LINKS = ("limit", "offset", "access_token")


@dataclass
class ProviderResponse:
    """What to send: ``body`` is an iterator of byte chunks (consume it once)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Iterable[bytes] = ()

    def read(self) -> bytes:
        """The whole body (tests and small responses)."""
        return b"".join(self.body)


def error_response(code_minor: str, description: str, *, status: int | None = None) -> ProviderResponse:
    """An imsx failure body with the HTTP status of ``code_minor``."""
    http_status, body = imsx.error_status(code_minor, description)
    return ProviderResponse(status or http_status, {"Content-Type": JSON}, [orjson.dumps(body)])


def single_response(envelope: str, record: Mapping) -> ProviderResponse:
    return ProviderResponse(200, {"Content-Type": JSON}, [orjson.dumps({envelope: record})])


def stream_collection(envelope: str, records: Iterable[Mapping], *, chunk: int = CHUNK_RECORDS) -> Iterator[bytes]:
    """``{"<envelope>": [...]}`` as chunks of at most ``chunk`` records each."""
    yield b'{' + orjson.dumps(envelope) + b':['
    iterator = iter(records)
    first = True
    while True:
        batch = list(islice(iterator, chunk))
        if not batch:
            break
        data = orjson.dumps(batch)
        yield (b"" if first else b",") + data[1:-1]
        first = False
    yield b"]}"


def project(records: Iterable[Mapping], fields: Sequence[str]) -> Iterator[Mapping]:
    """Each record cut down to ``fields`` (in that order); every record when ``fields`` is empty."""
    if not fields:
        yield from records
        return
    for record in records:
        yield {name: record[name] for name in fields if name in record}


def _url(base_url: str, path: str, kept: Sequence[tuple[str, str]], limit: int, offset: int) -> str:
    params = [*kept, ("limit", str(limit)), ("offset", str(offset))]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return f"{base_url.rstrip('/')}/{path.lstrip('/')}?{query}"


def paging_headers(
    *, base_url: str, path: str, query: Sequence[tuple[str, str]], total: int, limit: int, offset: int
) -> dict[str, str]:
    """``X-Total-Count`` and a ``Link`` header with first, prev, next and last."""
    kept = [(k, v) for k, v in query if k not in _DROP_FROM_LINKS and not k.startswith("oauth_")]
    last = ((total - 1) // limit) * limit if total > 0 else 0
    url: Callable[[int], str] = lambda o: _url(base_url, path, kept, limit, o)  # noqa: E731
    links = [(url(0), "first")]
    if offset > 0:
        links.append((url(min(max(offset - limit, 0), last)), "prev"))
    if offset + limit < total:
        links.append((url(offset + limit), "next"))
    links.append((url(last), "last"))
    return {
        "X-Total-Count": str(total),
        "Link": ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links),
    }

"""Framework-agnostic responses: status, headers and a streamed JSON body.

Collections are written with orjson a few thousand records at a time, so a
50,000-record page never exists as one bytes object (:func:`stream_records`).
``Link`` headers carry absolute first/prev/next/last URLs that keep the
request's other query parameters (except OAuth 1.0a signing parameters, which
would be stale).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import orjson

from ..oneroster import imsx
from .source import record_parts

JSON = "application/json"
CHUNK_RECORDS = 2000  # records per chunk of a streamed body
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


def stream_records(envelope: str, records: Sequence[Mapping], positions: Sequence[int], *,
                   fields: Sequence[str] = (), chunk: int = CHUNK_RECORDS) -> Iterator[bytes]:
    """``{"<envelope>": [records[p] for p in positions]}``, each record cut down to ``fields``
    (see :func:`project`): the opening, one chunk per ``chunk`` records, the closing.

    The records of a chunk are fetched when it is due, and fetched, projected and serialised a
    few at a time (:func:`.source.record_parts`), so they are freed as soon as they are written.
    """
    dumps = orjson.dumps
    yield b"{" + dumps(envelope) + b":["
    for start in range(0, len(positions), chunk):
        pieces = [b""] if start else []  # joined: a comma before every chunk but the first
        for batch in record_parts(records, positions[start:start + chunk]):
            pieces.append(dumps(list(project(batch, fields)) if fields else batch)[1:-1])
        yield b",".join(pieces)
    yield b"]}"


def project(records: Iterable[Mapping], fields: Sequence[str]) -> Iterator[Mapping]:
    """Each record cut down to ``fields`` (in that order); every record when ``fields`` is empty."""
    if not fields:
        yield from records
        return
    for record in records:
        yield {name: record[name] for name in fields if name in record}


def paging_headers(
    *, base_url: str, path: str, query: Sequence[tuple[str, str]], total: int, limit: int, offset: int
) -> dict[str, str]:
    """``X-Total-Count`` and a ``Link`` header with first, prev, next and last."""
    kept = "".join(f"{quote(k, safe='')}={quote(v, safe='')}&" for k, v in query
                   if k not in _DROP_FROM_LINKS and not k.startswith("oauth_"))
    prefix = f"{base_url.rstrip('/')}/{path.lstrip('/')}?{kept}limit={limit}&offset="
    last = ((total - 1) // limit) * limit if total > 0 else 0
    url: Callable[[int], str] = lambda o: f"{prefix}{o}"  # noqa: E731
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

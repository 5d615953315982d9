"""A thin Starlette adapter: serve a :class:`OneRosterService` over ASGI.

Mount the app under the Base URL path (e.g.
``Mount("/campus/api/oneroster/v1p2/demo/ims/oneroster/rostering/v1p2", app=...)``);
paths are resolved relative to the mount point and ``Link`` URLs are absolute.

Two seams, both optional and either sync (run in the thread pool) or async:

* ``authorize(request) -> ProviderResponse | None``: runs before the request
  is answered; a response returned (a 401, a 429) is sent instead;
* ``hooks(request, response) -> ProviderResponse | None``: sees every response
  (errors from ``authorize`` included) and may return a replacement, e.g. a
  fault-injecting sandbox swapping in a 500 or wrapping the body iterator.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..oneroster import imsx
from ..oneroster.kinds import Version
from .response import ProviderResponse, error_response
from .service import OneRosterService
from .source import RecordSource

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

MaybeResponse = ProviderResponse | None
Authorize = Callable[[Request], MaybeResponse | Awaitable[MaybeResponse]]
ResponseHook = Callable[[Request, ProviderResponse], MaybeResponse | Awaitable[MaybeResponse]]


async def _call(fn: Callable, *args: object) -> MaybeResponse:
    """Await an async seam; run a sync one in the thread pool (it may do blocking I/O)."""
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None)):
        return await fn(*args)
    result = await run_in_threadpool(fn, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def base_url_of(request: Request) -> str:
    """The absolute URL of the mount point (the OneRoster Base URL)."""
    root = request.scope.get("root_path", "") or ""
    return f"{request.url.scheme}://{request.url.netloc}{root}"


READ_AHEAD = 64 * 1024  # bytes of a streamed body produced per trip to the thread pool, at least


async def read_in_threadpool(body: Iterable[bytes], *, enough: int = READ_AHEAD) -> AsyncIterator[bytes]:
    """The chunks of a blocking ``body`` iterator, produced in the thread pool ``enough`` bytes or more
    per trip (an envelope's small opening and closing ride along with its records), sent one by one.

    An exception the iterator raises is raised after the chunks it produced before it are sent.
    """
    iterator = iter(body)

    def more() -> tuple[list[bytes], BaseException | None, bool]:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in iterator:
                chunks.append(chunk)
                size += len(chunk)
                if size >= enough:
                    return chunks, None, False
        except Exception as exc:  # noqa: BLE001 - re-raised below, once what came before it is sent
            return chunks, exc, True
        return chunks, None, True

    done = False
    while not done:
        chunks, error, done = await run_in_threadpool(more)
        for chunk in chunks:
            yield chunk
        if error is not None:
            raise error


def to_starlette(response: ProviderResponse, *, head: bool = False) -> Response:
    """A Starlette response streaming ``response.body``."""
    if head:
        return Response(b"", status_code=response.status, headers=response.headers)
    if isinstance(response.body, list | tuple):
        return Response(b"".join(response.body), status_code=response.status, headers=response.headers)
    return StreamingResponse(read_in_threadpool(response.body), status_code=response.status,
                             headers=response.headers)


def create_provider_app(
    source: RecordSource | None = None,
    *,
    version: Version | str = Version.V1P1,
    service: OneRosterService | None = None,
    authorize: Authorize | None = None,
    hooks: ResponseHook | None = None,
    max_limit: int = 10_000,
    default_limit: int = 100,
) -> Starlette:
    """An ASGI app serving ``source`` (or a prebuilt ``service``) as OneRoster ``version``."""
    if service is None:
        if source is None:
            raise ValueError("create_provider_app needs a source or a service")
        service = OneRosterService(source, version=Version(version), max_limit=max_limit,
                                   default_limit=default_limit)

    async def endpoint(request: Request) -> Response:
        head = request.method == "HEAD"
        response: MaybeResponse = None
        if request.method not in ("GET", "HEAD"):
            response = error_response(imsx.UNSUPPORTED_METHOD,
                                      f"{request.method} is not supported: the OneRoster rostering API is read-only.")
            response.headers["Allow"] = "GET, HEAD"
        if response is None and authorize is not None:
            response = await _call(authorize, request)
        if response is None:
            path = "/" + request.path_params.get("path", "")
            query = list(request.query_params.multi_items())
            response = await run_in_threadpool(service.handle, path, query, base_url_of(request))
        if hooks is not None:
            response = await _call(hooks, request, response) or response
        return to_starlette(response, head=head)

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=_ALL_METHODS)])
    app.state.service = service
    return app

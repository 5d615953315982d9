"""The sandbox's HTTP face: one Infinite Campus site as an ASGI app.

``create_sandbox_app(site)`` routes (APP is the site's appName)::

    /campus/, /campus/*.jsp                        the Campus web site (an HTML page)
    /campus/oauth2/token?appName=APP               OAuth 2 client credentials token URL
    /campus/api/oneroster/v1p1/APP/ims/oneroster/v1p1           1.1 Base URL (Bearer)
    /campus/api/oneroster/v1p2/APP/ims/oneroster/rostering/v1p2 1.2 Base URL (Bearer)
    /campus/oneroster/APP/ims/oneroster/v1p1       Classic 1.1 (OAuth 1.0a signed)
    /sandbox-admin/{advance,stats,faults,demographics}  the operator's switches (admin token)

Anything else is a 404 imsx body. OneRoster itself is the provider layer's
app; this module adds authentication and the faults through its
``authorize`` (before) and ``hooks`` (after) seams, and counts every request.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import math
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from ..oneroster import imsx
from ..oneroster.kinds import Version
from ..oneroster.resources import RESOURCES
from ..provider.asgi import create_provider_app
from ..provider.response import JSON, ProviderResponse, error_response
from .auth import AuthResult
from .faults import FaultSpecError, parse_fault_specs
from .site import SandboxSite
from .stats import StatsMiddleware

logger = logging.getLogger(__name__)
_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
MAX_TOKEN_BODY = 64 * 1024


class ConnectionDropped(Exception):
    """Raised mid-body by the ``drop`` fault: the server closes the connection."""


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def _imsx(code_minor: str, description: str, status: int | None = None) -> Response:
    http_status, body = imsx.error_status(code_minor, description)
    return _json(status or http_status, body)


def _auth_refusal(result: AuthResult) -> ProviderResponse:
    return ProviderResponse(result.status, {"Content-Type": JSON, **dict(result.headers)},
                            [orjson.dumps(result.imsx())])


def _request_key(request: Request) -> str:
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.scope.get("path", "") + ("?" + query if query else "")


def sent_url(request: Request) -> str:
    """The URL exactly as the client sent it (Host header, raw path and query): what OAuth 1.0a signs."""
    scope = request.scope
    host = request.headers.get("host") or "{}:{}".format(*(scope.get("server") or ("127.0.0.1", 80)))
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
    query = scope.get("query_string", b"")
    url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
    return url + ("?" + query.decode("latin-1") if query else "")


_GATEWAY_PAGE = (b"<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}"
                 b"</h1></center><hr><center>nginx</center></body></html>\n")


def _fault_failure(status: int) -> ProviderResponse:
    """What a failing server sends: an imsx 500, or a load balancer's HTML 502/503."""
    if status == 500:
        return error_response(imsx.INTERNAL_SERVER_ERROR, "The server failed to answer this request; try again.")
    reason = b"Bad Gateway" if status == 502 else b"Service Temporarily Unavailable"
    page = _GATEWAY_PAGE.replace(b"{status}", str(status).encode()).replace(b"{reason}", reason)
    return ProviderResponse(status, {"Content-Type": "text/html"}, [page])


def _cut_short(body: Iterable[bytes]) -> Iterator[bytes]:
    """Send about half of the body's first real chunk, then drop the connection."""
    for chunk in body:
        if len(chunk) < 64:  # the envelope's opening bytes
            yield chunk
            continue
        yield chunk[: len(chunk) // 2]
        break
    raise ConnectionDropped("the drop fault cut this response short")


class _Gate:
    """ASGI middleware: API requests read the district only while it is not advancing."""

    def __init__(self, app, site: SandboxSite) -> None:
        self.app, self.site = app, site

    async def __call__(self, scope, receive, send) -> None:
        await self.site.gate.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.site.gate.leave()


class _OneRosterFront:
    """Authentication and faults around one OneRoster version's provider app."""

    def __init__(self, site: SandboxSite, version: Version, *, classic: bool) -> None:
        self.site, self.version, self.classic = site, version, classic

    async def authorize(self, request: Request) -> ProviderResponse | None:
        site, faults = self.site, self.site.faults
        if self.classic:
            body = await request.body()
            result = await run_in_threadpool(site.verifier.verify, request.method, sent_url(request),
                                             dict(request.headers), body)
        else:
            if faults.tokens_expire_now():
                site.issuer.expire_all()
            result = site.issuer.validate_bearer(request.headers.get("authorization"))
        if not result.ok:
            return _auth_refusal(result)
        faults.api_request_served()

        delay = faults.delay_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        key = _request_key(request)
        retry_after = faults.rate_limited(key)
        if retry_after is not None:
            refusal = error_response(imsx.SERVER_BUSY, "Too many requests: slow down and retry later.")
            refusal.headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
            return refusal
        status = faults.fail_status(key)
        if status is not None:
            return _fault_failure(status)
        first = request.path_params.get("path", "").strip("/").split("/", 1)[0]
        if first == "demographics" and not site.demographics:
            return error_response(
                imsx.FORBIDDEN,
                "This OneRoster connection does not share Demographics: add Demographics to its "
                "Data to Share in Infinite Campus.",
            )
        return None

    async def after(self, request: Request, response: ProviderResponse) -> ProviderResponse | None:
        """Faults on a served response (on the event loop: only an insertion renders, in the thread pool)."""
        if response.status != 200 or request.method != "GET":
            return None
        faults = self.site.faults
        if "X-Total-Count" in response.headers:  # a collection
            if faults.config.insert_record:
                await run_in_threadpool(self._maybe_insert, request, response)
            faults.strip_headers(response.headers)
        if faults.dropped(_request_key(request)):
            response.body = _cut_short(response.body)
        return response

    def _maybe_insert(self, request: Request, response: ProviderResponse) -> None:
        """After the first page of a paged top-level collection, put a new record in front of it."""
        path = request.path_params.get("path", "").strip("/")
        resource = RESOURCES.get(path)
        offset = request.query_params.get("offset", "0").strip()
        if resource is None or offset not in ("", "0") or 'rel="next"' not in response.headers.get("Link", ""):
            return
        if not self.site.faults.should_insert(resource.name, self.version.value):
            return
        source = self.site.source
        service = self.site.services[self.version]
        records = source.records(resource.kind, self.version)
        positions = service.indexes().selection(resource, self.version, records)
        if len(positions):
            source.insert_copy(resource.kind, self.version, records[positions[0]], stamp=self.site.district.now)

    def app(self):
        provider = create_provider_app(service=self.site.services[self.version],
                                       authorize=self.authorize, hooks=self.after)
        return _Gate(provider, self.site)


CAMPUS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Campus Portal</title></head>
<body><h1>Campus</h1>
<p>{name}: sign in to Campus.</p>
<form method="post" action="/campus/verify.jsp"><label>Username <input name="username"></label>
<label>Password <input name="password" type="password"></label><button>Log In</button></form>
<p><small>A rostersync sandbox: a simulated Infinite Campus site, not a real one.</small></p>
</body></html>
"""
NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Campus: page not found</title></head>
<body><h1>Campus</h1><p>The page you requested was not found.</p></body></html>
"""


def create_sandbox_app(site: SandboxSite):
    """The ASGI app of ``site`` (wrapped in the request-counting middleware)."""

    async def campus_page(request: Request) -> Response:
        return HTMLResponse(CAMPUS_PAGE.format(name=html.escape(site.district_name)))

    async def token(request: Request) -> Response:
        if request.query_params.get("appName") != site.app_name:
            return _imsx(imsx.UNKNOWN_OBJECT,
                         "No OneRoster connection is configured at this address: check the appName in the Token URL.")
        body = await request.body()
        if len(body) > MAX_TOKEN_BODY:
            return _json(413, {"error": "invalid_request", "error_description": "The request body is too large."})
        status, headers, answer = site.issuer.token_endpoint(
            request.method, dict(request.headers), body, dict(request.query_params)
        )
        return _json(status, answer, headers)

    async def not_found(request: Request) -> Response:
        path = request.url.path
        if path.startswith(("/campus/api/oneroster/", "/campus/oneroster/")):
            return _imsx(imsx.UNKNOWN_OBJECT,
                         "No OneRoster connection is configured at this address: check the appName and "
                         "the rest of the Base URL.")
        if path.startswith("/campus/") and request.method in ("GET", "HEAD", "POST"):
            # the Campus web application: its pages, and its "not found" page, are HTML
            if path.endswith(".jsp") or ".jsp/" in path:
                return await campus_page(request)
            return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
        return _imsx(imsx.UNKNOWN_OBJECT, "There is nothing at this address.")

    async def server_error(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ConnectionDropped):
            logger.error("the sandbox failed to answer a request (%s)", type(exc).__name__)
        return _imsx(imsx.INTERNAL_SERVER_ERROR, "The server failed to answer this request.")

    routes = [
        Route("/campus", campus_page, methods=["GET", "HEAD"]),
        Route("/campus/", campus_page, methods=["GET", "HEAD"]),
        Route(site.token_path, token, methods=_ALL),
        Mount(site.base_path(Version.V1P1), app=_OneRosterFront(site, Version.V1P1, classic=False).app()),
        Mount(site.base_path(Version.V1P2), app=_OneRosterFront(site, Version.V1P2, classic=False).app()),
        Mount(site.classic_path, app=_OneRosterFront(site, Version.V1P1, classic=True).app()),
        *admin_routes(site),
        Route("/{path:path}", not_found, methods=_ALL),
    ]
    app = Starlette(routes=routes, exception_handlers={Exception: server_error})
    app.state.site = site
    return StatsMiddleware(app, stats=site.stats)


# -- the operator's switches -----------------------------------------------------------------


def _admin_ok(site: SandboxSite, request: Request) -> bool:
    given = request.headers.get("x-sandbox-admin-token", "")
    auth = request.headers.get("authorization", "")
    if not given and auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    return bool(given) and hmac.compare_digest(given.encode(), site.admin_token.encode())


def admin_routes(site: SandboxSite) -> list[Route]:
    """``/sandbox-admin/*``: advance the district, read counters, switch faults and demographics."""

    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            if not _admin_ok(site, request):
                return _imsx(imsx.UNAUTHORISED, "The sandbox admin token is missing or wrong.")
            return await handler(request)
        return endpoint

    async def advance(request: Request) -> Response:
        text = request.query_params.get("days", "1").strip()
        if not text.isdigit() or not 0 < int(text) <= 365:
            return _imsx(imsx.INVALID_DATA, f"days must be a whole number from 1 to 365, not {text[:20]!r}.")
        try:
            summary = await run_in_threadpool(site.advance, int(text))
        except Exception as exc:  # the district refuses (past the last school day)
            return _imsx(imsx.INVALID_DATA, str(exc)[:300])
        return _json(200, summary)

    async def stats(request: Request) -> Response:
        return _json(200, {**site.stats.to_dict(), "district": site.summary(),
                           "faults_on": site.faults.config.to_dict()})

    async def faults(request: Request) -> Response:
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                changes = orjson.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise FaultSpecError("the body must be a JSON object of fault switches")
                specs = changes.pop("specs", None)
                if specs:
                    changes.update(parse_fault_specs(specs if isinstance(specs, list) else [str(specs)]))
                if request.method == "PUT":
                    site.faults.replace(changes)
                else:
                    site.faults.set(**changes)
            except (orjson.JSONDecodeError, FaultSpecError, TypeError) as exc:
                return _imsx(imsx.INVALID_DATA, str(exc)[:300])
        return _json(200, {"faults": site.faults.config.to_dict(), "fired": site.faults.counts()})

    async def demographics(request: Request) -> Response:
        if request.method == "POST":
            share = dict(parse_qsl(request.url.query)).get("share", "").lower()
            if share not in ("true", "false"):
                return _imsx(imsx.INVALID_DATA, "share must be true or false.")
            site.demographics = share == "true"
        return _json(200, {"demographics_shared": site.demographics})

    return [
        Route("/sandbox-admin/advance", guarded(advance), methods=["POST"]),
        Route("/sandbox-admin/stats", guarded(stats), methods=["GET"]),
        Route("/sandbox-admin/faults", guarded(faults), methods=["GET", "POST", "PUT", "PATCH"]),
        Route("/sandbox-admin/demographics", guarded(demographics), methods=["GET", "POST"]),
    ]

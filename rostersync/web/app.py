"""The web application: ``create_app(settings)`` builds it, nothing happens at import.

Pages are rendered on the server (Jinja2); the few lines of JavaScript in
``static/app.js`` only improve forms that work without it. Every response
carries strict security headers (no external assets, no framing, no
referrer sent to other sites), and the access log never prints an intake token.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..settings import Settings
from . import formatting
from .deps import CSRF_COOKIE, CsrfRefused, LoginRequired, login_url, render, set_cookie
from .services import WebServices, build_web_services

HERE = Path(__file__).parent
log = logging.getLogger("rostersync.web")
access_log = logging.getLogger("rostersync.web.access")

_TOKEN_PATH = re.compile(r"^/intake/[^/?#]+")
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def loggable_path(path: str) -> str:
    """The request path with any intake token hidden."""
    return _TOKEN_PATH.sub("/intake/[token]", path)


def create_app(settings: Settings | None = None, *, services: WebServices | None = None) -> FastAPI:
    """The rostersync web server (dashboard, intake pages) over ``services``.

    Without ``services`` they are built from ``settings`` (the store named by
    ``settings.database_url``, the vault, the connection check, the sync engine).
    """
    settings = settings or Settings()
    services = services or build_web_services(settings)
    app = FastAPI(title="rostersync", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    formatting.install(templates.env)
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from .routes import auth, dashboard, districts, intake, roster, runs, staff

    for module in (auth, intake, dashboard, districts, runs, roster, staff):
        app.include_router(module.router)

    _install_middleware(app)
    _install_error_pages(app)
    return app


def _install_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")  # an intake link never leaves the site
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        new_csrf = getattr(request.state, "new_csrf", None)
        if new_csrf and CSRF_COOKIE not in request.cookies:
            set_cookie(response, request, CSRF_COOKIE, new_csrf, max_age=None, samesite="strict")
        access_log.info("%s %s %s %.0fms", request.method, loggable_path(request.url.path),
                        response.status_code, (time.perf_counter() - started) * 1000)
        return response


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused):
        return render(request, "error.html", {
            "title": "This form could not be accepted",
            "message": "The form was not sent from this site's page, or the page is too old.",
            "fix": "Go back, reload the page and send the form again.",
        }, status=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        titles = {404: "Not found", 405: "Not allowed", 410: "No longer available", 429: "Too many attempts"}
        return render(request, "error.html", {
            "title": titles.get(exc.status_code, "Something went wrong"),
            "message": exc.detail if isinstance(exc.detail, str) else "",
            "fix": "",
        }, status=exc.status_code)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):
        log.exception("error while serving %s %s", request.method, loggable_path(request.url.path))
        context = {
            "title": "Something went wrong",
            "message": "The server hit an unexpected error; it has been logged.",
            "fix": "Try again in a moment. If it keeps happening, tell your rostersync administrator.",
        }
        try:
            return render(request, "error.html", context, status=500)
        except Exception:  # noqa: BLE001 - e.g. the store is down: still answer plainly
            return PlainTextResponse(f"{context['title']}. {context['fix']}", status_code=500)

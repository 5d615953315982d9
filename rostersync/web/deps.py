"""What every route needs: the services, the signed-in user, CSRF, rendering.

CSRF uses a double-submit token: every visitor gets a random ``rs_csrf``
cookie (HttpOnly, SameSite=Strict, Secure behind https); every form carries
the same value in a hidden ``csrf_token`` field, and every POST must match.
A POST whose ``Origin`` header names another site is refused as well
(pages send ``Referrer-Policy: same-origin`` so browsers include a real Origin).
"""

from __future__ import annotations

import datetime
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from . import accounts
from .accounts import StaffUser
from .activity import unread_count
from .security import new_token, same

CSRF_COOKIE = "rs_csrf"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "rs_session"


class LoginRequired(Exception):
    """The page needs a signed-in staff user."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class CsrfRefused(Exception):
    """A form arrived without the token of the page that sent it."""


def services(request: Request):
    return request.app.state.services


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def csrf_token(request: Request) -> str:
    """This visitor's CSRF token (a new one is set as a cookie on the response)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) > 100:
        token = getattr(request.state, "new_csrf", None) or new_token()
        request.state.new_csrf = token
    return token


def set_cookie(response, request: Request, name: str, value: str, *, max_age: int | None,
               samesite: str = "lax") -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite=samesite,
                        secure=is_https(request))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":  # old browsers, privacy settings: the token decides
        return True
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc == request.url.netloc


async def require_csrf(request: Request) -> None:
    """Refuse a POST whose form lacks this visitor's CSRF token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not same(sent, request.cookies.get(CSRF_COOKIE)) or not _same_origin(request):
        raise CsrfRefused()


def optional_user(request: Request) -> StaffUser | None:
    cached = getattr(request.state, "user", False)
    if cached is not False:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    user = None
    if token:
        with services(request).engine.connect() as conn:
            user = accounts.session_user(token, conn=conn)
    request.state.user = user
    return user


def current_user(request: Request) -> StaffUser:
    user = optional_user(request)
    if user is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path if request.method == "GET" else "/")
    return user


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def safe_next(value: str | None) -> str:
    """Only same-site paths are followed after sign-in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def render(request: Request, name: str, context: dict | None = None, *, status: int = 200,
           user: StaffUser | None = None) -> HTMLResponse:
    """Render a page with what every page needs (user, CSRF token, vendor name, unread notices)."""
    svc = services(request)
    user = user if user is not None else optional_user(request)
    unread = 0
    if user is not None:
        with svc.engine.connect() as conn:
            unread = unread_count(conn=conn)
    ctx = {
        "request": request,
        "user": user,
        "csrf_token": csrf_token(request),
        "vendor_name": svc.vendor_name,
        "unread": unread,
        "now": datetime.datetime.now(datetime.timezone.utc),
    }
    ctx.update(context or {})
    return templates(request).TemplateResponse(request, name, ctx, status_code=status)


def not_found(what: str = "page") -> HTTPException:
    return HTTPException(status_code=404, detail=f"There is no such {what}.")


UserDep = Depends(current_user)
CsrfDep = Depends(require_csrf)

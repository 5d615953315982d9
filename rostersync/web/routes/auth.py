"""Staff sign-in and sign-out (argon2 passwords, server-side sessions, rate-limited failures)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ...store.engine import begin_write
from .. import accounts
from ..activity import audit
from ..deps import SESSION_COOKIE, CsrfDep, optional_user, render, safe_next, services, set_cookie

router = APIRouter()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
def login_page(request: Request, next: str = "/"):
    if optional_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next_path": safe_next(next), "username": "", "error": ""})


@router.post("/login", dependencies=[CsrfDep])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    svc = services(request)
    with begin_write(svc.engine) as conn:
        result = accounts.login(username, password, client_address(request), conn=conn)
        if result.user is not None:
            token = accounts.start_session(result.user, conn=conn)
            audit(result.user.username, "signed in", conn=conn)
    if result.user is None:
        if result.locked_for is not None:
            minutes = max(1, math.ceil(result.locked_for.total_seconds() / 60))
            error = f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
            status = 429
        else:
            error = "The user name or password is not right."
            status = 401
        return render(request, "login.html", {"next_path": safe_next(next), "username": username[:100],
                                              "error": error}, status=status)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request):
    user = optional_user(request)
    with begin_write(services(request).engine) as conn:
        accounts.end_session(request.cookies.get(SESSION_COOKIE), conn=conn)
        if user is not None:
            audit(user.username, "signed out", conn=conn)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

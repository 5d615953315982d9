"""Staff pages: the audit log and the settings (the webhook)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ...store.engine import begin_write
from .. import webhook
from ..activity import audit, audit_entries
from ..deps import CsrfDep, UserDep, render, services

router = APIRouter()
PAGE = 100


@router.get("/audit")
def audit_page(request: Request, page: int = 1, user=UserDep):
    page = max(1, min(page, 10_000))
    with services(request).engine.connect() as conn:
        entries = audit_entries(conn=conn, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return render(request, "audit.html", {"entries": entries[:PAGE], "page": page,
                                          "more": len(entries) > PAGE}, user=user)


def _settings(request: Request, user, *, error: str = "", message: str = "", url: str = "", status: int = 200):
    with services(request).engine.connect() as conn:
        current = webhook.current(conn=conn)
    return render(request, "settings.html", {"webhook": current, "error": error, "message": message,
                                             "url": url or (current.url if current else "")},
                  status=status, user=user)


@router.get("/settings")
def settings_page(request: Request, msg: str = "", user=UserDep):
    messages = {"saved": "The webhook was saved.", "removed": "The webhook was removed."}
    return _settings(request, user, message=messages.get(msg, ""))


@router.post("/settings/webhook", dependencies=[CsrfDep])
def save_webhook(request: Request, url: str = Form(""), secret: str = Form(""), user=UserDep):
    svc = services(request)
    try:
        with begin_write(svc.engine) as conn:
            webhook.configure(url, secret, user.username, conn=conn, vault=svc.vault, policy=svc.policy,
                              dashboard_url=str(request.base_url))
            audit(user.username, "configured the webhook", conn=conn,
                  detail=f"deliveries to {urlsplit(url.strip()).hostname}")
    except ValueError as exc:
        return _settings(request, user, error=str(exc), url=url.strip()[:2000], status=422)
    return RedirectResponse("/settings?msg=saved", status_code=303)


@router.post("/settings/webhook/remove", dependencies=[CsrfDep])
def remove_webhook(request: Request, user=UserDep):
    with begin_write(services(request).engine) as conn:
        webhook.remove(conn=conn)
        audit(user.username, "removed the webhook", conn=conn)
    return RedirectResponse("/settings?msg=removed", status_code=303)

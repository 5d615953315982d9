"""The intake page: a district admin enters credentials, they are checked live.

No sign-in: the link's token is the key. The page is refused (410) once the
link is spent, expired or revoked. A submission is validated, checked against
the provider through the network guard, and either shown back with each
finding and its fix (non-secret values kept) or accepted: the connection is
saved with its secrets encrypted, the link spent, staff notified and the
audit log written, all in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from ...log import register_secret
from ...oneroster.kinds import Version
from ...source.connection import SIGNATURE_METHODS, OAuth2Credentials
from ...store.engine import begin_write
from .. import intake_form, links
from ..activity import audit, notify
from ..deps import CsrfDep, render, services
from ..findings import Finding, from_report, has_errors
from ..intake_form import AUTH_KINDS, FIELD_BY_NAME, FIELDS, PROVIDERS, Submission
from ..links import LinkState
from ..queries import EXPIRY_WARNING
from ..security import mask

router = APIRouter()
log = logging.getLogger(__name__)

GONE = {
    LinkState.SPENT: ("This link has already been used",
                      "The credentials were received through this link, so it no longer works.",
                      "If the credentials changed, ask your {vendor} contact for a new link."),
    LinkState.EXPIRED: ("This link has expired",
                        "Intake links work for a limited time, and this one has run out.",
                        "Ask your {vendor} contact for a new link."),
    LinkState.REVOKED: ("This link no longer works",
                        "It was withdrawn or replaced by a newer link.",
                        "Use the newest link you received, or ask your {vendor} contact for a new one."),
}


def _open_link(request: Request, token: str):
    """The link and its district, or the page explaining why it cannot be used."""
    svc = services(request)
    with svc.engine.connect() as conn:
        link = links.find_link(token, conn=conn)
        district = links.get_district(link.district_id, conn=conn) if link else None
    if link is None or district is None:
        raise HTTPException(404, "This intake link is not valid. Check that you copied the whole link.")
    state = link.state()
    if state is not LinkState.OPEN:
        title, message, fix = GONE[state]
        return None, None, render(request, "intake_gone.html", {
            "title": title, "message": message, "fix": fix.format(vendor=svc.vendor_name)}, status=410)
    return link, district, None


def _page(request: Request, token: str, link, district, sub: Submission, findings: list[Finding],
          *, status: int = 200) -> HTMLResponse:
    return render(request, "intake.html", {
        "token": token, "link": link, "district": district, "sub": sub, "findings": findings,
        "error_count": sum(1 for f in findings if f.is_error), "fields": FIELDS,
        "fields_by_name": FIELD_BY_NAME, "providers": PROVIDERS, "auth_kinds": AUTH_KINDS,
        "signature_methods": SIGNATURE_METHODS,
    }, status=status)


@router.get("/intake/{token}")
def intake_page(request: Request, token: str):
    link, district, gone = _open_link(request, token)
    if gone is not None:
        return gone
    return _page(request, token, link, district, Submission(), [])


def _expiry_finding(sub: Submission, findings: list[Finding]) -> Finding | None:
    expires = sub.expires_on if sub.auth == "oauth1" else None
    if expires is None or any("expir" in f.title.lower() for f in findings):
        return None
    days = (expires - datetime.date.today()).days
    if days < 0:
        return Finding("error", f"The token expired on {expires.isoformat()}",
                       fix="In OneRoster Provisioning, set a later Token Expiration Date, save, and send the form again.")
    if days <= EXPIRY_WARNING.days:
        return Finding("warning", f"The token expires in {days} day{'s' if days != 1 else ''} ({expires.isoformat()})",
                       fix="Set a later Token Expiration Date (up to 13 months ahead) so rostering does not stop.")
    return None


@router.post("/intake/{token}", dependencies=[CsrfDep])
async def intake_submit(request: Request, token: str):
    form = await request.form()  # already parsed by the CSRF check; the rest runs in a worker thread
    return await run_in_threadpool(_submit, request, token, dict(form))


def _submit(request: Request, token: str, form: dict):
    svc = services(request)
    link, district, gone = _open_link(request, token)
    if gone is not None:
        return gone
    sub = intake_form.parse(form, svc.policy, vendor=svc.vendor_name)
    if sub.errors:
        return _page(request, token, link, district, sub, [], status=422)
    if not svc.intake_limiter.allow(link.id):
        raise HTTPException(429, "Too many checks through this link in a short time. Wait ten minutes and try again.")
    spec = intake_form.to_spec(sub)
    secrets = list(spec.secrets().values())
    for secret in secrets:
        register_secret(secret)  # nothing below may log it
    try:
        report = svc.check(spec)
        findings = from_report(report, secrets=secrets)
        detected = getattr(report, "version", None)
        if spec.version is None and isinstance(detected, Version):
            spec = dataclasses.replace(spec, version=detected)
    except Exception:  # the check itself failed: say so, never show the exception text
        log.exception("the connection check failed unexpectedly for district %s", district.id)
        findings = [Finding("error", "The check could not be completed",
                            fix="Try again in a few minutes. If it keeps failing, contact your "
                                f"{svc.vendor_name} contact.")]
    extra = _expiry_finding(sub, findings)
    if extra is not None:
        findings = sorted([*findings, extra], key=lambda f: ("error", "warning", "ok").index(f.level))
    if has_errors(findings):
        with begin_write(svc.engine) as conn:
            audit(f"intake link #{link.id}", "intake check failed", conn=conn, district_id=district.id,
                  detail="; ".join(f.title for f in findings if f.is_error)[:1000])
        return _page(request, token, link, district, sub, findings, status=422)
    try:
        replaced = _accept(svc, link, district, sub, spec, findings)
    except _LinkGone:  # spent, revoked or expired while the check ran
        gone = _open_link(request, token)[2]
        if gone is None:
            raise HTTPException(410, "This link can no longer be used.") from None
        return gone
    svc.background(lambda: svc.webhook.send("intake.completed", {
        "district": district.name, "connection": district.connection_name, "replaced": replaced}))
    return render(request, "intake_done.html", {
        "district": district, "provider_label": PROVIDERS[sub.provider], "summary": _summary(spec),
        "warnings": [f for f in findings if f.level == "warning"],
    })


class _LinkGone(Exception):
    pass


def _accept(svc, link, district, sub: Submission, spec, findings: list[Finding]) -> bool:
    """Save the connection, spend the link, notify and audit, in one transaction; True when replaced."""
    with begin_write(svc.engine) as conn:
        if not links.spend_link(link.id, conn=conn):
            raise _LinkGone()
        replaced = svc.connections.save(district, spec, conn=conn)
        links.record_credentials(district.id, expires_on=sub.expires_on, conn=conn)
        verb = "replaced" if replaced else "received"
        audit(f"intake link #{link.id}", f"credentials {verb}", conn=conn, district_id=district.id,
              detail=f"{AUTH_KINDS[sub.auth].split(':')[0]} credentials for {PROVIDERS[sub.provider]}; "
                     f"check passed with {sum(f.level == 'warning' for f in findings)} warning(s)")
        notify(f"{district.name} sent working credentials through its intake link.", conn=conn,
               level="success", district_id=district.id)
    return replaced


def _summary(spec) -> list[tuple[str, str]]:
    creds = spec.credentials
    if isinstance(creds, OAuth2Credentials):
        return [("Client ID", creds.client_id), ("Client Secret", mask(creds.client_secret) or "received"),
                ("Token URL", creds.token_url), ("Base URL", creds.base_url)]
    rows = [("Consumer Key", creds.consumer_key), ("Consumer Secret", mask(creds.consumer_secret) or "received"),
            ("OneRoster URL", creds.oneroster_url), ("Signature method", creds.signature_method)]
    if creds.expires_on:
        rows.append(("Token Expiration Date", creds.expires_on.isoformat()))
    return rows

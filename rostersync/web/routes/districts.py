"""A district: creating it, its intake links, Sync now, pause and resume, its sync schedule.

An intake link is shown once, on the page that creates it (never in a
redirect URL, a log line or a later page: only its hash is kept).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from ...jobs.control import change_schedule
from ...schedule import ScheduleError
from ...store import connections as store_connections
from ...store.connections import StoredConnection
from ...store.engine import begin_write
from ...store.schedule_tables import schedule_row
from .. import links, queries, schedule_form
from ..activity import audit, audit_entries
from ..deps import CsrfDep, UserDep, not_found, render, services
from ..links import US_TIMEZONES, LinkState

router = APIRouter()

MESSAGES = {
    "sync-started": "The sync has started. Reload this page to follow it.",
    "sync-busy": "A sync of this district is already running; nothing new was started.",
    "sync-held": "A run of this district waits for review: approve or discard it before syncing again.",
    "paused": "Scheduled syncs are paused for this district.",
    "resumed": "Scheduled syncs are back on for this district.",
    "revoked": "The intake link was revoked: it no longer works.",
    "schedule-saved": "The sync schedule was saved.",
}


def _district_or_404(conn, district_id: int):
    district = links.get_district(district_id, conn=conn)
    if district is None:
        raise not_found("district")
    return district


def intake_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + "/intake/" + token


@router.get("/districts/new")
def new_district_page(request: Request, user=UserDep):
    return render(request, "district_new.html", {"timezones": US_TIMEZONES, "name": "", "timezone": links.DEFAULT_TIMEZONE,
                                                 "error": ""}, user=user)


@router.post("/districts", dependencies=[CsrfDep])
def create_district(request: Request, name: str = Form(""), timezone: str = Form(links.DEFAULT_TIMEZONE),
                    user=UserDep):
    svc = services(request)
    try:
        with begin_write(svc.engine) as conn:
            taken = queries.connection_names(conn=conn)
            district = links.create_district(name, user.username, conn=conn, timezone=timezone, taken=taken)
            token, link = links.issue_link(district.id, user.username, conn=conn, lifetime=svc.link_lifetime)
            audit(user.username, "created district", conn=conn, district_id=district.id,
                  detail=f"{district.name}; intake link #{link.id} expires {link.expires_at:%Y-%m-%d}")
    except links.DistrictError as exc:
        return render(request, "district_new.html", {"timezones": US_TIMEZONES, "name": name[:200],
                                                     "timezone": timezone, "error": exc.message},
                      status=422, user=user)
    return render(request, "link_created.html", {"district": district, "link": link,
                                                 "url": intake_url(request, token), "new": True},
                  status=201, user=user)


@router.get("/districts/{district_id}")
def district_page(request: Request, district_id: int, msg: str = "", user=UserDep):
    return _district_page(request, district_id, user, message=MESSAGES.get(msg, ""))


def _district_page(request: Request, district_id: int, user, *, message: str = "",
                   schedule: schedule_form.ScheduleForm | None = None, status: int = 200):
    """The district page; ``schedule`` replaces the stored schedule in the form (a refused submission)."""
    svc = services(request)
    with svc.engine.connect() as conn:
        district = _district_or_404(conn, district_id)
        overview = queries.overviews([district], conn=conn)[0]
        link_rows = links.links_of(district.id, conn=conn)
        runs = queries.runs_of(overview.connection.id, conn=conn) if overview.connection else []
        history = audit_entries(conn=conn, district_id=district.id, limit=20)
        if schedule is None and overview.connection:
            schedule = _stored_schedule(conn, overview.connection)
    return render(request, "district.html", {
        "d": overview, "district": district, "links": link_rows, "runs": runs, "history": history,
        "message": message, "LinkState": LinkState, "settings_view": _settings_view(overview.connection),
        "schedule": schedule, "schedule_refused": status == 422, "days": schedule_form.DAYS,
        "house_schedule": schedule_form.HOUSE,
    }, status=status, user=user)


def _stored_schedule(conn, connection: StoredConnection) -> schedule_form.ScheduleForm:
    return schedule_form.current(connection, schedule_row(db=conn, connection_id=connection.id))


def _settings_view(connection: StoredConnection | None) -> list[tuple[str, str]]:
    """The connection's non-secret settings, labelled as the district knows them."""
    if not connection:
        return []
    s = connection.settings
    labels = (("client_id", "Client ID"), ("token_url", "Token URL"), ("base_url", "Base URL"),
              ("consumer_key", "Consumer Key"), ("oneroster_url", "OneRoster URL"),
              ("signature_method", "Signature method"), ("expires_on", "Token Expiration Date"))
    rows = [(label, str(s[key])) for key, label in labels if s.get(key)]
    secret_label = "Consumer Secret" if s.get("auth") == "oauth1" else "Client Secret"
    rows.append((secret_label, "stored encrypted (never shown)"))
    rows += [("OneRoster version", connection.version or ""), ("Profile", connection.profile or ""),
             ("Time zone", connection.timezone or "")]
    return rows


@router.post("/districts/{district_id}/links", dependencies=[CsrfDep])
def reissue_link(request: Request, district_id: int, user=UserDep):
    svc = services(request)
    with begin_write(svc.engine) as conn:
        district = _district_or_404(conn, district_id)
        token, link = links.issue_link(district.id, user.username, conn=conn, lifetime=svc.link_lifetime)
        audit(user.username, "issued intake link", conn=conn, district_id=district.id,
              detail=f"link #{link.id} expires {link.expires_at:%Y-%m-%d}; earlier open links revoked")
    return render(request, "link_created.html", {"district": district, "link": link,
                                                 "url": intake_url(request, token), "new": False},
                  status=201, user=user)


@router.post("/districts/{district_id}/links/{link_id}/revoke", dependencies=[CsrfDep])
def revoke_link(request: Request, district_id: int, link_id: int, user=UserDep):
    with begin_write(services(request).engine) as conn:
        district = _district_or_404(conn, district_id)
        link = links.get_link(link_id, conn=conn)
        if link is None or link.district_id != district.id:
            raise not_found("intake link")
        if links.revoke_link(link.id, user.username, conn=conn):
            audit(user.username, "revoked intake link", conn=conn, district_id=district.id, detail=f"link #{link.id}")
    return RedirectResponse(f"/districts/{district_id}?msg=revoked", status_code=303)


def _connection_or_409(conn, district):
    row = queries.connection_row(district.connection_name, conn=conn)
    if row is None:
        raise HTTPException(409, "This district has not sent its credentials yet.")
    return row


@router.post("/districts/{district_id}/sync", dependencies=[CsrfDep])
def sync_now(request: Request, district_id: int, mode: str = Form("delta"), user=UserDep):
    svc = services(request)
    if mode not in ("full", "delta"):
        raise HTTPException(422, "The sync mode must be full or delta.")
    with begin_write(svc.engine) as conn:
        district = _district_or_404(conn, district_id)
        row = _connection_or_409(conn, district)
        if any(name == row.name for _, name in queries.held_runs(conn=conn)):
            return RedirectResponse(f"/districts/{district_id}?msg=sync-held", status_code=303)
        audit(user.username, f"started {mode} sync", conn=conn, district_id=district.id)
    started = svc.run_now(row.id, mode)
    return RedirectResponse(f"/districts/{district_id}?msg={'sync-started' if started else 'sync-busy'}",
                            status_code=303)


def _set_paused(request: Request, district_id: int, paused: bool, user) -> RedirectResponse:
    with begin_write(services(request).engine) as conn:
        district = _district_or_404(conn, district_id)
        _connection_or_409(conn, district)
        store_connections.update_connection(db=conn, name=district.connection_name, paused=paused)
        audit(user.username, "paused syncs" if paused else "resumed syncs", conn=conn, district_id=district.id)
    return RedirectResponse(f"/districts/{district_id}?msg={'paused' if paused else 'resumed'}", status_code=303)


@router.post("/districts/{district_id}/schedule", dependencies=[CsrfDep])
def save_schedule(request: Request, district_id: int, window_start: str = Form(""), window_end: str = Form(""),
                  full_day: str = Form(""), summer_first: str = Form(""), summer_last: str = Form(""),
                  action: str = Form("save"), user=UserDep):
    """Change the schedule as ``rostersync schedules set`` does (its validation), audited in the same
    transaction; a refused change comes back on the district page with each error next to its field."""
    svc = services(request)
    with svc.engine.connect() as conn:
        district = _district_or_404(conn, district_id)
        connection = _connection_or_409(conn, district)
        shown = _stored_schedule(conn, connection)
    if action == "default":
        changes: dict[str, object] = {"window": None, "full_day": None, "summer_pause": None}
        sent = shown
    else:
        sent = schedule_form.submitted(shown, window_start=window_start, window_end=window_end, full_day=full_day,
                                       summer_first=summer_first, summer_last=summer_last)
        changes = schedule_form.changes(shown, sent)
    try:
        with begin_write(svc.engine) as conn:
            policy = change_schedule(db=conn, name=connection.name, **changes)
            audit(user.username, "changed the sync schedule", conn=conn, district_id=district.id,
                  detail=policy.describe())
    except ScheduleError as exc:
        return _district_page(request, district_id, user, schedule=schedule_form.with_errors(sent, exc), status=422)
    return RedirectResponse(f"/districts/{district_id}?msg=schedule-saved#schedule-heading", status_code=303)


@router.post("/districts/{district_id}/pause", dependencies=[CsrfDep])
def pause(request: Request, district_id: int, user=UserDep):
    return _set_paused(request, district_id, True, user)


@router.post("/districts/{district_id}/resume", dependencies=[CsrfDep])
def resume(request: Request, district_id: int, user=UserDep):
    return _set_paused(request, district_id, False, user)

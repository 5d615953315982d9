"""The dashboard's front page: every district at a glance, and notifications."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from ...store.connections import list_connection_labels
from ...store.engine import begin_write
from .. import links, queries
from ..activity import mark_all_read, recent_notifications
from ..deps import CsrfDep, UserDep, render, services

router = APIRouter()


def adopt_cli_connections(engine) -> None:
    """Give connections added with the CLI a district row, so the dashboard lists them."""
    with engine.connect() as conn:
        known = {d.connection_name for d in links.list_districts(conn=conn)}
        missing = [c for c in list_connection_labels(db=conn) if c.name not in known]
    if missing:
        with begin_write(engine) as conn:
            for label in missing:
                links.ensure_district(label.name, label.display_name, label.timezone, conn=conn)


@router.get("/")
def home(request: Request, user=UserDep):
    svc = services(request)
    adopt_cli_connections(svc.engine)
    with svc.engine.connect() as conn:
        rows = queries.all_overviews(conn=conn)
        held = queries.held_runs(conn=conn)
        notices = [n for n in recent_notifications(conn=conn, limit=5) if not n.read]
    tally = {state: sum(1 for r in rows if r.state == state) for state in queries.STATES}
    return render(request, "dashboard.html", {"rows": rows, "held": held, "notices": notices, "tally": tally},
                  user=user)


@router.get("/notifications")
def notifications_page(request: Request, user=UserDep):
    with services(request).engine.connect() as conn:
        items = recent_notifications(conn=conn, limit=200)
    return render(request, "notifications.html", {"items": items}, user=user)


@router.post("/notifications/read", dependencies=[CsrfDep])
def notifications_read(request: Request, user=UserDep):
    with begin_write(services(request).engine) as conn:
        mark_all_read(conn=conn)
    return RedirectResponse("/notifications", status_code=303)

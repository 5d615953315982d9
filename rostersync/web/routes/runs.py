"""Sync runs: a run's page, the held runs, Approve and Discard."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from ...errors import RostersyncError
from ...oneroster.kinds import SYNC_ORDER, Kind
from ...sync.result import KIND_LABELS
from ...store.engine import begin_write
from .. import links, queries, roster_queries
from ..activity import audit, notify
from ..deps import CsrfDep, UserDep, not_found, render, services

router = APIRouter()
log = logging.getLogger(__name__)

MESSAGES = {
    "approved": "The held run was applied: the store now has its changes.",
    "discarded": "The held run was discarded: nothing was changed.",
}


def _load(conn, run_id: int):
    run = queries.get_run(run_id, conn=conn)
    if run is None:
        raise not_found("sync run")
    from ...store.connections import get_connection_by_id

    connection = get_connection_by_id(db=conn, connection_id=run.connection_id)
    district = links.district_by_connection(connection.name, conn=conn)
    return run, connection, district


def _kind_rows(run: queries.Run) -> list[dict]:
    order = [k.value for k in SYNC_ORDER]
    rows = []
    for kind, counts in sorted((run.counts or {}).items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99):
        counts = counts or {}
        rows.append({"kind": kind, "label": label(kind), **{k: int(counts.get(k) or 0) for k in
                                      ("created", "updated", "deleted", "unchanged", "skipped")}})
    return rows


def label(kind: str) -> str:
    """``"user"`` -> ``"users"``, as people say it."""
    try:
        return KIND_LABELS[Kind(kind)]
    except ValueError:
        return kind


def _issues(items: list) -> list[dict]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            out.append({"message": str(item.get("message") or ""), "fix": str(item.get("fix") or ""),
                        "where": " ".join(str(item[k]) for k in ("kind", "sourced_id") if item.get(k))})
        else:
            out.append({"message": str(item), "fix": "", "where": ""})
    return out


@router.get("/runs/held")
def held_page(request: Request, user=UserDep):
    with services(request).engine.connect() as conn:
        held = queries.held_runs(conn=conn)
    return render(request, "held.html", {"held": held}, user=user)


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: int, msg: str = "", user=UserDep):
    with services(request).engine.connect() as conn:
        run, connection, district = _load(conn, run_id)
        changes = roster_queries.staged_changes(run.id, run.connection_id, conn=conn) if run.state == "held" else []
    return render(request, "run.html", {
        "run": run, "connection": connection, "district": district, "kinds": _kind_rows(run),
        "warnings": _issues(run.warnings), "errors": _issues(run.errors), "changes": changes,
        "message": MESSAGES.get(msg, ""), "error": "",
    }, user=user)


def _decide(request: Request, run_id: int, user, action: str):
    svc = services(request)
    with svc.engine.connect() as conn:
        run, connection, district = _load(conn, run_id)
    try:
        getattr(svc.runs, action)(run.id)
    except RostersyncError as exc:
        with svc.engine.connect() as conn:
            run, connection, district = _load(conn, run_id)
            changes = roster_queries.staged_changes(run.id, run.connection_id, conn=conn) if run.state == "held" else []
        return render(request, "run.html", {
            "run": run, "connection": connection, "district": district, "kinds": _kind_rows(run),
            "warnings": _issues(run.warnings), "errors": _issues(run.errors), "changes": changes,
            "message": "", "error": exc.message, "error_fix": exc.fix or "",
        }, status=409, user=user)
    past = "approved" if action == "approve" else "discarded"
    with begin_write(svc.engine) as conn:
        district_id = district.id if district else None
        audit(user.username, f"{past} held run", conn=conn, district_id=district_id, detail=f"run #{run.id}")
        notify(f"Run #{run.id} of {connection.display_name} was {past} by {user.username}.", conn=conn,
               district_id=district_id)
    return RedirectResponse(f"/runs/{run.id}?msg={past}", status_code=303)


@router.post("/runs/{run_id}/approve", dependencies=[CsrfDep])
def approve(request: Request, run_id: int, user=UserDep):
    return _decide(request, run_id, user, "approve")


@router.post("/runs/{run_id}/discard", dependencies=[CsrfDep])
def discard(request: Request, run_id: int, user=UserDep):
    return _decide(request, run_id, user, "discard")

"""The web app over PostgreSQL: intake, dashboard, a held run's review and the roster browser."""

from __future__ import annotations

import datetime
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from rostersync.oneroster.kinds import Kind
from rostersync.store.engine import begin_write
from rostersync.store.tables import ROSTER_TABLES, STAGED_TABLES, connections, sync_runs
from rostersync.web.app import create_app
from rostersync.web.testing import STAFF_PASSWORD, FakeRunActions, add_staff, fixed_check, local_settings, web_test_services

pytestmark = pytest.mark.postgres
UTC = datetime.timezone.utc


def test_web_over_postgres(tmp_path, pg_url):
    settings = local_settings(tmp_path, database_url=pg_url)
    runs = FakeRunActions()
    services = web_test_services(settings, runs=runs, check=fixed_check(lambda spec: [{"level": "ok", "title": "ok"}]))
    add_staff(services)
    try:
        with TestClient(create_app(settings, services=services)) as client:
            client.get("/login")
            token = client.cookies["rs_csrf"]
            client.post("/login", data={"username": "staff", "password": STAFF_PASSWORD, "csrf_token": token})
            for _ in range(2):  # failed sign-ins are counted on PostgreSQL too
                assert client.post("/login", data={"username": "staff", "password": "nope",
                                                   "csrf_token": token}).status_code == 401
            page = client.post("/districts", data={"name": "Capital City Schools", "csrf_token": token})
            path = re.search(r'value="http://testserver(/intake/[^"]+)"', page.text).group(1)
            form = {"csrf_token": token, "provider": "infinite_campus", "auth": "oauth2", "client_id": "cid",
                    "client_secret": "pg-secret-value-1234",
                    "token_url": "http://127.0.0.1:9/campus/oauth2/token?appName=cc",
                    "base_url": "http://127.0.0.1:9/campus/api/oneroster/v1p1/cc/ims/oneroster"}
            assert client.post(path, data=form).status_code == 200
            assert client.get(path).status_code == 410
            now = datetime.datetime.now(UTC)
            with begin_write(services.engine) as conn:
                cid = conn.execute(select(connections.c.id)).scalar_one()
                common = dict(connection_id=cid, status="active", raw={}, content_hash="h", created_at=now,
                              updated_at=now)
                conn.execute(insert(ROSTER_TABLES[Kind.ORG]).values(**common, sourced_id="o1", name="East High",
                                                                    type="school"))
                conn.execute(insert(ROSTER_TABLES[Kind.CLASS]).values(**common, sourced_id="c1", title="Biology",
                                                                      school_sourced_id="o1"))
                conn.execute(insert(ROSTER_TABLES[Kind.USER]).values(**common, sourced_id="u1", given_name="Lisa",
                                                                     family_name="Simpson", role="student"))
                conn.execute(insert(ROSTER_TABLES[Kind.ENROLLMENT]).values(
                    **common, sourced_id="e1", user_sourced_id="u1", class_sourced_id="c1", role="student"))
                run_id = conn.execute(insert(sync_runs).values(
                    connection_id=cid, mode="delta", state="held", dry_run=False, started_at=now, finished_at=now,
                    records_read=1, counts={}, collections={}, unresolved={}, warnings=[], errors=[],
                    hold_reasons=["too many updates"], pending_checkpoints={})).inserted_primary_key[0]
                conn.execute(insert(STAGED_TABLES[Kind.USER]).values(
                    run_id=run_id, sourced_id="u1", op="update", skip=False, dup_count=1, given_name="Lisa",
                    family_name="Simpson"))
            dashboard = client.get("/").text
            assert "Capital City Schools" in dashboard and "state-held-for-review" in dashboard
            assert "Lisa Simpson" in client.get(f"/runs/{run_id}").text
            client.post(f"/runs/{run_id}/discard", data={"csrf_token": token})
            assert runs.calls == [("discard", run_id)]
            district = re.search(r'href="/districts/(\d+)"', dashboard).group(1)
            assert "Lisa Simpson" in client.get(f"/districts/{district}/roster/classes/c1").text
            assert "Lisa Simpson" in client.get(f"/districts/{district}/roster", params={"q": "SIMPSON"}).text
            assert "discarded held run" in client.get("/audit").text
    finally:
        services.close()

"""The web app in-process (TestClient) over a SQLite store in tmp_path, with a fake check.

What staff and district admins would notice: sign-in and its limits, CSRF,
districts and intake links (one use, expiry, revocation, reissue), the intake
page's findings and fixes, secrets never shown or logged, the dashboard's
states, held runs, the roster browser, the audit log and the signed webhook.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from rostersync.oneroster.kinds import Kind
from rostersync.store.engine import begin_write
from rostersync.store.tables import ROSTER_TABLES, STAGED_TABLES, connections, sync_runs
from rostersync.store.web_tables import intake_links, login_attempts
from rostersync.sync.errors import StoreMoved
from rostersync.web.app import create_app
from rostersync.web.testing import (
    STAFF_PASSWORD,
    FakeRunActions,
    WebhookReceiver,
    add_staff,
    fixed_check,
    local_settings,
    web_test_services,
)

WRONG = "wrong-secret-value-0000"
RIGHT = "right-secret-value-7Q2a"
UTC = datetime.timezone.utc


def decide(spec):
    if getattr(spec.credentials, "client_secret", None) == WRONG:
        return [{"level": "ok", "title": "The Token URL answered"},
                {"level": "error", "title": "The Client Secret was refused",
                 "detail": f"HTTP 401 for client_secret={WRONG}",
                 "fix": "Copy the Client Secret again from Information to Share."}]
    return [{"level": "ok", "title": "Signed in and read every collection"},
            {"level": "warning", "title": "Demographics are not shared",
             "fix": "Select Demographics under Data to Share."}]


@pytest.fixture()
def env(tmp_path):
    settings = local_settings(tmp_path)
    runs = FakeRunActions()
    check = fixed_check(decide)
    started: list[tuple[int, str]] = []
    services = web_test_services(settings, check=check, runs=runs,
                                 run_now=lambda cid, mode: started.append((cid, mode)) or True)
    add_staff(services)
    client = TestClient(create_app(settings, services=services))
    yield type("Env", (), dict(settings=settings, services=services, client=client, runs=runs, check=check,
                               started=started))
    client.close()
    services.close()


def csrf(client) -> str:
    if not client.cookies.get("rs_csrf"):
        client.get("/login")
    return client.cookies.get("rs_csrf")


def login(client, username="staff", password=STAFF_PASSWORD):
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf(client),
                                       "next": "/"})


def new_district(client, name="Springfield Public Schools") -> tuple[int, str]:
    response = client.post("/districts", data={"name": name, "timezone": "America/Chicago",
                                               "csrf_token": csrf(client)})
    assert response.status_code == 201
    url = re.search(r'value="(http://testserver/intake/[^"]+)"', response.text).group(1)
    district_id = int(re.search(r'href="/districts/(\d+)"', response.text).group(1))
    return district_id, url.removeprefix("http://testserver")


def intake_form(client, secret: str, **extra) -> dict:
    return {"csrf_token": csrf(client), "provider": "infinite_campus", "auth": "oauth2",
            "client_id": "client-6a1f", "client_secret": secret,
            "token_url": "http://127.0.0.1:9/campus/oauth2/token?appName=springfield",
            "base_url": "http://127.0.0.1:9/campus/api/oneroster/v1p2/springfield/ims/oneroster", **extra}


def complete_intake(env) -> int:
    login(env.client)
    district_id, path = new_district(env.client)
    assert env.client.post(path, data=intake_form(env.client, RIGHT)).status_code == 200
    return district_id


# -- sign-in -------------------------------------------------------------------------------------


def test_pages_need_sign_in_and_cookies_are_protected(env):
    response = env.client.get("/districts/new", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/districts/new"
    response = login(env.client)
    assert response.status_code == 200 and "Districts" in response.text
    cookie = next(c for c in response.history[0].headers.get_list("set-cookie") if c.startswith("rs_session="))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here; https sets Secure (next test)


def test_session_cookie_is_secure_behind_https(env):
    client = TestClient(env.client.app, base_url="https://testserver")
    response = client.post("/login", data={"username": "staff", "password": STAFF_PASSWORD,
                                           "csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_rate_limit(env):
    for _ in range(5):
        assert login(env.client, password="not the password").status_code == 401
    response = login(env.client)  # even the right password waits now
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    with begin_write(env.services.engine) as conn:  # 15 minutes later
        conn.execute(update(login_attempts).values(at=datetime.datetime.now(UTC) - datetime.timedelta(minutes=16)))
    assert login(env.client).status_code == 200


def test_sign_out_ends_the_session(env):
    login(env.client)
    env.client.post("/logout", data={"csrf_token": csrf(env.client)})
    assert env.client.get("/", follow_redirects=False).status_code == 303


# -- CSRF ----------------------------------------------------------------------------------------


def test_forms_without_their_csrf_token_are_refused(env):
    login(env.client)
    for path, data in (("/districts", {"name": "Shelbyville"}), ("/login", {"username": "staff"})):
        response = env.client.post(path, data=data)
        assert response.status_code == 403 and "could not be accepted" in response.text
        response = env.client.post(path, data={**data, "csrf_token": "forged"})
        assert response.status_code == 403
    response = env.client.post("/districts", data={"name": "Shelbyville", "csrf_token": csrf(env.client)},
                               headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "Shelbyville" not in env.client.get("/").text


# -- intake links --------------------------------------------------------------------------------


def test_intake_page_shows_the_infinite_campus_steps_and_labels(env):
    login(env.client)
    _, path = new_district(env.client)
    anonymous = TestClient(env.client.app)
    page = anonymous.get(path)
    assert page.status_code == 200
    for text in ('"New Look"', "Classic", "Digital Learning Applications Configuration", "OneRoster Provisioning",
                 "Another OneRoster provider", "Information to Share"):
        assert text in page.text
    for label in ("Client ID", "Client Secret", "Token URL", "Base URL", "Consumer Key", "Consumer Secret",
                  "OneRoster URL"):
        assert re.search(rf'<label for="\w+">{label}', page.text), label
    assert "{vendor}" not in page.text
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_link_token_is_long_and_stored_only_as_a_hash(env):
    login(env.client)
    _, path = new_district(env.client)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43
    with env.services.engine.connect() as conn:
        hashes = [r.token_hash for r in conn.execute(select(intake_links))]
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]


def test_wrong_secret_shows_the_fix_and_keeps_what_was_right(env, caplog):
    caplog.set_level(logging.DEBUG)
    login(env.client)
    _, path = new_district(env.client)
    admin = TestClient(env.client.app)
    response = admin.post(path, data=intake_form(admin, WRONG))
    assert response.status_code == 422
    assert "The Client Secret was refused" in response.text
    assert "Copy the Client Secret again from Information to Share." in response.text
    assert 'value="client-6a1f"' in response.text  # kept
    assert "http://127.0.0.1:9/campus/oauth2/token?appName=springfield" in response.text
    assert WRONG not in response.text and WRONG[:-4] not in response.text  # at most the last four
    response = admin.post(path, data=intake_form(admin, RIGHT))
    assert response.status_code == 200 and "the credentials work" in response.text
    assert RIGHT not in response.text and "••••7Q2a" in response.text
    assert "Demographics are not shared" in response.text  # the warning is still shown
    server_logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "POST /intake/[token] 200" in server_logs  # the access log hides the link's token
    assert WRONG not in caplog.text and RIGHT not in caplog.text
    assert path.rsplit("/", 1)[1] not in server_logs


def test_a_spent_link_is_refused(env):
    login(env.client)
    _, path = new_district(env.client)
    admin = TestClient(env.client.app)
    assert admin.post(path, data=intake_form(admin, RIGHT)).status_code == 200
    assert admin.get(path).status_code == 410
    response = admin.post(path, data=intake_form(admin, RIGHT))
    assert response.status_code == 410 and "already been used" in response.text
    assert len(env.check.calls) == 1


def test_an_expired_link_is_refused(env):
    login(env.client)
    _, path = new_district(env.client)
    with begin_write(env.services.engine) as conn:
        conn.execute(update(intake_links).values(expires_at=datetime.datetime.now(UTC) - datetime.timedelta(seconds=1)))
    admin = TestClient(env.client.app)
    response = admin.get(path)
    assert response.status_code == 410 and "expired" in response.text
    assert admin.post(path, data=intake_form(admin, RIGHT)).status_code == 410
    assert env.check.calls == []


def test_links_expire_after_seven_days_by_default(env):
    login(env.client)
    new_district(env.client)
    with env.services.engine.connect() as conn:
        link = conn.execute(select(intake_links)).one()
    assert abs((link.expires_at - link.created_at) - datetime.timedelta(days=7)) < datetime.timedelta(seconds=5)


def test_revoked_and_reissued_links(env):
    login(env.client)
    district_id, first = new_district(env.client)
    page = env.client.post(f"/districts/{district_id}/links", data={"csrf_token": csrf(env.client)})
    second = re.search(r'value="http://testserver(/intake/[^"]+)"', page.text).group(1)
    admin = TestClient(env.client.app)
    assert admin.get(first).status_code == 410  # reissue revokes the open link
    assert admin.get(second).status_code == 200
    link_id = max(int(i) for i in re.findall(r"/links/(\d+)/revoke", env.client.get(f"/districts/{district_id}").text))
    env.client.post(f"/districts/{district_id}/links/{link_id}/revoke", data={"csrf_token": csrf(env.client)})
    assert admin.get(second).status_code == 410
    assert admin.get("/intake/" + "x" * 43).status_code == 404


def test_reissue_replaces_credentials_of_an_existing_connection(env):
    district_id = complete_intake(env)
    page = env.client.post(f"/districts/{district_id}/links", data={"csrf_token": csrf(env.client)})
    path = re.search(r'value="http://testserver(/intake/[^"]+)"', page.text).group(1)
    admin = TestClient(env.client.app)
    form = intake_form(admin, RIGHT, client_id="client-new")
    assert admin.post(path, data=form).status_code == 200
    with env.services.engine.connect() as conn:
        rows = conn.execute(select(connections)).all()
    assert len(rows) == 1 and rows[0].settings["client_id"] == "client-new"
    assert "credentials replaced" in env.client.get("/audit").text


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254"])
def test_intake_pointing_inside_is_refused_unless_allowed(tmp_path, host):
    settings = local_settings(tmp_path, loopback=False)
    check = fixed_check(decide)
    services = web_test_services(settings, check=check, runs=FakeRunActions())
    add_staff(services)
    client = TestClient(create_app(settings, services=services))
    try:
        login(client)
        _, path = new_district(client)
        form = intake_form(client, RIGHT, token_url=f"https://{host}/campus/oauth2/token?appName=a",
                           base_url=f"https://{host}/campus/api/oneroster/v1p2/a/ims/oneroster")
        response = client.post(path, data=form)
        assert response.status_code == 422 and "cannot be reached from here" in response.text
        assert check.calls == []  # nothing was fetched
    finally:
        client.close()
        services.close()


def test_intake_allowed_host_over_http_reaches_the_check(env):
    login(env.client)
    _, path = new_district(env.client)
    assert env.client.post(path, data=intake_form(env.client, RIGHT)).status_code == 200
    assert len(env.check.calls) == 1  # allow_http + allowed_hosts=127.0.0.1 (as the sandbox needs)


def test_the_secret_is_encrypted_at_rest(env):
    complete_intake(env)
    with env.services.engine.connect() as conn:
        row = conn.execute(select(connections)).one()
    assert RIGHT not in json.dumps(row.settings) and RIGHT not in row.secrets
    assert row.secrets.startswith("rsv1.")
    assert env.services.vault.decrypt(row.secrets, context=row.name) == {"client_secret": RIGHT}


def test_no_secret_in_any_page_after_submission(env):
    district_id = complete_intake(env)
    for path in ("/", f"/districts/{district_id}", "/audit", "/notifications", "/settings"):
        body = env.client.get(path).text
        assert RIGHT not in body and RIGHT[:-4] not in body, path
    assert "stored encrypted" in env.client.get(f"/districts/{district_id}").text


def test_intake_form_errors_name_the_field(env):
    login(env.client)
    _, path = new_district(env.client)
    response = env.client.post(path, data=intake_form(env.client, "", token_url=""))
    assert response.status_code == 422
    assert 'href="#client_secret"' in response.text and 'aria-invalid="true"' in response.text
    assert env.check.calls == []


def test_classic_expiry_is_warned_30_days_ahead(env):
    login(env.client)
    district_id, path = new_district(env.client)
    soon = (datetime.date.today() + datetime.timedelta(days=20)).isoformat()
    form = {"csrf_token": csrf(env.client), "provider": "generic", "auth": "oauth1", "consumer_key": "ck-1",
            "consumer_secret": "consumer-secret-9999", "oneroster_url": "http://127.0.0.1:9/ims/oneroster/v1p1",
            "signature_method": "HMAC-SHA256", "token_expiration_date": soon}
    response = env.client.post(path, data=form)
    assert response.status_code == 200 and "expires in 20 days" in response.text
    assert f"expire on {soon}" in env.client.get("/").text
    assert f"expire on {soon}" in env.client.get(f"/districts/{district_id}").text


# -- dashboard ------------------------------------------------------------------------------------


def _connection_id(env) -> int:
    with env.services.engine.connect() as conn:
        return conn.execute(select(connections.c.id)).scalar_one()


def _add_run(env, state: str, **values) -> int:
    now = datetime.datetime.now(UTC)
    with begin_write(env.services.engine) as conn:
        return conn.execute(insert(sync_runs).values(
            connection_id=_connection_id(env), mode="full", state=state, dry_run=False, started_at=now,
            finished_at=None if state == "running" else now + datetime.timedelta(seconds=3), records_read=10,
            counts={"user": {"created": 4, "updated": 1, "deleted": 0, "unchanged": 5}}, collections={},
            unresolved={}, warnings=[{"message": "user u9 has no username", "fix": "Give them one", "kind": "user",
                                      "sourced_id": "u9"}],
            errors=values.pop("errors", []), hold_reasons=values.pop("hold_reasons", []), pending_checkpoints={},
            **values)).inserted_primary_key[0]


def test_district_states_through_a_life(env):
    login(env.client)
    district_id, path = new_district(env.client)
    assert "Awaiting credentials" in env.client.get("/").text
    assert env.client.post(path, data=intake_form(env.client, RIGHT)).status_code == 200
    assert "state-ready" in env.client.get("/").text
    run_id = _add_run(env, "running")
    assert "state-syncing" in env.client.get("/").text
    with begin_write(env.services.engine) as conn:
        conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(
            state="applied", finished_at=datetime.datetime.now(UTC)))
    assert "state-healthy" in env.client.get("/").text
    _add_run(env, "failed", errors=[{"message": "The Client Secret was refused", "fix": "Send a new intake link"}])
    page = env.client.get("/").text
    assert "state-error" in page and "The Client Secret was refused" in page
    env.client.post(f"/districts/{district_id}/pause", data={"csrf_token": csrf(env.client)})
    assert "state-paused" in env.client.get("/").text
    env.client.post(f"/districts/{district_id}/resume", data={"csrf_token": csrf(env.client)})
    _add_run(env, "held", hold_reasons=["12% of users would be deleted (limit 10%)"])
    assert "state-held-for-review" in env.client.get("/").text


def test_sync_now_starts_a_run_and_is_audited(env):
    district_id = complete_intake(env)
    response = env.client.post(f"/districts/{district_id}/sync", data={"mode": "full", "csrf_token": csrf(env.client)})
    assert "The sync has started" in response.text
    assert env.started == [(_connection_id(env), "full")]
    assert "started full sync" in env.client.get("/audit").text


def test_run_page_shows_counts_duration_and_fixes(env):
    complete_intake(env)
    run_id = _add_run(env, "applied")
    page = env.client.get(f"/runs/{run_id}").text
    assert "3.0 s" in page and "user u9 has no username" in page and "Give them one" in page
    assert re.search(r"<th scope=\"row\">users</th><td class=\"num\">4</td><td class=\"num\">1</td>", page)


def _stage(env, run_id: int, kind: Kind, rows: list[dict]) -> None:
    with begin_write(env.services.engine) as conn:
        for row in rows:
            conn.execute(insert(STAGED_TABLES[kind]).values(run_id=run_id, skip=False, dup_count=1, **row))


def test_held_run_review_approve_and_discard(env):
    complete_intake(env)
    run_id = _add_run(env, "held", hold_reasons=["12% of users would be deleted (limit 10%)"])
    _stage(env, run_id, Kind.USER, [
        {"sourced_id": "s1", "op": "create", "given_name": "Ada", "family_name": "Lovelace"},
        {"sourced_id": "s2", "op": "update", "given_name": "Alan", "family_name": "Turing"},
    ])
    assert f"Review run #{run_id}" in env.client.get("/runs/held").text
    page = env.client.get(f"/runs/{run_id}").text
    assert "12% of users would be deleted" in page and "Ada Lovelace" in page and "1 created" in page
    assert "Approve and apply" in page and "Discard" in page
    district_id = int(re.search(r'href="/districts/(\d+)"', page).group(1))
    response = env.client.post(f"/districts/{district_id}/sync", data={"mode": "delta", "csrf_token": csrf(env.client)})
    assert "waits for review" in response.text and env.started == []
    response = env.client.post(f"/runs/{run_id}/approve", data={"csrf_token": csrf(env.client)})
    assert "The held run was applied" in response.text
    assert env.runs.calls == [("approve", run_id)]
    env.client.post(f"/runs/{run_id}/discard", data={"csrf_token": csrf(env.client)})
    assert env.runs.calls[-1] == ("discard", run_id)
    audit = env.client.get("/audit").text
    assert "approved held run" in audit and "discarded held run" in audit


def test_approve_refused_when_the_store_moved(env):
    complete_intake(env)
    run_id = _add_run(env, "held", hold_reasons=["too many deletions"])
    env.runs.fail = StoreMoved(run_id, run_id + 1)
    response = env.client.post(f"/runs/{run_id}/approve", data={"csrf_token": csrf(env.client)})
    assert response.status_code == 409 and f"run {run_id + 1} was applied" in response.text
    assert "and sync again" in response.text  # the fix


def _roster(env) -> None:
    cid = _connection_id(env)
    now = datetime.datetime.now(UTC)
    common = dict(connection_id=cid, status="active", raw={}, content_hash="h", created_at=now, updated_at=now)
    rows = {
        Kind.ORG: [{"sourced_id": "sch1", "name": "Lincoln Elementary", "type": "school"},
                   {"sourced_id": "d1", "name": "Springfield District", "type": "district"}],
        Kind.CLASS: [{"sourced_id": "c1", "title": "Grade 3 Math", "class_code": "M3", "school_sourced_id": "sch1"}],
        Kind.USER: [{"sourced_id": "t1", "given_name": "Edna", "family_name": "Krabappel", "role": "teacher",
                     "email": "ekrabappel@springfield.k12.us"},
                    {"sourced_id": "s1", "given_name": "Bart", "family_name": "Simpson", "role": "student",
                     "email": "bart@springfield.k12.us", "grades": ["03"]},
                    {"sourced_id": "s2", "given_name": "Gone", "family_name": "Away", "role": "student",
                     "deleted_at": now}],
        Kind.ENROLLMENT: [{"sourced_id": "e1", "user_sourced_id": "t1", "class_sourced_id": "c1", "role": "teacher"},
                          {"sourced_id": "e2", "user_sourced_id": "s1", "class_sourced_id": "c1", "role": "student"},
                          {"sourced_id": "e3", "user_sourced_id": "s2", "class_sourced_id": "c1", "role": "student"}],
    }
    with begin_write(env.services.engine) as conn:
        for kind, items in rows.items():
            for item in items:
                conn.execute(insert(ROSTER_TABLES[kind]).values(**common, **item))


def test_roster_browser(env):
    district_id = complete_intake(env)
    _roster(env)
    base = f"/districts/{district_id}/roster"
    schools = env.client.get(base).text
    assert "Lincoln Elementary" in schools and "Springfield District" not in schools
    assert "Grade 3 Math" in env.client.get(f"{base}/schools/sch1").text
    klass = env.client.get(f"{base}/classes/c1").text
    assert "Edna Krabappel" in klass and "Bart Simpson" in klass and "Gone Away" not in klass
    assert "Grade 3 Math" in env.client.get(f"{base}/people/s1").text
    for query in ("simpson", "bart@springfield.k12.us", "t1", "Bart Simpson"):
        page = env.client.get(base, params={"q": query}).text
        assert ("Bart Simpson" in page) or ("Edna Krabappel" in page), query
    assert "Nothing matches" in env.client.get(base, params={"q": "zzz%_"}).text
    assert env.client.get(f"{base}/classes/nope").status_code == 404


def test_dashboard_counts_live_records(env):
    complete_intake(env)
    _roster(env)
    page = env.client.get("/").text
    row = page[page.index("Springfield Public Schools"):]
    assert re.search(r'<td class="num">2</td>\s*<td class="num">2</td>\s*<td class="num">1</td>\s*<td class="num">3</td>', row)


# -- notifications, webhook, audit ---------------------------------------------------------------


def test_intake_notifies_staff_and_signs_the_webhook(env):
    secret = "webhook-signing-secret-123"
    with WebhookReceiver(secret) as hook:
        login(env.client)
        response = env.client.post("/settings/webhook", data={"url": hook.url, "secret": secret,
                                                              "csrf_token": csrf(env.client)})
        assert "The webhook was saved" in response.text and secret not in response.text
        _, path = new_district(env.client)
        env.client.post(path, data=intake_form(env.client, RIGHT))
        (payload,) = hook.wait_for(1)  # the signature and timestamp verify
        _, body = hook.received[0]
    assert payload["event"] == "intake.completed" and payload["district"] == "Springfield Public Schools"
    assert RIGHT.encode() not in body
    notices = env.client.get("/notifications").text
    assert "sent working credentials" in notices
    assert "credentials received" in env.client.get("/audit").text


def test_webhook_url_goes_through_the_guard(tmp_path):
    settings = local_settings(tmp_path, loopback=False)
    services = web_test_services(settings, check=fixed_check(decide), runs=FakeRunActions())
    add_staff(services)
    client = TestClient(create_app(settings, services=services))
    try:
        login(client)
        response = client.post("/settings/webhook", data={"url": "https://169.254.169.254/hook",
                                                          "secret": "x" * 20, "csrf_token": csrf(client)})
        assert response.status_code == 422 and "link-local" in response.text
    finally:
        client.close()
        services.close()


def test_cli_connections_appear_on_the_dashboard(env):
    from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
    from rostersync.store.connections import add_connection

    spec = ConnectionSpec(OAuth2Credentials("id", "cli-secret-value-1", "https://h/campus/oauth2/token?appName=a",
                                            "https://h/campus/api/oneroster/v1p1/a/ims/oneroster"))
    with begin_write(env.services.engine) as conn:
        add_connection(db=conn, vault=env.services.vault, name="shelbyville", display_name="Shelbyville USD",
                       settings=spec.to_dict(), secrets=spec.secrets())
    login(env.client)
    page = env.client.get("/").text
    assert "Shelbyville USD" in page and "state-ready" in page


# -- the sync schedule ----------------------------------------------------------------------------


def _schedule(env):
    from rostersync.store.schedule_tables import schedule_row

    with env.services.engine.connect() as conn:
        return schedule_row(db=conn, connection_id=_connection_id(env))


def _overrides(env) -> tuple:
    row = _schedule(env)
    return row.window_start, row.window_end, row.full_weekday, row.summer_pause_start


def _save_schedule(env, district_id: int, follow: bool = True, **fields):
    data = {"window_start": "22:30", "window_end": "05:00", "full_day": "sat", "summer_first": "",
            "summer_last": "", "csrf_token": csrf(env.client), **fields}
    return env.client.post(f"/districts/{district_id}/schedule", data=data, follow_redirects=follow)


def test_the_schedule_form_changes_what_the_cli_changes_and_is_audited(env):
    district_id = complete_intake(env)
    page = env.client.get(f"/districts/{district_id}").text
    assert "22:30-05:00 America/Chicago, full on sat</span> (the house schedule)" in page
    assert 'name="window_start" type="time" value="22:30"' in page and '<option value="sat" selected>' in page

    response = _save_schedule(env, district_id, full_day="wed", follow=False)  # only the full-sync night
    assert response.status_code == 303 and response.headers["location"].endswith("?msg=schedule-saved#schedule-heading")
    assert _overrides(env) == (None, None, 2, None)  # the window stays the house's

    page = _save_schedule(env, district_id, window_start="01:00", window_end="04:30", full_day="wed",
                          summer_first="2026-06-10", summer_last="2026-08-15").text
    assert "The sync schedule was saved." in page
    summary = "01:00-04:30 America/Chicago, full on wed, summer pause 2026-06-10..2026-08-15"
    assert f'<span id="schedule-summary">{summary}</span>.' in page
    row = _schedule(env)
    assert (row.window_start, row.window_end, row.summer_pause_start, row.summer_pause_end) == (
        "01:00", "04:30", datetime.date(2026, 6, 10), datetime.date(2026, 8, 15))
    audit = env.client.get("/audit").text
    assert "changed the sync schedule" in audit and summary in audit

    _save_schedule(env, district_id, window_start="01:00", window_end="04:30", full_day="wed")  # pause emptied
    assert _schedule(env).summer_pause_start is None and _schedule(env).window_start == "01:00"
    page = _save_schedule(env, district_id, action="default").text
    assert "22:30-05:00 America/Chicago, full on sat</span> (the house schedule)" in page
    assert _overrides(env) == (None, None, None, None)


def test_schedule_errors_are_shown_next_to_their_fields_and_nothing_is_saved(env):
    district_id = complete_intake(env)
    response = _save_schedule(env, district_id, window_start="25:00", full_day="someday", summer_first="2026-06-10",
                              summer_last="June 30")
    assert response.status_code == 422
    page = response.text
    assert "The schedule was not saved" in page
    for field, words in (("window_start", "Window start &#39;25:00&#39; is not a time of day. Write it as HH:MM"),
                         ("full_day", "Full-sync day &#39;someday&#39; is not a weekday. Use mon, tue"),
                         ("summer_last", "Summer pause last night &#39;June 30&#39; is not a date.")):
        assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(words)}', page), field
        assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error"[^>]*aria-invalid="true"', page), field
    assert 'value="25:00"' in page and 'value="June 30"' in page  # what was typed is kept
    assert "window_end-error" not in page and "summer_first-error" not in page
    assert _overrides(env) == (None, None, None, None) and "changed the sync schedule" not in env.client.get("/audit").text

    page = _save_schedule(env, district_id, window_start="04:00", window_end="04:00").text
    assert re.search(r'<p class="field-error" id="window-error">Sync window 04:00-04:00 is empty', page)
    page = _save_schedule(env, district_id, summer_first="2026-08-15", summer_last="2026-06-10").text
    assert re.search(r'<p class="field-error" id="summer_pause-error">Summer pause ends \(2026-06-10\) before', page)
    page = _save_schedule(env, district_id, summer_first="2026-08-15").text
    assert re.search(r'<p class="field-error" id="summer_last-error">Summer pause last night is missing', page)


def test_the_schedule_form_is_for_signed_in_staff_with_the_pages_token(env):
    district_id = complete_intake(env)
    refused = env.client.post(f"/districts/{district_id}/schedule", data={"window_start": "01:00"})
    assert refused.status_code == 403
    env.client.post("/logout", data={"csrf_token": csrf(env.client)})
    response = _save_schedule(env, district_id, window_start="01:00", follow=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert _overrides(env) == (None, None, None, None)
    login(env.client)
    awaiting, _ = new_district(env.client, "Shelbyville Unified")
    assert _save_schedule(env, awaiting, window_start="01:00").status_code == 409

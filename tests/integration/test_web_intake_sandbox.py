"""The intake page with the real connection check against the sandbox over loopback."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rostersync.sandbox.server import start_sandbox
from rostersync.store.tables import connections
from rostersync.web.app import create_app
from rostersync.web.testing import STAFF_PASSWORD, FakeRunActions, add_staff, local_settings, web_test_services


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(students=30, seed=3) as box:
        yield box


@pytest.fixture()
def client(tmp_path):
    settings = local_settings(tmp_path)
    services = web_test_services(settings, runs=FakeRunActions())
    add_staff(services)
    with TestClient(create_app(settings, services=services)) as client:
        client.get("/login")
        client.post("/login", data={"username": "staff", "password": STAFF_PASSWORD,
                                    "csrf_token": client.cookies["rs_csrf"]})
        client.services = services
        yield client
    services.close()


def _link(client) -> str:
    page = client.post("/districts", data={"name": "Sandbox District", "csrf_token": client.cookies["rs_csrf"]})
    return re.search(r'value="http://testserver(/intake/[^"]+)"', page.text).group(1)


def _form(client, creds, secret: str) -> dict:
    return {"csrf_token": client.cookies["rs_csrf"], "provider": "infinite_campus", "auth": "oauth2",
            "client_id": creds.client_id, "client_secret": secret, "token_url": creds.token_url,
            "base_url": creds.base_url}


def test_wrong_then_right_secret_against_the_sandbox(client, sandbox):
    creds = sandbox.credentials
    path = _link(client)
    wrong = "not-the-secret-" + "x" * 20
    response = client.post(path, data=_form(client, creds, wrong))
    assert response.status_code == 422
    assert "Client Secret" in response.text and "How to fix it" in response.text
    assert wrong not in response.text
    response = client.post(path, data=_form(client, creds, creds.client_secret))
    assert response.status_code == 200, response.text
    assert creds.client_secret not in response.text
    with client.services.engine.connect() as conn:
        row = conn.execute(select(connections)).one()
    assert row.name == "sandbox-district" and creds.client_secret not in row.secrets
    assert client.get(path).status_code == 410


def test_demographics_not_shared_is_explained(client, sandbox):
    sandbox.demographics = False
    try:
        response = client.post(_link(client), data=_form(client, sandbox.credentials, sandbox.credentials.client_secret))
    finally:
        sandbox.demographics = True
    assert "Demographics" in response.text and "Data to Share" in response.text

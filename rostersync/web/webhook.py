"""The optional staff webhook: a signed JSON POST when something needs people.

The payload is ``{"event": ..., "at": ..., "district": ..., ...}`` (names and
counts, never a secret). Each request carries

* ``X-Rostersync-Timestamp``: Unix seconds, and
* ``X-Rostersync-Signature``: ``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
  keyed with the signing secret staff chose,

so the receiver can check it came from us and is fresh. The URL goes through
the same network guard as intake URLs; the signing secret is kept encrypted,
together with the address of the dashboard it was saved from, which events
about a run turn into a link (``"url"``) for the workers, which do not know it.
A delivery is tried once; a failure is logged with the event and the
receiver's host only (a webhook URL's path is often a credential too).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from ..store.web_tables import webhooks
from ..vault import Vault
from ..log import register_secret
from .netguard import NetPolicy, guarded_client, preflight
from .security import last4, sign_payload, utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Rostersync-Signature"
TIMESTAMP_HEADER = "X-Rostersync-Timestamp"


_CONTEXT = "web-webhook"


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret_last4: str
    enabled: bool


def current(*, conn: Connection) -> WebhookConfig | None:
    row = conn.execute(select(webhooks).order_by(webhooks.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    return WebhookConfig(url=row.url, secret_last4=row.secret_last4, enabled=bool(row.enabled))


def configure(url: str, secret: str, actor: str, *, conn: Connection, vault: Vault,
              policy: NetPolicy, dashboard_url: str | None = None) -> WebhookConfig:
    """Replace the webhook; raises ValueError naming what is wrong with the URL or secret.

    ``dashboard_url`` (the dashboard's address, e.g. ``https://rostersync.example.org/``) makes the
    links in events absolute.
    """
    url = url.strip()
    problem = preflight(policy, url) if url else "the URL is empty"
    if problem:
        raise ValueError(f"the webhook URL cannot be used: {problem}")
    if len(secret) < 16:
        raise ValueError("the signing secret must be at least 16 characters long")
    conn.execute(delete(webhooks))
    sealed = vault.encrypt({"secret": secret, "dashboard_url": dashboard_url}, context=_CONTEXT)
    conn.execute(insert(webhooks).values(url=url, secret_encrypted=sealed,
                                         secret_last4=last4(secret), enabled=True,
                                         created_at=utcnow(), created_by=actor))
    return current(conn=conn)


def remove(*, conn: Connection) -> None:
    conn.execute(delete(webhooks))


def signed_request(url: str, secret: str, payload: dict, *, now: float | None = None) -> httpx.Request:
    body = orjson.dumps(payload)
    timestamp = str(int(now if now is not None else time.time()))
    return httpx.Request("POST", url, content=body, headers={
        "Content-Type": "application/json",
        "User-Agent": "rostersync-webhook",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: "sha256=" + sign_payload(secret, timestamp, body),
    })


class WebhookSender:
    """Deliver events to the configured webhook (one attempt, bounded by the guard)."""

    def __init__(self, *, engine: Engine, vault: Vault, policy: NetPolicy,
                 client_factory: Callable[[NetPolicy], httpx.Client] | None = None) -> None:
        self._engine = engine
        self._vault = vault
        self._policy = policy
        self._client_factory = client_factory or (lambda p: guarded_client(p, follow_redirects=False))

    def send(self, event: str, payload: dict, *, link: str | None = None) -> bool:
        """POST ``event`` if a webhook is configured; True when it was accepted (2xx).

        ``link`` is a dashboard path (``/runs/42``); the payload gets it as ``"url"``, absolute when
        the dashboard's address is known.
        """
        with self._engine.connect() as conn:
            row = conn.execute(select(webhooks).where(webhooks.c.enabled.is_(True))
                               .order_by(webhooks.c.id.desc()).limit(1)).first()
        if row is None:
            return False
        sealed = self._vault.decrypt(row.secret_encrypted, context=_CONTEXT)
        secret = sealed["secret"]
        register_secret(secret)  # nothing below may log it
        body = {"event": event, "at": utcnow().isoformat(), **payload}
        if link is not None:
            body["url"] = str(sealed.get("dashboard_url") or "").rstrip("/") + link
        request = signed_request(row.url, secret, body)
        host = urlsplit(row.url).hostname
        try:
            with self._client_factory(self._policy) as client:
                response = client.send(request)
        except httpx.HTTPError as exc:
            log.warning("webhook %s to %s not delivered: %s", event, host, type(exc).__name__)
            return False
        if not response.is_success:
            log.warning("webhook %s to %s answered HTTP %s", event, host, response.status_code)
        return response.is_success

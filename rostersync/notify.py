"""The optional staff webhook: a signed JSON POST when something needs people.

The web server sends ``intake.completed``; the scheduler and the workers send
``run.held`` and ``run.failed`` (:mod:`rostersync.jobs.notices`). Staff
configure the webhook on the dashboard (:mod:`rostersync.web.webhook`).

The payload is ``{"event": ..., "at": ..., "district": ..., ...}`` (names and
counts, never a secret). Each request carries

* ``X-Rostersync-Timestamp``: Unix seconds, and
* ``X-Rostersync-Signature``: ``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``
  keyed with the signing secret staff chose,

so the receiver can check it came from us and is fresh. The URL goes through
the network guard (:mod:`rostersync.netguard`); the signing secret is kept
encrypted (:func:`seal_secret`), together with the address of the dashboard it
was saved from, which events about a run turn into a link (``"url"``) for the
workers, which do not know it. A delivery is tried once; a failure is logged
with the event and the receiver's host only (a webhook URL's path is often a
credential too).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import time
from typing import Callable
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy.engine import Engine

from .log import register_secret
from .netguard import NetPolicy, guarded_client
from .store.webhooks import latest_webhook
from .vault import Vault

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Rostersync-Signature"
TIMESTAMP_HEADER = "X-Rostersync-Timestamp"

_CONTEXT = "web-webhook"  # the vault context of the sealed secret (kept: webhooks saved before use it)


def sign_payload(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``"<timestamp>.<body>"``, hex, as webhook receivers verify it."""
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_request(url: str, secret: str, payload: dict, *, now: float | None = None) -> httpx.Request:
    body = orjson.dumps(payload)
    timestamp = str(int(now if now is not None else time.time()))
    return httpx.Request("POST", url, content=body, headers={
        "Content-Type": "application/json",
        "User-Agent": "rostersync-webhook",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: "sha256=" + sign_payload(secret, timestamp, body),
    })


def seal_secret(vault: Vault, secret: str, *, dashboard_url: str | None = None) -> str:
    """The signing secret (and the dashboard's address, for links) as the webhook row keeps them."""
    return vault.encrypt({"secret": secret, "dashboard_url": dashboard_url}, context=_CONTEXT)


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
        with self._engine.connect() as db:
            hook = latest_webhook(db=db, enabled=True)
        if hook is None:
            return False
        sealed = self._vault.decrypt(hook.secret_encrypted, context=_CONTEXT)
        secret = sealed["secret"]
        register_secret(secret)  # nothing below may log it
        body = {"event": event, "at": datetime.datetime.now(datetime.timezone.utc).isoformat(), **payload}
        if link is not None:
            body["url"] = str(sealed.get("dashboard_url") or "").rstrip("/") + link
        request = signed_request(hook.url, secret, body)
        host = urlsplit(hook.url).hostname
        try:
            with self._client_factory(self._policy) as client:
                response = client.send(request)
        except httpx.HTTPError as exc:
            log.warning("webhook %s to %s not delivered: %s", event, host, type(exc).__name__)
            return False
        if not response.is_success:
            log.warning("webhook %s to %s answered HTTP %s", event, host, response.status_code)
        return response.is_success

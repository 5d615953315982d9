"""Settings > Webhook: the staff webhook's URL and signing secret.

Signing and delivering events is :mod:`rostersync.notify`'s (the workers
deliver too); this module checks and saves what staff typed. The URL must
pass the network guard; the secret is sealed by the vault and only its last
four characters are shown again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ..netguard import NetPolicy, preflight
from ..notify import seal_secret
from ..store import webhooks as store_webhooks
from ..vault import Vault
from .security import last4


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret_last4: str
    enabled: bool


def current(*, conn: Connection) -> WebhookConfig | None:
    hook = store_webhooks.latest_webhook(db=conn)
    if hook is None:
        return None
    return WebhookConfig(url=hook.url, secret_last4=hook.secret_last4, enabled=hook.enabled)


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
    sealed = seal_secret(vault, secret, dashboard_url=dashboard_url)
    store_webhooks.replace_webhook(db=conn, url=url, secret_encrypted=sealed, secret_last4=last4(secret),
                                   created_by=actor)
    return current(conn=conn)


def remove(*, conn: Connection) -> None:
    store_webhooks.remove_webhooks(db=conn)

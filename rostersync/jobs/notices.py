"""Telling people about a run that needs them: a dashboard notification and a signed webhook event.

The scheduler, the workers and the dashboard's "Sync now" all run syncs
through :func:`rostersync.jobs.runner.execute`, which calls a
:class:`RunNotifier` (``JobServices.announce``) when a run ends held for
review or an order stops failing (see :class:`rostersync.jobs.model.RunEnded`).
The notifier writes a notification for the dashboard, then POSTs one of::

    {"event": "run.held", "at": "...", "district": "Springfield Public Schools",
     "connection": "springfield-public-schools", "run_id": 42, "mode": "delta",
     "trigger": "scheduled", "reason": "nightly delta sync",
     "hold_reasons": ["12% of users would be deleted (limit 10%)"],
     "url": "https://rostersync.example.org/runs/42"}

    {"event": "run.failed", ..., "outcome": "error", "error": "...", "fix": "...",
     "detail": "failed permanently after 1 attempt(s)", "attempts": 1, "url": "..."}

with the webhook's signature (:mod:`rostersync.notify`). Names, counts and the
dashboard's plain-language messages only: never a secret or roster data.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from ..netguard import NetPolicy
from ..notify import WebhookSender
from ..settings import Settings
from ..store import runs as store_runs
from ..store.activity import add_notification
from ..store.districts import district_by_connection
from ..store.engine import begin_write
from ..store.errors import RunNotFound
from ..vault import Vault
from .model import RunEnded

# Receivers should answer at once; a slow one must not hold a worker's sync slot for long.
DELIVERY_TIMEOUT = 10.0
DELIVERY_DEADLINE = 15.0


class RunNotifier:
    """``notifier(event)``: the dashboard notification, then the webhook (if one is configured)."""

    def __init__(self, *, engine: Engine, webhook: WebhookSender) -> None:
        self._engine = engine
        self._webhook = webhook

    def __call__(self, event: RunEnded) -> None:
        with self._engine.connect() as db:
            district = district_by_connection(db=db, connection_name=event.connection_name)
            reasons = self._hold_reasons(event, db)
        name = district.name if district else event.connection_name
        trigger = "scheduled" if event.scheduled else "manual"
        payload: dict = {"district": name, "connection": event.connection_name, "run_id": event.run_id,
                         "mode": event.mode, "trigger": trigger, "reason": event.reason}
        if event.event == "run.held":
            payload["hold_reasons"] = reasons
            level = "warning"
            message = (f"Run #{event.run_id} of {name} ({trigger} {event.mode} sync) was held for review: "
                       f"{'; '.join(reasons) or event.message}. Approve or discard it.")
        else:
            payload.update(outcome=event.outcome, error=event.message, fix=event.fix, detail=event.detail,
                           attempts=event.attempts)
            level = "error"
            message = " ".join(part for part in (
                f"The {trigger} {event.mode} sync of {name} failed ({event.detail}): {event.message.rstrip('.')}.",
                event.fix or "") if part)
        if event.run_id is not None:
            link = f"/runs/{event.run_id}"
        else:
            link = f"/districts/{district.id}" if district else "/"
        try:
            with begin_write(self._engine) as db:
                add_notification(db=db, message=message, level=level, district_id=district.id if district else None)
        finally:  # the webhook goes out even when the notification could not be written
            self._webhook.send(event.event, payload, link=link)

    @staticmethod
    def _hold_reasons(event: RunEnded, db: Connection) -> list[str]:
        if event.event != "run.held" or event.run_id is None:
            return []
        try:
            return [str(r) for r in store_runs.get_run(db=db, run_id=event.run_id).hold_reasons]
        except RunNotFound:
            return []


def run_notifier(settings: Settings, *, engine: Engine, vault: Vault) -> RunNotifier:
    """The notifier a worker, a scheduler or ``rostersync serve`` gives its job services."""
    policy = NetPolicy.from_settings(settings, timeout=DELIVERY_TIMEOUT, deadline=DELIVERY_DEADLINE)
    return RunNotifier(engine=engine, webhook=WebhookSender(engine=engine, vault=vault, policy=policy))

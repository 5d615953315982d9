"""Held and failed runs announced to people: now :mod:`rostersync.jobs.notices`, which the job
services use by default (the jobs layer does not import the web server)."""

from ..jobs.notices import DELIVERY_DEADLINE, DELIVERY_TIMEOUT, RunNotifier, run_notifier  # noqa: F401

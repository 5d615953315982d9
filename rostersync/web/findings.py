"""Findings as the intake page shows them, whatever produced them.

The connection check returns its own report type; :func:`from_report` reads
any object with ``findings`` whose items have ``level``, ``title``,
``detail`` and ``fix`` (attributes or keys), so the page does not depend on
the check's internals. Text is passed through :func:`rostersync.log.redact`
and the secrets just typed are masked, in case a provider echoed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..log import redact

LEVELS = ("error", "warning", "ok")


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | error
    title: str
    detail: str = ""
    fix: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == "error"


def _get(item: object, name: str) -> str:
    value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
    if hasattr(value, "value"):  # an Enum level
        value = value.value
    return "" if value is None else str(value)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[hidden]")
    return redact(text)


def from_report(report: object, *, secrets: Iterable[str] = ()) -> list[Finding]:
    """The report's findings, errors first, with secrets hidden."""
    items = report.get("findings") if isinstance(report, dict) else getattr(report, "findings", report)
    secrets = [s for s in secrets if s]
    out = []
    for item in items or ():
        level = _get(item, "level").lower() or "error"
        if level not in LEVELS:
            level = "warning" if level.startswith("warn") else ("ok" if level in ("pass", "info") else "error")
        out.append(Finding(level=level, title=scrub(_get(item, "title"), secrets),
                           detail=scrub(_get(item, "detail"), secrets), fix=scrub(_get(item, "fix"), secrets)))
    return sorted(out, key=lambda f: LEVELS.index(f.level))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)

"""The connection check's report: findings (ok, warning, error) with their fixes.

:class:`Findings` turns a code of :data:`~.check_fixes.CATALOG` into a
:class:`Finding`, choosing the Infinite Campus wording of the fix when the
connection is an Infinite Campus site.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..oneroster.kinds import Version
from .check_fixes import CATALOG

LEVELS = ("ok", "warning", "error")


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warning | error
    code: str
    title: str
    detail: str = ""
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # records per collection
    inexact: set[str] = field(default_factory=set)  # collections whose count is a lower bound
    version: Version | None = None
    clock_skew: float | None = None  # seconds the provider's clock is ahead of ours
    auth: str | None = None  # oauth2 | oauth1
    api_root: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "auth": self.auth,
            "api_root": self.api_root,
            "version": self.version.value if self.version else None,
            "clock_skew_seconds": round(self.clock_skew, 1) if self.clock_skew is not None else None,
            "counts": {name: {"count": n, "exact": name not in self.inexact} for name, n in self.counts.items()},
            "findings": [f.to_dict() for f in self.findings],
        }


class Findings:
    """Collects findings into one report."""

    def __init__(self) -> None:
        self.report = CheckReport()
        self.ic = False  # word fixes in Infinite Campus terms

    def add(self, code: str, detail: str = "", *, level: str | None = None, **context: Any) -> None:
        entry = CATALOG[code]
        fix = entry.ic_fix if self.ic or not entry.fix else entry.fix
        self.report.findings.append(Finding(
            level=level or entry.level, code=code, title=entry.title.format(**context),
            detail=detail, fix=fix.format(**context)))

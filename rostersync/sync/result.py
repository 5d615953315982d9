"""What a run reports: counts per kind, issues with fixes, timing, state.

:class:`RunResult` is built from the stored run (:meth:`RunResult.from_run`),
so the value ``SyncEngine.run`` returns and what ``rostersync runs show``
reads later are the same thing. ``to_dict()`` is the ``--json`` shape.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

from ..oneroster.kinds import SYNC_ORDER, Kind
from ..store.runs import StoredRun

KIND_LABELS = {
    Kind.ORG: "orgs", Kind.ACADEMIC_SESSION: "academic sessions", Kind.DEMOGRAPHICS: "demographics",
    Kind.USER: "users", Kind.COURSE: "courses", Kind.CLASS: "classes", Kind.ENROLLMENT: "enrollments",
}


@dataclass(frozen=True)
class Issue:
    """A warning or error of a run; ``kind``/``sourced_id`` name the record when there is one."""

    code: str  # malformed | duplicate | problems | collection_failed | collection_empty | unresolved | ...
    message: str
    fix: str | None = None
    kind: str | None = None
    sourced_id: str | None = None
    count: int = 1  # records this issue stands for

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        return cls(**{k: data.get(k) for k in ("code", "message", "fix", "kind", "sourced_id")},
                   count=data.get("count") or 1)

    def __str__(self) -> str:
        return self.message + (f" Fix: {self.fix}" if self.fix else "")


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: int = 0  # read but unusable: the stored copy was kept

    @property
    def changes(self) -> int:
        return self.created + self.updated + self.deleted

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class RunResult:
    run_id: int
    connection: str
    mode: str  # full | delta
    dry_run: bool
    state: str  # running | held | applied | discarded | failed
    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    records_read: int
    counts: dict[Kind, KindCounts]
    unresolved: dict[str, int]  # "enrollment.user" -> records whose reference is unknown
    warnings: list[Issue]
    errors: list[Issue]
    hold_reasons: list[str]
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        end = self.finished_at or datetime.datetime.now(datetime.timezone.utc)
        return max((end - self.started_at).total_seconds(), 0.0)

    @property
    def records_per_second(self) -> float:
        return self.records_read / self.duration if self.duration > 0 else 0.0

    @property
    def total(self) -> KindCounts:
        out = KindCounts()
        for c in self.counts.values():
            for name in ("created", "updated", "deleted", "unchanged", "skipped"):
                setattr(out, name, getattr(out, name) + getattr(c, name))
        return out

    @property
    def held(self) -> bool:
        return self.state == "held"

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @classmethod
    def from_run(cls, run: StoredRun) -> RunResult:
        counts = {kind: KindCounts(**run.counts.get(kind.value, {})) for kind in SYNC_ORDER}
        return cls(
            run_id=run.id, connection=run.connection_name, mode=run.mode, dry_run=run.dry_run,
            state=run.state, started_at=run.started_at, finished_at=run.finished_at,
            records_read=run.records_read, counts=counts,
            unresolved={label: entry["count"] for label, entry in run.unresolved.items()},
            warnings=[Issue.from_dict(w) for w in run.warnings],
            errors=[Issue.from_dict(e) for e in run.errors],
            hold_reasons=list(run.hold_reasons), collections=dict(run.collections),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "connection": self.connection, "mode": self.mode,
            "dry_run": self.dry_run, "state": self.state,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_seconds": round(self.duration, 3),
            "records_read": self.records_read,
            "records_per_second": round(self.records_per_second, 1),
            "counts": {kind.value: c.to_dict() for kind, c in self.counts.items()},
            "unresolved": dict(self.unresolved),
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
            "hold_reasons": list(self.hold_reasons),
            "collections": self.collections,
        }

"""The guard: hold a run that would change too much for a person to review.

A pure function over the diff's counts and the store's size before the run.
By default a run is held when, for any record kind, more than 10% of the
stored records would be deleted or more than 75% updated, and at least
``min_records`` (10) records are involved, so a tiny district is not held for
one record. Thresholds are per connection (``connections.hold_*``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..oneroster.kinds import SYNC_ORDER, Kind
from ..store.connections import (
    DEFAULT_HOLD_DELETE_PERCENT,
    DEFAULT_HOLD_MIN_RECORDS,
    DEFAULT_HOLD_UPDATE_PERCENT,
    StoredConnection,
)
from .result import KIND_LABELS, KindCounts


@dataclass(frozen=True)
class Thresholds:
    delete_percent: float = DEFAULT_HOLD_DELETE_PERCENT
    update_percent: float = DEFAULT_HOLD_UPDATE_PERCENT
    min_records: int = DEFAULT_HOLD_MIN_RECORDS

    @classmethod
    def of(cls, connection: StoredConnection) -> Thresholds:
        return cls(connection.hold_delete_percent, connection.hold_update_percent, connection.hold_min_records)


def hold_reasons(
    counts: Mapping[Kind, KindCounts], live_before: Mapping[Kind, int], thresholds: Thresholds,
) -> list[str]:
    """Why the run must be held (empty: it may be applied)."""
    reasons = []
    for kind in SYNC_ORDER:
        c, base = counts.get(kind), live_before.get(kind, 0)
        if c is None or base <= 0:
            continue
        for verb, amount, limit in (("deleted", c.deleted, thresholds.delete_percent),
                                    ("updated", c.updated, thresholds.update_percent)):
            if amount >= max(thresholds.min_records, 1) and amount * 100 > limit * base:
                reasons.append(
                    f"{amount} of {base} {KIND_LABELS[kind]} ({amount * 100 / base:.1f}%) would be {verb}; "
                    f"the limit is {limit:g}%"
                )
    return reasons

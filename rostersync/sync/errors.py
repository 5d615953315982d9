"""Errors of the sync engine.

    RostersyncError                      (rostersync.errors)
    +-- SyncError                        a sync, approval or discard cannot proceed
        +-- ConnectionPaused     [X]     the connection is paused
        +-- RunNotHeld           [X]     approve/discard of a run that is not held
        +-- StoreMoved           [X]     another run was applied after this one was staged

    [X] also derives from ``Terminal``. ``SyncAlreadyRunning`` (one sync per
    connection) lives in :mod:`rostersync.store.errors`.
"""

from __future__ import annotations

from ..errors import RostersyncError, Terminal


class SyncError(RostersyncError):
    """The sync cannot proceed."""


class ConnectionPaused(SyncError, Terminal):
    """The connection is paused."""

    def __init__(self, name: str) -> None:
        super().__init__(f"connection {name!r} is paused; it is not synced",
                         fix="Resume the connection, then sync again.")


class RunNotHeld(SyncError, Terminal):
    """The run is not held for review."""

    def __init__(self, run_id: int, state: str) -> None:
        self.run_id, self.state = run_id, state
        super().__init__(f"run {run_id} is {state}, not held; only a held run can be approved or discarded",
                         fix="See `rostersync runs list` for the runs waiting for review.")


class StoreMoved(SyncError, Terminal):
    """The store changed since the run was staged."""

    def __init__(self, run_id: int, applied_run_id: int | None) -> None:
        self.run_id, self.applied_run_id = run_id, applied_run_id
        after = f"run {applied_run_id} was applied" if applied_run_id is not None else "the store was reset"
        super().__init__(
            f"run {run_id} cannot be approved: {after} after it was staged, so its changes are out of date",
            fix=f"Discard run {run_id} (`rostersync runs discard {run_id}`) and sync again.",
        )

"""Errors of the store.

    RostersyncError                      (rostersync.errors)
    +-- StoreError                       the store cannot do what was asked
        +-- ConnectionNotFound   [X]     no connection of that name
        +-- ConnectionExists     [X]     a connection of that name already exists
        +-- RunNotFound          [X]     no sync run with that id
        +-- SyncAlreadyRunning   [T]     another process is syncing this connection

    [T] also derives from ``Transient``, [X] from ``Terminal``.
"""

from __future__ import annotations

from ..errors import RostersyncError, Terminal, Transient


class StoreError(RostersyncError):
    """The store could not do what was asked."""


class ConnectionNotFound(StoreError, Terminal):
    """There is no connection of that name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"there is no connection named {name!r}",
            fix="List the connections with `rostersync connections list`.",
        )


class ConnectionExists(StoreError, Terminal):
    """A connection of that name already exists."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a connection named {name!r} already exists",
            fix="Choose another name, or remove the old connection first.",
        )


class RunNotFound(StoreError, Terminal):
    """There is no sync run with that id."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"there is no sync run {run_id}", fix="List the runs with `rostersync runs list`.")


class SyncAlreadyRunning(StoreError, Transient):
    """Another sync of this connection is already running."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"a sync of connection {name!r} is already running",
            fix="Wait for it to finish (see `rostersync runs list`), then try again.",
        )

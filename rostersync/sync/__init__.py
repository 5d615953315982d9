"""The sync engine: one run is plan -> fetch -> stage -> diff -> guard -> apply.

* :class:`SyncEngine` (:mod:`.engine`): ``run(name, mode=, dry_run=, progress=)``,
  ``approve(run_id)``, ``discard(run_id)``, ``result(run_id)``.
* :class:`RunResult`, :class:`KindCounts`, :class:`Issue` (:mod:`.result`):
  what a run reports; ``RunResult.to_dict()`` is the JSON shape.
* :class:`RosterReader`, :data:`ReaderFactory`, :func:`client_reader_factory`
  (:mod:`.reader`): what the engine reads from.
* :class:`Thresholds`, :func:`hold_reasons` (:mod:`.guard`): the guard.
* Errors: :class:`ConnectionPaused`, :class:`RunNotHeld`, :class:`StoreMoved`
  (:mod:`.errors`) and ``rostersync.store.SyncAlreadyRunning``.
"""

from ..store.errors import SyncAlreadyRunning
from .engine import DEFAULT_OVERLAP, SyncEngine
from .errors import ConnectionPaused, RunNotHeld, StoreMoved, SyncError
from .fetch import Progress
from .guard import Thresholds, hold_reasons
from .reader import ReaderFactory, RosterReader, client_reader_factory
from .result import KIND_LABELS, Issue, KindCounts, RunResult

__all__ = [
    "DEFAULT_OVERLAP", "ConnectionPaused", "Issue", "KIND_LABELS", "KindCounts", "Progress", "ReaderFactory",
    "RosterReader", "RunNotHeld", "RunResult", "StoreMoved", "SyncAlreadyRunning", "SyncEngine", "SyncError",
    "Thresholds", "client_reader_factory", "hold_reasons",
]

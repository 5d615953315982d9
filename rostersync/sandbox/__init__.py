"""A simulated Infinite Campus district for development, tests, demos and benchmarks.

* :func:`start_sandbox` serves one over HTTP on loopback (``rostersync
  sandbox serve`` from the command line) and returns a :class:`Sandbox` with
  its credentials, district, fault switches and counters;
* :func:`rostersync.sandbox.district.generate` builds a district without serving it.

Nothing is built at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .faults import FaultConfig, Faults
    from .server import Sandbox, SandboxCredentials, start_sandbox

__all__ = ["FaultConfig", "Faults", "Sandbox", "SandboxCredentials", "start_sandbox"]


def __getattr__(name: str) -> Any:  # lazy: importing the package does not import uvicorn
    if name in ("Sandbox", "SandboxCredentials", "start_sandbox"):
        from . import server

        return getattr(server, name)
    if name in ("FaultConfig", "Faults"):
        from . import faults

        return getattr(faults, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

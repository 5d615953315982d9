"""Large buffers go back to the operating system when freed (glibc's malloc).

A sync allocates blocks of several megabytes: a page's body (about 5 MB for
10,000 records), read on the client's threads and freed on the syncing thread,
and each batch's frame for the staging writer (about 1.4 MB). glibc serves a
request above its mmap threshold (128 KiB at start) with its own mapping and
unmaps it when it is freed, but it raises the threshold to the size of every
such block freed (up to 32 MiB on 64-bit). After the first page, blocks of that
size come from the arenas' heaps instead, and each thread's arena keeps what
was freed in it. A full sync of 1M records peaked at 313 MB resident in the
syncing process with the moving threshold and at 245 MB with the threshold
held at 1 MiB (``bench/bench_phases.py``), at the same speed.

:func:`hold_mmap_threshold` holds it at :data:`MMAP_THRESHOLD` for the whole
process (``mallopt(M_MMAP_THRESHOLD, ...)`` also turns the moving threshold
off); the sync engine calls it once. A threshold set in the environment
(``MALLOC_MMAP_THRESHOLD_``) is left alone, and anywhere but glibc it does
nothing.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

MMAP_THRESHOLD = 1 << 20  # bytes: larger blocks are mapped for themselves, and unmapped when freed
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_LOCK = threading.Lock()
_held: bool | None = None  # None: not tried yet


def hold_mmap_threshold() -> bool:
    """Hold glibc's mmap threshold at :data:`MMAP_THRESHOLD` (once per process); True if it is held."""
    global _held
    with _LOCK:
        if _held is None:
            _held = _set_threshold()
        return _held


def _set_threshold() -> bool:
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018  (present in glibc only: musl's mallopt does nothing)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1

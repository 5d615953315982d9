"""A sync holds glibc's mmap threshold, so multi-megabyte buffers go back to the system when freed.

Each case runs in a fresh interpreter: the threshold is process-wide and moves as blocks are freed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc (Linux)")

# After freeing an 8 MiB block, is a fresh 4 MiB block mapped for itself (mallinfo2's hblkhd grows)?
_PROBE = textwrap.dedent("""
    import ctypes, sys

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallInfo2

    def mapped():
        return libc.mallinfo2().hblkhd

    if sys.argv[1] == "engine":  # what a process that builds a sync engine gets
        from sqlalchemy import create_engine
        from rostersync.sync import SyncEngine
        SyncEngine(engine=create_engine("sqlite://"), vault=None, reader_factory=None)
    big = bytearray(8 << 20)
    del big  # glibc's moving threshold rises to 8 MiB here
    before = mapped()
    block = bytearray(4 << 20)
    print(mapped() - before >= 4 << 20)
""")


def _mapped_after_a_larger_free(mode: str) -> bool:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=60,
                         check=True)
    return out.stdout.strip() == "True"


def test_without_it_a_block_freed_once_moves_the_threshold_and_later_blocks_stay_in_the_heap():
    assert not _mapped_after_a_larger_free("plain")


def test_a_process_with_a_sync_engine_maps_large_blocks_for_themselves():
    assert _mapped_after_a_larger_free("engine")


def test_a_threshold_set_in_the_environment_is_left_alone():
    probe = "import rostersync.sync.allocator as a; print(a.hold_mmap_threshold())"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                         env={**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 << 20)})
    assert out.stdout.strip() == "False"

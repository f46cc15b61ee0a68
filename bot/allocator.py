"""Large freed blocks go back to the operating system (issue 19, point 4).

Every platform answer is read whole, up to 8 MiB (`PLATFORM_MAX_ANSWER_BYTES`), and
decoded (json.loads makes a text of up to four times that). glibc's malloc serves a
block that large with mmap and unmaps it when freed, but after the first such free it
raises its mmap threshold to that block's size ("dynamic mmap threshold", mallopt(3)), so
the next answers come from the heap, where small objects kept meanwhile (a cached
listing) pin the top and the freed megabytes are never returned: with hostile maximal
answers the bot's resident memory grew by 30-35 MB every few answers while its caches
held 3 MB (bench/memory.py, BENCHMARKS.md). Setting the threshold once turns the dynamic
adjustment off, so every block over 1 MiB is mapped on its own and returned on free.

Linux with glibc only (the Docker image is Debian); elsewhere nothing is changed.
"""

from __future__ import annotations

import ctypes
import logging
import platform

log = logging.getLogger(__name__)

#: mallopt's parameter number for the mmap threshold (glibc, malloc.h)
M_MMAP_THRESHOLD = -3
#: blocks at least this large are mapped on their own and unmapped when freed; smaller
#: ones stay in the heap (glibc starts at 128 KiB; 1 MiB keeps big lists and dicts of a
#: parse there too, measured as fast and as small in bench/memory.py)
MMAP_THRESHOLD = 1024 * 1024


def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at `threshold` bytes; True when it was set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):
        return False
    if mallopt(M_MMAP_THRESHOLD, threshold) != 1:
        log.warning("could not set the C library's mmap threshold")
        return False
    return True

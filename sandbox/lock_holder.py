"""Another process that holds the bot's SQLite write lock, for tests and benchmarks.

`write_lock_held_elsewhere(path)` starts `python -c LOCK_HOLDER path`: it takes the
write lock (BEGIN IMMEDIATE), prints "locked", and holds it until a line or the end
of its stdin, then gives it back in a finally, whatever happened meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
try:
    print("locked", flush=True)
    sys.stdin.readline()
finally:
    conn.execute("ROLLBACK")
    conn.close()
print("released", flush=True)
"""


@contextlib.asynccontextmanager
async def write_lock_held_elsewhere(path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Another process holds the write lock on `path` until the block ends (or `release`)."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCK_HOLDER,
        str(path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    try:
        locked = await asyncio.wait_for(holder.stdout.readline(), 10)
        if locked != b"locked\n":
            raise RuntimeError(f"the lock holder did not take the lock: {locked!r}")
        yield holder
    finally:
        await release(holder)


async def release(holder: asyncio.subprocess.Process) -> None:
    """Give the lock back (the holder's readline ends: it rolls back and exits)."""
    if holder.returncode is None:
        assert holder.stdin is not None
        holder.stdin.close()
        await asyncio.wait_for(holder.wait(), 10)

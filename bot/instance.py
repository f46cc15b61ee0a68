"""One bot per database: an OS-level lock on `<database>.lock` beside the SQLite file.

    lock = hold_instance_lock(settings.database_path)   # raises InstanceLocked
    ...                                                  # run the bot
    lock.release()                                       # or let the process end

Why `flock` on a file and not a row in SQLite: the kernel releases an flock when the
last descriptor of its open file goes, which happens however the process ends (exit,
exception, `kill -9`, a crash, the OOM killer). A row would outlive a killed process and
block the next start until someone decided it was stale, by a pid check that pid reuse
and containers (every bot is pid 1) make unreliable. The file keeps the holder's pid and
start time only to say *who* holds it; the lock itself decides.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class InstanceLocked(Exception):
    """Another process holds the database's instance lock."""

    def __init__(self, lock_path: Path, holder: str) -> None:
        database = lock_path.with_name(lock_path.name.removesuffix(".lock"))
        super().__init__(
            f"another instance of the bot ({holder}) holds the database {database}; "
            "stop it first, or give this one its own DATABASE_PATH"
        )
        self.lock_path = lock_path
        self.holder = holder


@dataclass
class InstanceLock:
    """The held lock: an open descriptor with an exclusive flock on `path`."""

    path: Path
    fd: int | None

    def release(self) -> None:
        if self.fd is not None:
            # the content stays: a stale file is harmless, the lock is what counts
            os.close(self.fd)
            self.fd = None


def lock_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


def hold_instance_lock(database_path: Path) -> InstanceLock:
    """Take the database's instance lock, or raise InstanceLocked naming its holder.

    Non-blocking: a second instance learns at once. The descriptor is not inherited by
    child processes (Python opens files non-inheritable), so nothing the bot starts keeps
    the lock after it dies.
    """
    path = lock_path(database_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _describe_holder(fd)
        os.close(fd)
        raise InstanceLocked(path, holder) from None
    except BaseException:
        os.close(fd)
        raise
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} since {started}\n".encode(), 0)
    return InstanceLock(path, fd)


def _describe_holder(fd: int) -> str:
    """The holder's "pid N since T", as it wrote it (a few bytes, never more)."""
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text.startswith("pid ") and text.isprintable():
            return text
    # the holder has the lock but has not written yet (it writes right after taking it)
    return "pid unknown, starting"

"""`python -m bot.health`: exit 0 when the running bot is alive, 1 otherwise (Docker HEALTHCHECK).

The bot touches a heartbeat file beside its database every `HEARTBEAT_SECONDS` from its
JobQueue, so a fresh file means the event loop and the jobs run, in long polling and
in webhook mode alike, without opening a port.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HEARTBEAT_SECONDS = 30
#: three missed beats and the bot counts as stuck
STALE_AFTER = 3 * HEARTBEAT_SECONDS


def heartbeat_path(database_path: Path) -> Path:
    return database_path.parent / "heartbeat"


def beat(database_path: Path) -> None:
    heartbeat_path(database_path).touch()


def is_alive(database_path: Path, now: float) -> bool:
    try:
        return now - heartbeat_path(database_path).stat().st_mtime <= STALE_AFTER
    except OSError:
        return False


def main() -> int:
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings(require_token=False)
    except SettingsError as exc:
        print(f"unhealthy: {exc}")
        return 1
    alive = is_alive(settings.database_path, time.time())
    print("healthy" if alive else "unhealthy: no recent heartbeat")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())

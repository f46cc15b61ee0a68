"""The local Telegram Bot API emulator (see `server.py`), re-exported by name."""

from sandbox.botapi.server import *  # noqa: F403
from sandbox.botapi.server import (  # noqa: F401
    CONFLICT_OTHER_GET_UPDATES,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
)

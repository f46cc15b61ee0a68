"""The SQLite database: every SQL statement of the bot (see storage/database.py).

sqlite-utils is imported when the first database is opened (`sqlite_utils_database`),
not when the bot is imported (issue 19 point 5: ~18 ms and 3 MB off `import bot.app`;
everything else names it only in type hints).

sqlite-utils imports numpy and pandas at its own import whenever they are installed, only
to map their number types to SQL ones. The bot stores neither, but matplotlib (the price
chart, imported on the first chart only) installs numpy, so every start paid ~30 MB and
~0.2 s for it (issue 19, bench/startup.py). sqlite-utils is first imported with both
hidden (a `None` in `sys.modules` makes `import numpy` raise ImportError, which
sqlite-utils expects), then they are unhidden, so the chart imports the real numpy later.
When numpy or pandas is already loaded it is left as it is.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

_HIDDEN = ("numpy", "pandas")


def _import_sqlite_utils_without_numpy() -> None:
    hidden = [name for name in _HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed", for a moment
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def sqlite_utils_database() -> type[sqlite_utils.Database]:
    """sqlite-utils' `Database`, imported (without numpy) on the first call."""
    if "sqlite_utils.db" not in sys.modules:
        _import_sqlite_utils_without_numpy()
    from sqlite_utils import Database

    return Database

"""The SQLite database: every SQL statement of the bot (see storage/database.py).

sqlite-utils imports numpy and pandas at its own import whenever they are installed, only
to map their number types to SQL ones. The bot stores neither, but matplotlib (the price
chart, imported on the first chart only) installs numpy, so every start paid ~30 MB and
~0.2 s for it (issue 19, bench/startup.py). sqlite-utils is first imported here with both
hidden (a `None` in `sys.modules` makes `import numpy` raise ImportError, which
sqlite-utils expects), then they are unhidden, so the chart imports the real numpy later.
When numpy or pandas is already loaded it is left as it is.
"""

from __future__ import annotations

import sys

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


_import_sqlite_utils_without_numpy()

"""Start-up loads only what serving needs (issue 19 point 5; figures: bench/startup.py)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import run_python

REPO = Path(__file__).resolve().parent.parent


def _printed_by(code: str, tmp_path: Path, *args: str) -> str:
    """What `python -c code args...` prints, run from the repository; it must succeed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = run_python(["-c", code, *args], tmp_path, env)
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def lines_printed_by(code: str, tmp_path: Path, *args: str) -> list[str]:
    return _printed_by(code, tmp_path, *args).splitlines()


def words_printed_by(code: str, tmp_path: Path, *args: str) -> list[str]:
    return _printed_by(code, tmp_path, *args).split()


def test_importing_the_bot_loads_neither_numpy_nor_matplotlib(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import bot.app\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib') if m in sys.modules))\n"
        "from storage.database import Database\n"
        "Database(sys.argv[1]).close()\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'matplotlib') if m in sys.modules))\n"
        # numpy hidden from sqlite-utils only for its import: the chart still gets the real one
        "import numpy, matplotlib\n"
        "import sqlite_utils.db\n"
        "print(sqlite_utils.db.np is None, numpy.__name__)\n"
    )
    assert lines_printed_by(code, tmp_path, str(tmp_path / "bot.sqlite3")) == [
        "[]",
        "[]",
        "True numpy",
    ]


def test_sqlite_utils_is_imported_when_the_first_database_opens(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import bot.app\n"
        "print('sqlite_utils' in sys.modules)\n"
        "from storage.database import Database\n"
        "database = Database(sys.argv[1])\n"
        "print('sqlite_utils' in sys.modules, database.db.execute('select 41 + 1').fetchone())\n"
        "database.close()\n"
    )
    assert lines_printed_by(code, tmp_path, str(tmp_path / "bot.sqlite3")) == [
        "False",
        "True (42,)",
    ]


def test_the_device_keywords_compile_on_first_use_not_at_import(tmp_path: Path) -> None:
    code = (
        "import devices.parser as d\n"
        "print(d._keyword_regex.cache_info().currsize)\n"
        "print(d.parse_description('iPhone 13 128G 95新').model is not None)\n"
        "print(d._keyword_regex.cache_info().currsize)\n"
    )
    assert words_printed_by(code, tmp_path) == ["0", "True", "1"]


#: what `import bot.app` leaves to its first use (issue 19 point 5; docs in BENCHMARKS.md)
LOADED_ON_FIRST_USE = (
    "devices.parser",  # the first quote or Xianyu device card
    "difflib",  # the parser's closest models
    "sqlite_utils",  # the first database opened
    "deals.fair_price",  # the first fair price
    "statistics",  # the fair price's median
    "handlers.chart",  # the first chart (matplotlib)
    "bot.webhook",  # WEBHOOK_URL set
    "tornado",  # the same (PTB's own webhook server is never used: bot/ptb.py)
    "bot.check",  # python -m bot check
    "sandbox",  # --demo
    "babel",  # the first localized number or date
)


def test_importing_the_bot_leaves_to_first_use_what_serving_does_not_need(
    tmp_path: Path,
) -> None:
    code = (
        "import sys\n"
        "import bot.app\n"
        f"print([m for m in {LOADED_ON_FIRST_USE!r} if m in sys.modules])\n"
    )
    assert lines_printed_by(code, tmp_path) == ["[]"]


def test_polling_loads_no_tornado_and_the_webhook_server_still_gets_it(tmp_path: Path) -> None:
    """PTB's optional webhook server is left out (as without its `[webhooks]` extra);
    ours (`bot/webhook.py`, tests/test_webhook.py runs it) imports the real tornado."""
    code = (
        "import sys\n"
        "import bot.app\n"
        "import telegram.ext._updater as updater\n"
        "print('tornado' in sys.modules, updater.WEBHOOKS_AVAILABLE)\n"
        "import bot.webhook\n"
        "import tornado.web\n"
        "print(bot.webhook.tornado.web.Application is tornado.web.Application)\n"
    )
    assert lines_printed_by(code, tmp_path) == ["False False", "True"]


def test_importing_the_bot_leaves_the_device_parser_to_the_first_quote(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import bot.app\n"
        "print('devices.parser' in sys.modules, 'difflib' in sys.modules)\n"
        "from devices.records import ParsedDevice\n"
        "device = ParsedDevice(brand='苹果')\n"
        "print(device.missing()[0], 'devices.parser' in sys.modules)\n"
        # the first question's options need the catalogue: now the parser is loaded
        "from handlers.quotes import catalogue\n"
        "print(len(device.options('model', catalogue())) > 10, 'devices.parser' in sys.modules)\n"
    )
    assert lines_printed_by(code, tmp_path) == ["False False", "model False", "True True"]


def test_a_quote_state_naming_the_parser_is_read_without_importing_it(tmp_path: Path) -> None:
    """`ParsedDevice` moved from `devices.parser` (and before that `clients.devices`) to
    `devices.records`: rows written under the old names are read as the new class, and
    restoring them at start-up does not load the parser."""
    code = (
        "import sys\n"
        "from storage import state_json\n"
        "from devices.records import ParsedDevice\n"
        "for module in ('devices.parser', 'clients.devices'):\n"
        "    row = {'$dataclass': module + ':ParsedDevice', 'fields': {'brand': '苹果'}}\n"
        "    print(state_json.decode(row) == ParsedDevice(brand='苹果'))\n"
        "print('devices.parser' in sys.modules)\n"
    )
    assert lines_printed_by(code, tmp_path) == ["True", "True", "False"]

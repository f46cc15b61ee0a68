"""The types hold (issue 20.3): mypy finds no error, strict on the Telegram-free core.

`python -m pytest` runs `python -m mypy` here, as tests/test_layers.py runs `lint-imports`,
so the README's one test command checks the types too. Configuration: `[tool.mypy]` in
pyproject.toml.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "watching", "clients", "storage", "sandbox")
#: the flags `mypy --strict` turns on (mypy 2.4, `mypy --help`)
STRICT_FLAGS = (
    "disallow_any_generics",
    "disallow_subclassing_any",
    "disallow_untyped_calls",
    "disallow_untyped_defs",
    "disallow_incomplete_defs",
    "check_untyped_defs",
    "disallow_untyped_decorators",
    "warn_return_any",
    "no_implicit_reexport",
    "strict_equality",
    "extra_checks",
)
#: an ignore names its error code and says why, after it: `# type: ignore[code]  # why`
EXPLAINED_IGNORE = re.compile(r"# type: ignore\[[-a-z, ]+\]  # \S")


def mypy_config() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        config: dict[str, object] = tomllib.load(fh)["tool"]["mypy"]
    return config


def python_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_mypy_finds_no_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # cold on a busy machine; with its cache a few seconds
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found"), result.stdout


def test_the_telegram_free_core_is_checked_with_every_strict_flag() -> None:
    config = mypy_config()
    assert set(PACKAGES) <= set(config["files"])
    assert config["warn_unused_ignores"] is True and config["warn_redundant_casts"] is True
    assert "ignore-without-code" in config["enable_error_code"]
    overrides = config["overrides"]
    assert isinstance(overrides, list)
    [core] = [o for o in overrides if "watching.*" in o["module"]]
    assert set(core["module"]) == {
        "watching.*",
        "deals.*",
        "storage.*",
        "gateway.*",
        "devices.*",
        "clients.*",
        "clock",
    }
    assert {flag: core.get(flag) for flag in STRICT_FLAGS} == dict.fromkeys(STRICT_FLAGS, True)
    # nothing is switched off wholesale, for any module
    for section in [config, *overrides]:
        assert not section.get("ignore_errors"), section
        assert not section.get("follow_imports") == "skip", section


def test_no_module_silences_mypy_and_every_ignore_says_why() -> None:
    unexplained = []
    for path in python_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            assert "mypy: ignore-errors" not in line and "type: ignore-errors" not in line, where
            if "type: ignore" in line and not EXPLAINED_IGNORE.search(line):
                unexplained.append(where)
    assert unexplained == []


def test_every_handler_and_job_takes_the_bots_context() -> None:
    # handlers/context.py: BotContext = CallbackContext[ExtBot[Lane], dict, dict, BotData]
    untyped = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in python_files()
        if path.parts[len(ROOT.parts)] in ("bot", "handlers")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "ContextTypes.DEFAULT_TYPE" in line or re.search(r"context: CallbackContext\b", line)
    ]
    assert untyped == []

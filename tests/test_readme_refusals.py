"""The README's "What it refuses and how" table names a test in every row, and each exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def refusal_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## What it refuses and how", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][
        1:
    ]


def test_every_row_of_the_refusals_table_names_a_test_that_exists() -> None:
    rows = refusal_rows()
    assert len(rows) >= 20
    for row in rows:
        match = re.search(r"`tests/(\w+)\.py::(\w+)`", row)
        assert match is not None, f"row without a test: {row}"
        module = importlib.import_module(f"tests.{match.group(1)}")
        assert callable(getattr(module, match.group(2), None)), f"no such test: {match.group(0)}"


def test_every_test_docs_assumptions_names_exists() -> None:
    text = (README.parent / "docs" / "assumptions.md").read_text(encoding="utf-8")
    # `tests/x.py::name`, and `::name` after one of them (the same module)
    named = re.findall(r"`(?:tests/(\w+)\.py)?::(\w+)`", text)
    assert len(named) >= 15
    module = None
    for module_name, test in named:
        module = importlib.import_module(f"tests.{module_name}") if module_name else module
        assert module is not None and callable(getattr(module, test, None)), (module_name, test)

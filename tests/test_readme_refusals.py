"""The docs name real tests: docs/refusals.md ("What it refuses and how") names a test in
every row, and every test that README.md or a page of docs/ names exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFUSALS = ROOT / "docs" / "refusals.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def refusal_rows() -> list[str]:
    text = REFUSALS.read_text(encoding="utf-8")
    section = text.split("# What it refuses and how", 1)[1]
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


def test_every_test_the_docs_name_exists() -> None:
    named_in_all = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        # `tests/x.py::name`, and `::name` after one of them (the same module)
        named = re.findall(r"`(?:tests/(\w+)\.py)?::(\w+)`", text)
        module = None
        for module_name, test in named:
            module = importlib.import_module(f"tests.{module_name}") if module_name else module
            if module is None:
                continue  # a `::name` of something that is not a test module
            assert callable(getattr(module, test, None)), (page.name, module_name, test)
            named_in_all += 1
    assert named_in_all >= 100

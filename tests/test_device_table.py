"""The parser over real second-hand listing texts (tests/data/device_texts.jsonl).

Every row names its public source. The score per field is printed by bench/quote.py;
here the goals are held: at least 95 % of the fields right and no guessed value.
"""

from __future__ import annotations

import pytest

from bench.device_table import FIELDS, load_rows, score
from clients.aihuishou import CONDITIONS, FUNCTION_STATUSES, PURCHASE_CHANNELS, REPAIR_HISTORIES
from devices.parser import load_catalogue, parse_description

ROWS = load_rows()


def test_every_row_names_its_source_and_states_platform_values() -> None:
    assert len(ROWS) >= 200
    assert len({row.text for row in ROWS}) == len(ROWS)
    allowed = {
        "condition": set(CONDITIONS),
        "function_status": set(FUNCTION_STATUSES),
        "repair_history": set(REPAIR_HISTORIES),
        "purchase_channel": set(PURCHASE_CHANNELS),
    }
    for row in ROWS:
        assert row.source.strip()
        assert set(row.expected) <= set(FIELDS), row.text
        for name, value in row.expected.items():
            assert value in allowed.get(name, {value}), (row.text, name)


def test_fields_are_read_right_and_nothing_is_guessed() -> None:
    result = score(ROWS, load_catalogue())

    assert result.guesses == []
    assert result.right / result.total >= 0.95


@pytest.mark.parametrize("row", ROWS, ids=[f"row{i}" for i in range(len(ROWS))])
def test_no_row_gets_a_value_it_does_not_state(row) -> None:
    parsed = parse_description(row.text)

    for name in FIELDS:
        got = getattr(parsed, name)
        assert got is None or got == row.expected.get(name), name

"""The table of real second-hand listing texts (`tests/data/device_texts.jsonl`) and its score.

Read by `bench/quote.py` (the score per field) and by `tests/test_device_table.py` (the
goals held); it lives here so the bench imports nothing from `tests/`.

Each row holds a text as a seller wrote it, where it was published (`source`) and the
fields it states in the platform's values (`expected`; a field the text does not state
is left out). A parsed field is *right* when it equals the expected value (both empty
counts), *guessed* when the parser filled it and the row leaves it empty or says
otherwise, *missed* when the row states it and the parser left it empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from devices.parser import Catalogue, parse_description

TABLE_PATH = Path(__file__).resolve().parents[1] / "tests" / "data" / "device_texts.jsonl"
FIELDS = (
    "brand",
    "model",
    "storage",
    "ram",
    "condition",
    "function_status",
    "repair_history",
    "purchase_channel",
)


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    source: str
    expected: dict[str, str]


@dataclass(slots=True)
class FieldScore:
    right: int = 0
    guessed: int = 0
    missed: int = 0

    @property
    def total(self) -> int:
        return self.right + self.guessed + self.missed


@dataclass(slots=True)
class TableScore:
    fields: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in FIELDS})
    #: (row text, field, parsed value, expected value) of every guessed field
    guesses: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    @property
    def right(self) -> int:
        return sum(s.right for s in self.fields.values())

    @property
    def total(self) -> int:
        return sum(s.total for s in self.fields.values())

    @property
    def guessed(self) -> int:
        return sum(s.guessed for s in self.fields.values())


def load_rows(path: Path = TABLE_PATH) -> list[Row]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Row(**json.loads(line)) for line in lines if line.strip()]


def score(rows: list[Row], catalogue: Catalogue | None = None) -> TableScore:
    result = TableScore()
    for row in rows:
        parsed = parse_description(row.text, catalogue)
        for name in FIELDS:
            got, want = getattr(parsed, name), row.expected.get(name)
            tally = result.fields[name]
            if got == want:
                tally.right += 1
            elif got is None:
                tally.missed += 1
            else:
                tally.guessed += 1
                result.guesses.append((row.text, name, got, want))
    return result

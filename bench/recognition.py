"""Recognition cost on hostile messages: does it grow linearly with the message?

    python bench/recognition.py [--runs 5]

For each adversarial shape of tests/test_recognition_cost.py (long words, dotted names,
glued schemes, IDs among links, device words, ...), recognising a message (links, bare
IDs, device descriptions) of 1,024 and of 4,096 characters: the time of each (best of
7 tries per run, median over the runs) and the ratio. Linear work gives about 4x;
the quadratic finder this replaced gave 16x (1.5 s for one 4,096-character message).
Also the Python lines run, counted exactly (the test's deterministic measure).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_recognition_cost import ADVERSARIAL, lines_run, recognise_all, recognition_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'shape':32} {'1,024 ch ms':>12} {'4,096 ch ms':>12} {'time x':>7} {'lines x':>8}")
    worst = 0.0
    for shape, make in ADVERSARIAL.items():
        short_text, long_text = make(1024), make(4096)
        recognition_cost(short_text)  # warm: catalogue loaded, patterns compiled
        short = statistics.median(recognition_cost(short_text) for _ in range(args.runs))
        long = statistics.median(recognition_cost(long_text) for _ in range(args.runs))
        lines = lines_run(recognise_all, long_text) / lines_run(recognise_all, short_text)
        worst = max(worst, long * 1000)
        print(
            f"{shape:32} {short * 1000:12.2f} {long * 1000:12.2f} {long / short:7.2f} {lines:8.2f}"
        )
    print(f"slowest 4,096-character message: {worst:.1f} ms (the old finder: 1,500 ms)")


if __name__ == "__main__":
    main()

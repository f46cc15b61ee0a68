"""The start check's cost (issue 18 point 6): PRAGMA quick_check on a big bot database.

    python bench/integrity.py [--rows 1000000] [--runs 3]

Builds a database with the bot's schema (`storage.database.Database`), 10,000 watched
listings and `--rows` price_history rows in a temporary folder, then times
`Database.integrity_problem()` (`PRAGMA quick_check(1)`) with the file's pages in the
page cache (warm) and evicted with posix_fadvise (cold), and `PRAGMA integrity_check(1)`
warm for comparison. Figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.database import Database

LISTINGS = 10_000


def build(path: Path, rows: int) -> None:
    Database(path).close()
    conn = sqlite3.connect(path)
    now = time.time()
    with conn:
        conn.executemany(
            "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, "
            "price_unit, status, first_seen_at) VALUES (?, 'xianyu', ?, "
            "'iPhone 14 Pro 256G 暗紫色 国行', 'https://www.goofish.com/item?id=1', 'yuan', "
            "'on_sale', ?)",
            [(f"xianyu:{i}", str(i), now) for i in range(LISTINGS)],
        )
        conn.executemany(
            "INSERT INTO price_history (ref_key, price, status, first_observed_at, "
            "last_observed_at) VALUES (?, ?, 'on_sale', ?, ?)",
            (
                (f"xianyu:{i % LISTINGS}", f"{5000 - i % 700}.00", now + i, now + i)
                for i in range(rows)
            ),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def timed(work: Callable[[], object], before: Callable[[], None] = lambda: None) -> float:
    before()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bot.sqlite3"
        build(path, args.rows)
        database = Database(path)
        try:
            assert database.integrity_problem() is None
            warm = [timed(database.integrity_problem) for _ in range(args.runs)]
            cold = [
                timed(database.integrity_problem, lambda: evict(path)) for _ in range(args.runs)
            ]
            full = [
                timed(lambda: database.db.execute("PRAGMA integrity_check(1)").fetchall())
                for _ in range(args.runs)
            ]
        finally:
            database.close()
        size = path.stat().st_size / 1e6
    print(f"{args.rows:,} price_history rows, {LISTINGS:,} listings, {size:.0f} MB")
    print(f"quick_check warm:     {statistics.median(warm):.2f} s")
    print(f"quick_check cold:     {statistics.median(cold):.2f} s")
    print(f"integrity_check warm: {statistics.median(full):.2f} s")


if __name__ == "__main__":
    main()

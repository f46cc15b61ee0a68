"""Start-up benchmark (issue 19 point 5): what importing the bot costs before it can serve.

    python bench/startup.py [--runs 9]

Each run is a fresh interpreter (`python -c ...`, bytecode written by a warm-up run, as
`pip install .` leaves it) that imports one module and prints the import's wall time,
its CPU time (process_time: less swayed by other processes on a shared machine) and the
process's peak RSS (ru_maxrss). Compared:
bare `import telegram` (python-telegram-bot itself, the floor) and `import bot.app` (the
whole bot: handlers, clients, storage, settings). Runs alternate between the two so the
machine's noise falls on both alike; figures are medians. Goals: bot.app <= 2 x telegram
in time and <= 1.3 x in RSS. Also printed: whether numpy or matplotlib was loaded (they
must not be: charts import matplotlib on their first use), and "ready to serve": the
import plus what start-up does next (`bot.services`, opening a database), so what an
import only leaves for later (sqlite-utils, loaded when the database opens) is told
from what it saves.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import resource, sys, time, json\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "{code}\n"
    "d, cpu = time.perf_counter() - t, time.process_time() - c\n"
    "{after}\n"
    "print(json.dumps({{'seconds': d, 'cpu_seconds': cpu, 'rss_mb': resource.getrusage("
    "resource.RUSAGE_SELF).ru_maxrss / 1024, 'numpy': 'numpy' in sys.modules, "
    "'matplotlib': 'matplotlib' in sys.modules, 'modules': len(sys.modules)}}))\n"
)
#: what is timed, by name: the two imports compared, and (to tell what an import merely
#: leaves for later from what it saves) the import plus what start-up does next before
#: it serves: the services' modules and opening the database (sqlite-utils loads there)
CASES = {
    "telegram": ("import telegram", ""),
    "bot.app": ("import bot.app", ""),
    "ready": (
        "import os, tempfile, bot.app, bot.services\n"
        "from storage.database import Database\n"
        "folder = tempfile.mkdtemp()\n"
        "db = Database(os.path.join(folder, 'bench.sqlite3'))",
        "import shutil\ndb.close()\nshutil.rmtree(folder)",
    ),
}


def probe(case: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # as installed (`pip install .` in the Dockerfile compiles every module once): the
    # bytecode is written by the warm-up run and read after, as python-telegram-bot's is
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code, after = CASES[case]
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code, after=after)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {case: [] for case in CASES}
    for module in results:  # warm the file cache and write the bytecode, for both
        probe(module)
    for _ in range(args.runs):
        for module in results:
            results[module].append(probe(module))
    medians = {}
    cpu_medians = {}
    for module, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        medians[module] = (seconds, rss)
        cpu_medians[module] = cpu
        loaded = runs[-1]
        print(
            f"{CASES[module][0].splitlines()[0] if module != 'ready' else 'ready to serve':<24}"
            f" {seconds * 1000:7.0f} ms (CPU {cpu * 1000:4.0f} ms)  {rss:6.1f} MB  "
            f"modules {loaded['modules']:.0f}  numpy {loaded['numpy']}  "
            f"matplotlib {loaded['matplotlib']}"
        )
    (t_s, t_rss), (b_s, b_rss) = medians["telegram"], medians["bot.app"]
    print(
        f"ratio bot.app / telegram: time {b_s / t_s:.2f} x (goal <= 2), "
        f"RSS {b_rss / t_rss:.2f} x (goal <= 1.3), "
        f"CPU {cpu_medians['bot.app'] / cpu_medians['telegram']:.2f} x; "
        f"medians of {args.runs} runs"
    )
    r_s, r_rss = medians["ready"]
    print(
        f"ready to serve (bot.app, bot.services, the database opened) / telegram: time "
        f"{r_s / t_s:.2f} x, RSS {r_rss / t_rss:.2f} x, "
        f"CPU {cpu_medians['ready'] / cpu_medians['telegram']:.2f} x"
    )


if __name__ == "__main__":
    main()

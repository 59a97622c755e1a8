"""Past one machine (issue #14): the four scale figures in one table.

Each part is its own script, run here in a child process (each sets Django up on its own
database, and Spark wants a process of its own):

- `scale_ingest.py`: hourly summaries posted instead of events (feature-hours per second);
- `scale_spark.py`: the PySpark summaries job, rows per second and its distance from the
  engine's own summaries of the same rows;
- `scale_retention.py`: dropping a month's partition of raw events against deleting it;
- `scale_workers.py`: monitoring jobs with 3 worker processes against 1, on Redis.

PostgreSQL (DATABASE_URL) and Redis (CELERY_BROKER_URL) must be up; see each script for its
own options. `--quick` passes each script its small setting, for a run in a few minutes.
The retention goal is about a month of 10 million events dropped from a cold page cache on a
volume without online discard (docs/operations.md, "Figures"): `--events 10000000
--tablespace nodiscard --cold-cache` pass that to `scale_retention.py`; without them it
drops 200,000 events on the default volume with a warm cache, whose ratio says "no".
`--clients N` is passed to `scale_ingest.py` (senders at once, default 2).

Usage: .venv/bin/python bench/scale.py [--quick] [--only ingest,spark,retention,workers]
    [--clients 2] [--events N] [--tablespace NAME] [--cold-cache]
The last line is `RESULT summary_ingest_feature_hours_per_s=<n> spark_rows_per_s=<n>
spark_max_abs_diff=<x> retention_drop_s=<s> retention_delete_s=<s> workers_3_vs_1=<x>`.
Goals: ≥ 20,000 feature-hours/s; Spark ≤ 1e-9 from the engine; dropping ≥ 100x faster than
deleting; 3 workers ≥ 1.6x one.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULT = re.compile(r"^RESULT (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Part:
    name: str
    script: str
    quick: tuple[str, ...]


PARTS = (
    Part("ingest", "scale_ingest.py", ("--quick",)),
    Part("spark", "scale_spark.py", ("--rows", "200000", "--repeat", "1")),
    Part("retention", "scale_retention.py", ("--events", "200000")),
    Part("workers", "scale_workers.py", ("--deployments", "30")),
)

# figure -> its goal, in words
GOALS = {
    "summary_ingest_feature_hours_per_s": ">= 20,000",
    "spark_rows_per_s": "(throughput)",
    "spark_max_abs_diff": "<= 1e-9",
    "retention_drop_s": "drop >= 100x faster than delete",
    "retention_delete_s": "",
    "workers_3_vs_1": ">= 1.6",
}


def parse_result(output: str) -> dict[str, str]:
    """The key=value pairs of a script's last RESULT line."""
    found = RESULT.findall(output)
    if not found:
        return {}
    return dict(pair.split("=", 1) for pair in found[-1].split())


def run_part(
    part: Part, quick: bool, extra: tuple[str, ...] = ()
) -> tuple[dict[str, str], float, str]:
    command = [sys.executable, str(HERE / part.script), *(part.quick if quick else ()), *extra]
    began = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    seconds = time.perf_counter() - began
    output = done.stdout + done.stderr
    figures = parse_result(done.stdout)
    if done.returncode != 0 or not figures:
        tail = "\n".join(output.strip().splitlines()[-15:])
        return {}, seconds, f"{part.script} failed (exit {done.returncode}):\n{tail}"
    return figures, seconds, done.stdout


def met(figures: dict[str, str]) -> dict[str, str]:
    """Whether each goal is met by the figures at hand ("" when a figure is missing)."""
    verdicts: dict[str, str] = {}

    def number(key: str) -> float | None:
        try:
            return float(figures[key])
        except (KeyError, ValueError):
            return None

    ingest, diff = number("summary_ingest_feature_hours_per_s"), number("spark_max_abs_diff")
    drop, delete = number("retention_drop_s"), number("retention_delete_s")
    workers = number("workers_3_vs_1")
    if ingest is not None:
        verdicts["summary_ingest_feature_hours_per_s"] = "yes" if ingest >= 20_000 else "no"
    if diff is not None:
        verdicts["spark_max_abs_diff"] = "yes" if diff <= 1e-9 else "no"
    if drop is not None and delete is not None:
        verdicts["retention_drop_s"] = "yes" if delete >= 100 * drop else "no"
    if workers is not None:
        verdicts["workers_3_vs_1"] = "yes" if workers >= 1.6 else "no"
    return verdicts


def passed_on(part: Part, args: argparse.Namespace) -> tuple[str, ...]:
    """The options of this script that belong to `part`'s script (after its quick ones, so
    they win over them)."""
    if part.name == "ingest" and args.clients is not None:
        return ("--clients", str(args.clients))
    if part.name != "retention":
        return ()
    extra: list[str] = []
    if args.events is not None:
        extra += ["--events", str(args.events)]
    if args.tablespace:
        extra += ["--tablespace", args.tablespace]
    if args.cold_cache:
        extra.append("--cold-cache")
    return tuple(extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each script's small setting")
    parser.add_argument("--only", default="", help="comma-separated parts to run")
    parser.add_argument("--clients", type=int, help="scale_ingest.py: senders at once")
    parser.add_argument("--events", type=int, help="scale_retention.py: events per month")
    parser.add_argument("--tablespace", help="scale_retention.py: the months' tablespace")
    parser.add_argument(
        "--cold-cache", action="store_true", help="scale_retention.py: drop the page cache"
    )
    args = parser.parse_args()
    chosen = {name for name in args.only.split(",") if name} or {p.name for p in PARTS}
    figures: dict[str, str] = {}
    for part in PARTS:
        if part.name not in chosen:
            continue
        found, seconds, output = run_part(part, args.quick, passed_on(part, args))
        print(output if not found else f"{part.name}: done in {seconds:.0f} s", flush=True)
        figures |= found
    verdicts = met(figures)
    print(f"\n{'figure':<38}{'value':>14}  {'goal':<32}{'met':>4}")
    for key, goal in GOALS.items():
        value = figures.get(key, "not run")
        print(f"{key:<38}{value:>14}  {goal:<32}{verdicts.get(key, ''):>4}")
    print("RESULT " + " ".join(f"{key}={figures.get(key, 'nan')}" for key in GOALS))


if __name__ == "__main__":
    main()

"""Back-fill benchmark: one monitoring run over 90 days of late-arriving events on PostgreSQL.

The script migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/backfill_bench, created if missing), registers a model with
a 10-feature schema (7 numeric, 1 integer, 2 categorical), a training dataset of 5,000 rows, a
version trained on it and a production deployment, then (untimed) COPies `--hours` hours of
`--per-hour` events ending at the current hour straight into the event table and marks every
one of those hours stale, as ingestion does for a back-filled batch.

Timed: one `deployment_monitor` run, the monitoring job's body: it claims the stale marks,
builds every hour (summaries and health), computes the current window's drift, the daily
performance of every day touched, the status and the alert rules. Statements are counted
with a `connection.execute_wrapper` (a streamed read counts once; its fetches do not),
plus one for each COPY.

Usage: .venv/bin/python bench/backfill.py [--hours 2160] [--per-hour 1000]
The last line is `RESULT backfill_s=<seconds> backfill_queries=<statements>`. Goal: under 60 s,
and a statement count that does not grow with the number of hours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import time
from typing import Any

import numpy as np
import pandas as pd
from harness import ensure_database, setup_django
from workload import bench_deployment, features

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/backfill_bench"
COPY_ROWS = 200_000


def make_deployment() -> Any:
    training = features(5_000, seed=1)
    training["label"] = np.random.default_rng(2).choice(["0", "1"], size=len(training))
    return bench_deployment("Backfill bench", training)[1]


def copy_events(deployment_id: int, end: dt.datetime, hours: int, per_hour: int) -> int:
    """COPY hours x per_hour events ending at `end` (evenly spread in each hour)."""
    from django.db import connection, transaction

    from monitoring.models import PredictionEvent

    table = PredictionEvent._meta.db_table
    columns = ["deployment_id", "request_id", "timestamp", "features", "prediction_label"]
    columns += ["prediction_score", "latency_ms", "status", "error", "received_at"]
    total = hours * per_hour
    start = end - dt.timedelta(hours=hours)
    step = 3600 / per_hour
    received = end.isoformat()
    for offset in range(0, total, COPY_ROWS):
        n = min(COPY_ROWS, total - offset)
        index = np.arange(offset, offset + n)
        frame = features(n, seed=offset)
        scores = np.random.default_rng(offset + 1).random(n).round(6)
        stamps = pd.Timestamp(start) + pd.to_timedelta(
            (index // per_hour) * 3600 + (index % per_hour) * step, unit="s"
        )
        rows = pd.DataFrame(
            {
                "deployment_id": deployment_id,
                "request_id": [f"b-{i}" for i in index],
                "timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                "features": frame.to_json(orient="records", lines=True).splitlines(),
                "prediction_label": np.where(scores >= 0.5, "1", "0"),
                "prediction_score": scores,
                "latency_ms": np.random.default_rng(offset + 2).gamma(2.0, 10.0, n).round(3),
                "status": "ok",
                "error": "",
                "received_at": received,
            }
        )
        text = rows.to_csv(index=False, header=False)
        with transaction.atomic(), connection.cursor() as cursor:
            options = "FORMAT csv, FORCE_NOT_NULL (error)"
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH ({options})"
            with cursor.copy(sql) as copy:
                copy.write(text)
    return total


def mark_stale(deployment_id: int, end: dt.datetime, hours: int) -> None:
    from monitoring.rollups.staleness import hours_mark_stale

    first = end - dt.timedelta(hours=hours)
    hours_mark_stale(
        deployment_id=deployment_id,
        hours=[first + dt.timedelta(hours=h) for h in range(hours)],
    )


def timed_run(deployment: Any, end: dt.datetime) -> tuple[float, int, dict[str, Any]]:
    from django.db import connection

    from monitoring.rollups.jobs import deployment_monitor

    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    # A COPY does not pass through execute wrappers: count each one here (the cursor class
    # is Django's debug wrapper or the plain one, depending on DEBUG).
    with connection.cursor() as probe:
        wrapper = type(probe)
    original = wrapper.__dict__.get("copy")

    def copy(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal statements
        statements += 1
        return (original or (lambda s, *a, **k: s.cursor.copy(*a, **k)))(self, *args, **kwargs)

    wrapper.copy = copy
    try:
        with connection.execute_wrapper(count):
            started = time.perf_counter()
            result = deployment_monitor(
                deployment=deployment, start=end - dt.timedelta(hours=168), end=end
            )
            elapsed = time.perf_counter() - started
    finally:
        if original is None:
            del wrapper.copy
        else:
            wrapper.copy = original
    return elapsed, statements, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=90 * 24, help="default 2160 (90 days)")
    parser.add_argument("--per-hour", type=int, default=1_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/backfill.py measures PostgreSQL: DATABASE_URL must be postgres://")
    ensure_database(url)
    setup_django(url, "bench-backfill")
    from django.utils import timezone

    from monitoring.models import DailyPerformance, HourlyHealth, HourlySummary
    from monitoring.rollups.hourly import floor_hour

    deployment = make_deployment()
    end = floor_hour(timezone.now())
    started = time.perf_counter()
    events = copy_events(deployment.pk, end, args.hours, args.per_hour)
    mark_stale(deployment.pk, end, args.hours)
    setup_s = time.perf_counter() - started
    elapsed, statements, result = timed_run(deployment, end)
    health = HourlyHealth.objects.filter(deployment=deployment).count()
    summaries = HourlySummary.objects.filter(deployment=deployment).count()
    days = DailyPerformance.objects.filter(deployment=deployment).count()
    if health != args.hours:
        raise SystemExit(f"built {health} hours of {args.hours}")
    out = io.StringIO()
    out.write(f"events copied (untimed)      {events:>12,} in {setup_s:.1f} s\n")
    out.write(f"hours built                  {result['hours_built']:>12,}\n")
    out.write(f"hourly health rows           {health:>12,}\n")
    out.write(f"hourly summary rows          {summaries:>12,}\n")
    out.write(f"daily performance rows       {days:>12,}\n")
    out.write(f"drift rows (current window)  {result['features']:>12,}\n")
    out.write(f"monitoring run               {elapsed:>12.2f} s, {statements} statements\n")
    print(out.getvalue(), end="")
    print(f"RESULT backfill_s={elapsed:.1f} backfill_queries={statements}")


if __name__ == "__main__":
    main()

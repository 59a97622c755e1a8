"""Retention benchmark: removing a month of raw prediction events by dropping its partition
against deleting its rows, on PostgreSQL.

The script migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/retention_bench, created if missing; the tables are
partitioned by month there, migration 0015), makes one deployment, then, one past month at a
time (so the disk holds one month at most), gives the month its partition and fills it
(untimed) with `events` prediction events generated in the database (`generate_series`:
request ids, timestamps spread over the month, three features as JSON, label, score,
latency). Timed, each in its own committed transaction:

- `retention_delete_s`: `DELETE` of the first month's rows through the parent table, what a
  plain table would need (the space still waits for VACUUM afterwards, not counted);
- `retention_drop_s`: `monitoring.retention.partitions.partition_drop` of the second month
  (after a CHECKPOINT, so the load's dirty pages are not counted), what `raw_retention` does
  for a verified month;
- `VACUUM` after the delete (reported): what a delete leaves before the space is reusable;
- `verify_s` (reported, not part of the goal): the verification's grouped count of a month's
  events per (deployment, hour), which runs before either.

`--tablespace NAME` puts the months' partitions in an existing tablespace: the drop's time is
the filesystem freeing the partition's files, so it depends on the volume (this machine's root
filesystem is ext4 mounted with online `discard`, which trims every freed extent as the file
goes; docs/operations.md has both figures and how the second volume was made).

`--cold-cache` (root only) starts each timed step as a month past retention would be found:
not in the operating system's page cache (CHECKPOINT, sync, then `vm.drop_caches`), before the
delete and before the verification that precedes the drop (so what the verification reads is
warm again, as in `raw_retention`). Without it both steps find the month just written, in the
page cache, and freeing a file's cached pages is part of the drop's time.

Usage: .venv/bin/python bench/scale_retention.py [--events 200000] [--tablespace NAME]
    [--cold-cache]
The last line is `RESULT retention_drop_s=<s> retention_delete_s=<s>`. Goal: with
`--events 10000000` (a month of 10 million events; docs/operations.md has the figures of
that run) the drop at least 100 times faster than the delete.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from typing import Any

from harness import ensure_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/retention_bench"
FIRST_MONTH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
SECOND_MONTH = dt.datetime(2020, 2, 1, tzinfo=dt.UTC)


def _deployment() -> Any:
    from tests import factories

    return factories.deployment()


def _fill(table: str, month: dt.datetime, deployment_id: int, events: int, tag: str) -> float:
    """Give `month` its partition and `events` rows; returns the seconds it took."""
    from django.db import connection, transaction

    from monitoring.retention import partitions

    began = time.perf_counter()
    seconds = (partitions.month_after(month) - month).total_seconds()
    with transaction.atomic():
        partitions.lock_exclusive()
        if month not in partitions.partition_months(table):
            # The session's default_tablespace (--tablespace) places the month's partition and
            # its indexes: the parent table names none.
            partitions.partition_create(table, month)
        with connection.cursor() as cursor:
            # Set-up only: skip the per-row foreign-key triggers (one deployment, known to exist).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                f"INSERT INTO {table} (deployment_id, request_id, timestamp, features, "  # noqa: S608
                "prediction_label, prediction_score, latency_ms, status, error, received_at) "
                "SELECT %s, %s || g, %s + make_interval(secs => (g - 1) * %s / %s), "
                "jsonb_build_object('age', 20 + g %% 50, 'income', 1000.0 * (g %% 97), "
                "'region', (ARRAY['north', 'south', 'east'])[1 + g %% 3]), "
                "(g %% 2)::text, (g %% 100) / 100.0, 5 + g %% 40, 'ok', '', now() "
                "FROM generate_series(1, %s) AS g",
                [deployment_id, f"{tag}-", month, seconds, events, events],
            )
    with connection.cursor() as cursor:
        # What autovacuum does to a month of inserts long before retention reaches it: the
        # statistics, and the visibility map that lets the verification read the index alone.
        cursor.execute(f"VACUUM (ANALYZE) {partitions.partition_name(table, month)}")
        cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - began


def _timed(action: Any) -> float:
    from django.db import transaction

    began = time.perf_counter()
    with transaction.atomic():
        action()
    return time.perf_counter() - began


DROP_CACHES = "/proc/sys/vm/drop_caches"


def _cool() -> None:
    """Write the database's dirty pages, then empty the OS page cache (root only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    os.sync()
    with open(DROP_CACHES, "w") as caches:
        caches.write("1\n")


def measure(
    events: int = 200_000, tablespace: str | None = None, cold: bool = False
) -> dict[str, float]:
    """Seconds to delete one month of `events` events and to drop another's partition, the
    months' partitions in `tablespace` when given (it must exist), each step from a cold page
    cache with `cold`."""
    from django.db import connection

    from monitoring.models import PredictionEvent
    from monitoring.retention import partitions, services

    if tablespace:
        with connection.cursor() as cursor:
            cursor.execute(f'SET default_tablespace = "{tablespace}"')
    table = PredictionEvent._meta.db_table
    if not partitions.is_partitioned(table):
        raise SystemExit("the prediction table is not partitioned: is this PostgreSQL?")
    for month in (FIRST_MONTH, SECOND_MONTH):  # a previous run's leftovers
        if month in partitions.partition_months(table):
            partitions.partition_drop(table, month)
    deployment = _deployment()
    # One month at a time, so the disk holds one month of events at most.
    load_s = _fill(table, FIRST_MONTH, deployment.pk, events, "a")

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM {table} WHERE "timestamp" >= %s AND "timestamp" < %s',  # noqa: S608
                [FIRST_MONTH, partitions.month_after(FIRST_MONTH)],
            )

    if cold:
        _cool()
    delete_s = _timed(delete)
    # What a DELETE leaves to do before the space is reusable (not in retention_delete_s).
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {partitions.partition_name(table, FIRST_MONTH)}")
    vacuum_s = time.perf_counter() - began
    partitions.partition_drop(table, FIRST_MONTH)  # the emptied partition, not timed
    load_s += _fill(table, SECOND_MONTH, deployment.pk, events, "b")
    if cold:
        _cool()
    else:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")  # the load's dirty pages are not the drop's cost
    verify_s = _timed(
        lambda: services.event_hour_counts(SECOND_MONTH, partitions.month_after(SECOND_MONTH))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(%s)", [partitions.partition_name(table, SECOND_MONTH)]
        )
        size_mb = cursor.fetchone()[0] / 2**20
    drop_s = _timed(lambda: partitions.partition_drop(table, SECOND_MONTH))
    return {
        "events": float(events),
        "load_s": load_s,
        "verify_s": verify_s,
        "vacuum_after_delete_s": vacuum_s,
        "month_mb": size_mb,
        "retention_delete_s": delete_s,
        "retention_drop_s": drop_s,
        "speedup": delete_s / drop_s if drop_s else float("inf"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per month")
    parser.add_argument(
        "--tablespace",
        help="put the months' partitions in this existing tablespace (e.g. one on a volume "
        "mounted without online discard; docs/operations.md)",
    )
    parser.add_argument(
        "--cold-cache",
        action="store_true",
        help="empty the OS page cache before each timed step (needs root)",
    )
    args = parser.parse_args()
    if args.cold_cache and not os.access(DROP_CACHES, os.W_OK):
        parser.error(f"--cold-cache needs to write {DROP_CACHES} (run as root)")
    if args.tablespace and not args.tablespace.replace("_", "").isalnum():
        parser.error("--tablespace must be a plain name (letters, digits, underscores)")
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(url, "retention_bench")
    figures = measure(events=args.events, tablespace=args.tablespace, cold=args.cold_cache)
    print(f"{'step':<34}{'seconds':>12}")
    rows = [
        ("load 2 months (untimed set-up)", figures["load_s"]),
        ("verify a month (grouped count)", figures["verify_s"]),
        ("DELETE a month", figures["retention_delete_s"]),
        ("  then VACUUM (space reusable)", figures["vacuum_after_delete_s"]),
        ("DROP a month's partition", figures["retention_drop_s"]),
    ]
    for name, seconds in rows:
        print(f"{name:<34}{seconds:>12.4f}")
    print(
        f"{args.events:,} events a month ({figures['month_mb']:,.0f} MB with indexes); "
        f"drop {figures['speedup']:,.0f}x faster than delete"
    )
    print(
        f"RESULT retention_drop_s={figures['retention_drop_s']:.4f} "
        f"retention_delete_s={figures['retention_delete_s']:.3f}"
    )


if __name__ == "__main__":
    main()

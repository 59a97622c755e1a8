"""Monthly partitions of the raw-event tables on PostgreSQL (migration 0015 made the tables
partitioned): month arithmetic, which partitions exist, creating them ahead and dropping one.

A partition is named `<table>_pYYYYMM` and holds [first of month, first of next month) UTC;
`<table>_default` catches rows no partition covers. Creating a month that the default
partition already holds rows of moves those rows into it first (PostgreSQL refuses otherwise).
Every DDL here runs under RAW_TABLES_LOCK taken exclusively; a batch being ingested holds it
shared, so partitions never change under a batch.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, models, transaction
from django.utils import timezone

from monitoring.models import GroundTruth, PredictionEvent, RawTable

MONTHS_AHEAD = 2
# pg_advisory_xact_lock key shared by ingestion (shared) and partition changes (exclusive).
RAW_TABLES_LOCK = 0x5354_4557_5241_5700
MODELS: dict[str, type[models.Model]] = {
    RawTable.PREDICTIONS: PredictionEvent,
    RawTable.GROUND_TRUTH: GroundTruth,
}


def month_floor(moment: dt.datetime) -> dt.datetime:
    """The first instant of the UTC month holding `moment`."""
    utc = moment.astimezone(dt.UTC)
    return utc.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_after(month: dt.datetime) -> dt.datetime:
    return month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)


def months_from(first: dt.datetime, count: int) -> list[dt.datetime]:
    out = [month_floor(first)]
    while len(out) < count:
        out.append(month_after(out[-1]))
    return out


def partition_name(table: str, month: dt.datetime) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def lock_exclusive() -> None:
    """Hold the raw tables' lock until the transaction ends (PostgreSQL; no-op elsewhere)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RAW_TABLES_LOCK])


def lock_shared() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [RAW_TABLES_LOCK])


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table]
        )
        return cursor.fetchone() is not None


def partition_months(table: str) -> list[dt.datetime]:
    """The months that have their own partition, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        names = [row[0] for row in cursor.fetchall()]
    prefix = f"{table}_p"
    return sorted(
        dt.datetime.strptime(name[len(prefix) :], "%Y%m").replace(tzinfo=dt.UTC)
        for name in names
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    )


def default_months(table: str) -> list[dt.datetime]:
    """The months of the rows the default partition holds, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', \"timestamp\" AT TIME ZONE 'UTC') "  # noqa: S608
            f"FROM {_q(default_name(table))} ORDER BY 1"
        )
        return [row[0].replace(tzinfo=dt.UTC) for row in cursor.fetchall()]


def partition_create(table: str, month: dt.datetime) -> None:
    """Give `month` its own partition, moving in any rows of it the default partition holds.
    Call under `lock_exclusive()` in a transaction. The DDL needs the table's owner: it runs in
    the owner-defined `steward_raw_partition` function (migration 0015), which the runtime role
    may execute."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT steward_raw_partition('create', %s, %s)", [table, month])


def partition_drop(table: str, month: dt.datetime) -> None:
    """Drop the month's partition: its rows go at once, whatever their number."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT steward_raw_partition('drop', %s, %s)", [table, month])


def partitions_ensure(
    *, now: dt.datetime | None = None, ahead: int = MONTHS_AHEAD, floor: dict[str, dt.datetime]
) -> dict[str, list[str]]:
    """Create the partitions of this month and the next `ahead` months, and of every month the
    default partition holds rows of (not before `floor[table]`, the retention horizon, whose
    months are gone for good). Returns the partitions created per table."""
    created: dict[str, list[str]] = {}
    if connection.vendor != "postgresql":
        return created
    wanted_ahead = months_from(now or timezone.now(), ahead + 1)
    with transaction.atomic():
        lock_exclusive()
        for key, model in MODELS.items():
            table = model._meta.db_table
            if not is_partitioned(table):
                continue
            have = set(partition_months(table))
            lowest = floor.get(key)
            wanted = set(wanted_ahead) | set(default_months(table))
            todo = sorted(m for m in wanted - have if lowest is None or m >= lowest)
            for month in todo:
                partition_create(table, month)
            created[key] = [partition_name(table, month) for month in todo]
    return created

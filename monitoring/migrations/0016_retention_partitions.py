"""Raw events partitioned by month on PostgreSQL, and the retention horizon.

On PostgreSQL the prediction-event and ground-truth tables become declaratively partitioned by
RANGE of "timestamp", one partition per UTC month that holds rows, the current month and the
next two, plus a DEFAULT partition (docs/operations.md, "Raw-event retention"). The rows are
copied into the new table, the names swapped and every constraint and index recreated under
its old name; the primary key and unique constraints gain "timestamp", which PostgreSQL
requires of a partitioned table's keys. Django's model state does not change: it still
describes the plain table, which SQLite keeps. Self-contained on purpose: a migration must not
follow later changes of the app's code.
"""

import re

from django.db import migrations, models

TABLES = ("monitoring_predictionevent", "monitoring_groundtruth")
KEY = '"timestamp"'
MONTHS_AHEAD = 2
KEYED = re.compile(r"^(PRIMARY KEY|UNIQUE) \((?P<columns>[^)]*)\)")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _with_key(definition: str) -> str:
    """A primary-key or unique definition with the partition key appended to its columns."""
    match = KEYED.match(definition)
    if match is None or "timestamp" in match["columns"]:
        return definition
    return f"{definition[: match.end('columns')]}, {KEY}{definition[match.end('columns') :]}"


def _without_key(definition: str) -> str:
    return definition.replace(f", {KEY})", ")", 1) if KEYED.match(definition) else definition


def _constraints(cursor, table: str) -> list[tuple[str, str, str]]:
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f', 'c') "
        "ORDER BY contype = 'p' DESC, conname",
        [table],
    )
    return list(cursor.fetchall())


def _plain_indexes(cursor, table: str) -> list[str]:
    """CREATE statements of the table's indexes that back no constraint."""
    cursor.execute(
        "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY x.indexrelid",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _swap(cursor, table: str, *, partitioned: bool) -> None:
    """Copy `table` into a new table of the same columns (partitioned or plain), drop the old
    one and recreate its constraints and indexes under their names."""
    constraints = _constraints(cursor, table)
    indexes = _plain_indexes(cursor, table)
    old = f"{table}__old"
    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    tail = f" PARTITION BY RANGE ({KEY})" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
        f"INCLUDING STORAGE INCLUDING COMMENTS){tail}"
    )
    if partitioned:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', {KEY} AT TIME ZONE 'UTC') FROM {_q(old)} "
            "UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') "
            f"+ make_interval(months => n) FROM generate_series(0, {MONTHS_AHEAD}) AS n "
            "ORDER BY 1"
        )
        for (month,) in cursor.fetchall():
            nxt = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
            cursor.execute(
                f"CREATE TABLE {_q(f'{table}_p{month:%Y%m}')} PARTITION OF {_q(table)} "
                "FOR VALUES FROM (%s) TO (%s)",
                [f"{month:%Y-%m-%d} 00:00:00+00", f"{nxt:%Y-%m-%d} 00:00:00+00"],
            )
        cursor.execute(f"CREATE TABLE {_q(table + '_default')} PARTITION OF {_q(table)} DEFAULT")
    cursor.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(old)}")  # noqa: S608
    cursor.execute(f"DROP TABLE {_q(old)}")
    for name, _kind, definition in constraints:
        changed = _with_key(definition) if partitioned else _without_key(definition)
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {changed}")
    for statement in indexes:
        cursor.execute(statement)
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(MAX(id), 0) + 1, false) "
        f"FROM {_q(table)}",  # noqa: S608
        [table],
    )


def _is_partitioned(cursor, table: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table]
    )
    return cursor.fetchone() is not None


# Creating and dropping a month's partition needs the tables' owner, and the application runs
# as steward_runtime (docs/audit.md, "Least privilege"): this owner-defined function does the
# two operations, on the two raw tables only, for the role granted EXECUTE by
# governance/audit/sql/runtime_role.sql. "create" moves the month's rows out of the default
# partition first (PostgreSQL refuses to attach a range the default holds rows of).
PARTITION_FUNCTION = """
CREATE OR REPLACE FUNCTION steward_raw_partition(action text, tbl text, month timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    part text := tbl || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
    upper_bound timestamptz := ((month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
BEGIN
    IF tbl NOT IN ('monitoring_predictionevent', 'monitoring_groundtruth') THEN
        RAISE EXCEPTION 'not a raw-event table: %', tbl;
    END IF;
    IF date_trunc('month', month AT TIME ZONE 'UTC') <> month AT TIME ZONE 'UTC' THEN
        RAISE EXCEPTION 'not the first instant of a UTC month: %', month;
    END IF;
    IF action = 'create' THEN
        EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', tbl || '_default');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', part, tbl);
        EXECUTE format(
            'WITH moved AS (DELETE FROM %I WHERE "timestamp" >= $1 AND "timestamp" < $2 '
            'RETURNING *) INSERT INTO %I SELECT * FROM moved', tbl || '_default', part
        ) USING month, upper_bound;
        EXECUTE format(
            'ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
            tbl, part, month, upper_bound
        );
    ELSIF action = 'drop' THEN
        EXECUTE format('DROP TABLE %I', part);
    ELSE
        RAISE EXCEPTION 'unknown action: %', action;
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION steward_raw_partition(text, text, timestamptz) FROM PUBLIC;
"""


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            if not _is_partitioned(cursor, table):
                _swap(cursor, table, partitioned=True)
        cursor.execute(PARTITION_FUNCTION)


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION IF EXISTS steward_raw_partition(text, text, timestamptz)")
        for table in TABLES:
            if _is_partitioned(cursor, table):
                _swap(cursor, table, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0015_ingest_posted_summaries'),
    ]

    operations = [
        migrations.CreateModel(
            name='RetentionHorizon',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('table', models.CharField(choices=[('predictions', 'Prediction events'), ('ground_truth', 'Ground truth')], max_length=20, unique=True)),
                ('dropped_before', models.DateTimeField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(partition, unpartition),
    ]

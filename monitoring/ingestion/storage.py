"""Write validated frames into the event tables, skipping (deployment, request_id) pairs that
are already stored. Returns how many rows were inserted.

Two paths, chosen by the database vendor:
- PostgreSQL: the frame is written as CSV by Arrow in one call. The tables are partitioned by
  month there, so their unique key is (deployment, request_id, timestamp) and cannot see a
  request id stored in another partition: one indexed look-up of the batch's ids across the
  partitions comes first. When none is stored (the usual case) the CSV is COPied straight into
  the table inside a savepoint. Otherwise, or when a concurrent batch makes the COPY hit the
  key, the same CSV is COPied into a temporary table, then `INSERT ... SELECT ... WHERE NOT
  EXISTS (the pair in any partition) ON CONFLICT DO NOTHING`, whose row count is the number
  inserted. Two concurrent batches carrying one request id with different timestamps could
  both store it (the only gap partitioning opens; a resend carries the event's own timestamp
  and is caught by the key).
- Any other database (SQLite): the stored request ids of the batch are read first, the rest
  go through `bulk_create(ignore_conflicts=True)`. SQLite serialises writers (BEGIN
  IMMEDIATE), so the count is exact there too.
Both run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from django.db import IntegrityError, connection, models, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from psycopg.errors import UniqueViolation
from pyarrow import csv as pa_csv

from monitoring.models import DeploymentActivity

# Columns whose empty CSV field means "" rather than NULL in COPY.
_NOT_NULL_TEXT = ("request_id", "status", "error")
_LOOKUP_CHUNK = 900  # SQLite's limit on bound variables is 999 in older builds


def store_frame(*, model: type[models.Model], deployment_id: int, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    if connection.vendor == "postgresql":
        return _copy_insert(model=model, deployment_id=deployment_id, frame=frame)
    return _orm_insert(model=model, deployment_id=deployment_id, frame=frame)


def _csv(frame: pd.DataFrame) -> bytes:
    """The frame as CSV for COPY, written by Arrow's C++ writer (several times faster than
    pandas' to_csv). Strings are always quoted and nulls left empty, so COPY tells "" from
    NULL; timestamps come out as ISO 8601 with a Z, booleans as true/false."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    out = io.BytesIO()
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(include_header=False))
    return out.getvalue()


def _copy_insert(*, model: type[models.Model], deployment_id: int, frame: pd.DataFrame) -> int:
    """COPY the batch straight into the table inside a savepoint: new request ids (the usual
    case) cost one COPY. If any is already stored, the unique constraint refuses the COPY,
    the savepoint rolls it back, and the batch goes through a temporary table instead."""
    frame = frame.assign(deployment_id=deployment_id, received_at=timezone.now())
    text = _csv(frame)
    if _any_stored(model, deployment_id, frame["request_id"].tolist()):
        return _copy_via_temp_table(model=model, columns=list(frame.columns), text=text)
    try:
        with transaction.atomic():
            _copy(model._meta.db_table, list(frame.columns), text)
        return len(frame)
    except (IntegrityError, UniqueViolation):
        return _copy_via_temp_table(model=model, columns=list(frame.columns), text=text)


def _any_stored(model: type[models.Model], deployment_id: int, ids: list[str]) -> bool:
    """Whether any of the request ids is stored for the deployment, in any partition (one
    index probe per id and partition, on the key's (deployment_id, request_id) prefix)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE deployment_id = %s "  # noqa: S608
            "AND request_id = ANY(%s) LIMIT 1",
            [deployment_id, ids],
        )
        return cursor.fetchone() is not None


def _copy(table: str, columns: list[str], text: bytes) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    not_null = ", ".join(c for c in _NOT_NULL_TEXT if c in columns)
    force = f", FORCE_NOT_NULL ({not_null})" if not_null else ""
    sql = f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN WITH (FORMAT csv{force})"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(text)


def _copy_via_temp_table(*, model: type[models.Model], columns: list[str], text: bytes) -> int:
    """COPY into a temporary table, then INSERT ... SELECT the pairs stored in no partition
    ... ON CONFLICT DO NOTHING; the statement's row count is the number inserted."""
    table = connection.ops.quote_name(model._meta.db_table)
    temp = f"ingest_{uuid.uuid4().hex[:16]}"
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    # Identifiers come from the model's meta and the validated frame, never from the client.
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {quoted} FROM {table} WITH NO DATA"
        )
        _copy(temp, columns, text)
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {temp} AS fresh "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS stored "
            "WHERE stored.deployment_id = fresh.deployment_id "
            "AND stored.request_id = fresh.request_id) ON CONFLICT DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"DROP TABLE {temp}")
    return inserted


def _stored_ids(model: type[models.Model], deployment_id: int, ids: np.ndarray) -> set[str]:
    stored: set[str] = set()
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = list(ids[start : start + _LOOKUP_CHUNK])
        rows = model._default_manager.filter(deployment_id=deployment_id, request_id__in=chunk)
        stored.update(rows.values_list("request_id", flat=True))
    return stored


def _records(frame: pd.DataFrame) -> Iterator[dict[str, object]]:
    plain = frame.astype(object).where(frame.notna(), None)
    for name in ("features", "prediction_scores"):
        if name in plain.columns:
            plain[name] = [None if text is None else json.loads(text) for text in plain[name]]
    return iter(plain.to_dict("records"))


def _orm_insert(*, model: type[models.Model], deployment_id: int, frame: pd.DataFrame) -> int:
    stored = _stored_ids(model, deployment_id, frame["request_id"].to_numpy())
    fresh = frame[~frame["request_id"].isin(stored)]
    if "timestamp" in fresh.columns:
        fresh = fresh.assign(timestamp=fresh["timestamp"].dt.to_pydatetime())
    rows = [model(deployment_id=deployment_id, **record) for record in _records(fresh)]
    model._default_manager.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def activity_add(*, deployment_id: int, added: int, timestamps: pd.Series) -> None:
    """Add `added` stored predictions to the deployment's running totals and widen its first /
    last prediction times to the batch's (one statement; concurrent batches add up)."""
    activity_widen(
        deployment_id=deployment_id,
        added=added,
        first=timestamps.min().to_pydatetime(),
        last=timestamps.max().to_pydatetime(),
    )


def activity_widen(
    *, deployment_id: int, added: int, first: dt.datetime, last: dt.datetime
) -> None:
    """`activity_add` for a batch whose first and last prediction times are known."""
    earliest = Value(first, output_field=DateTimeField())
    latest = Value(last, output_field=DateTimeField())
    DeploymentActivity.objects.get_or_create(deployment_id=deployment_id)
    DeploymentActivity.objects.filter(deployment_id=deployment_id).update(
        predictions=F("predictions") + added,
        first_prediction_at=Least(Coalesce(F("first_prediction_at"), earliest), earliest),
        last_prediction_at=Greatest(Coalesce(F("last_prediction_at"), latest), latest),
    )

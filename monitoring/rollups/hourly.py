"""Hourly rollups: each hour's events become one summary per feature and one health row.

Events are read in one query per call (`values_list`) into a pandas frame; the engines do the
arithmetic. Rows are written with `update_or_create` on their key, so a rebuild replaces
what was there: building the same hours twice leaves the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import orjson
import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast, TruncHour
from django.utils import timezone
from steward_client.health import (
    empty_health,
    health_contribution,
    health_figures,
    merge_health,
)
from steward_client.summaries import (
    CategoricalLayout,
    Layout,
    NumericLayout,
    Summary,
    canonical_json,
    categorical_summaries,
    merge,
    summarize,
)

from monitoring.engines.health import HOURLY_FIELDS
from monitoring.models import EventStatus, HourlyHealth, HourlySummary, PredictionEvent
from monitoring.rollups.posted import PostedHour, posted_counts, posted_hours
from monitoring.rollups.profiles import (
    PREDICTION_FEATURE,
    profile_layouts,
    reference_profile_get_or_build,
)
from registry.models import Deployment

HOUR = dt.timedelta(hours=1)
# Events fetched per round trip of the streamed read, and summary rows kept before an insert.
READ_CHUNK = 20_000
FLUSH_ROWS = 5_000
TEXT_COLUMN = {"features": "features_text"}
# Runs of consecutive hours read by one query (SQLite limits an expression's depth).
RANGES_PER_QUERY = 200
EVENT_COLUMNS = (
    "request_id",
    "timestamp",
    "features",
    "prediction_label",
    "prediction_score",
    "latency_ms",
    "status",
    "cache_hit",
    "cpu",
    "memory",
)


def floor_hour(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour holding `moment`."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def events_frame(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, *, latest: int | None = None
) -> pd.DataFrame:
    """The deployment's events in [start, end) as a frame with an `hour` column; with `latest`,
    only the newest that many (read backwards along the (deployment, time) index)."""
    rows = PredictionEvent.objects.filter(
        deployment=deployment, timestamp__gte=start, timestamp__lt=end
    ).values_list(*EVENT_COLUMNS)
    if latest is not None:
        rows = rows.order_by("-timestamp")[:latest]
    return rows_frame(list(rows))


def _loads(text: str | None) -> Any:
    if text is None:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. an integer wider than 64 bits: the slow parser
        return json.loads(text)


def rows_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """Event tuples (`EVENT_COLUMNS`) as a frame with an `hour` column."""
    frame = pd.DataFrame.from_records(rows, columns=list(EVENT_COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["hour"] = frame["timestamp"].dt.floor("h")
    return frame


def feature_frame(
    frame: pd.DataFrame, names: list[str], *, numeric_prediction: bool = False
) -> pd.DataFrame:
    """One column per feature name (all missing when no event sent it), row-aligned. The
    prediction pseudo-feature takes the events' score (regression) or label."""
    features = pd.DataFrame.from_records(frame["features"].tolist(), index=frame.index)
    features = features.reindex(columns=names)
    if PREDICTION_FEATURE in names:
        source = "prediction_score" if numeric_prediction else "prediction_label"
        features[PREDICTION_FEATURE] = frame[source]
    return features


def row_keys(frame: pd.DataFrame) -> np.ndarray:
    """One uint64 per event from its request id: the same rows enter every feature's bounded
    sample, and a window's merged sample equals the sample of its events taken at once."""
    return pd.util.hash_pandas_object(frame["request_id"], index=False).to_numpy()


def health_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The per-event arrays the health figures are made of, for a frame of events: converted
    once per chunk, then sliced per hour (`health_of`)."""
    cache = frame["cache_hit"]
    return {
        "timestamps": frame["timestamp"].dt.tz_localize(None).to_numpy(),
        "latency": pd.to_numeric(frame["latency_ms"], errors="coerce").to_numpy(dtype=np.float64),
        "errors": (frame["status"] == EventStatus.ERROR).to_numpy(dtype=bool),
        "cpu": pd.to_numeric(frame["cpu"], errors="coerce").to_numpy(dtype=np.float64),
        "memory": pd.to_numeric(frame["memory"], errors="coerce").to_numpy(dtype=np.float64),
        "cache_hit": cache.eq(True).to_numpy(dtype=bool),
        "cache_reported": cache.notna().to_numpy(dtype=bool),
        "cache": cache.to_numpy(dtype=object),
    }


def health_part(arrays: dict[str, np.ndarray], start: int, end: int) -> dict[str, Any]:
    """The mergeable health contribution (`steward_client.health`) of the events at positions
    [start, end) of `arrays`: what a client posting summaries sends for the same events."""
    return health_contribution(
        count=end - start,
        errors=arrays["errors"][start:end],
        latency_ms=arrays["latency"][start:end],
        cache_hit=arrays["cache"][start:end],
        cpu=arrays["cpu"][start:end],
        memory=arrays["memory"][start:end],
    )


def health_of(arrays: dict[str, np.ndarray], start: int, end: int) -> dict[str, Any]:
    """The health row's figures for the events at positions [start, end) of `arrays`: counts
    and means exact, latency percentiles from the mergeable sketch (`steward_client.health`,
    within its relative error of numpy's linear quantiles)."""
    return health_figures(health_part(arrays, start, end))


def health_numbers(part: pd.DataFrame) -> dict[str, Any]:
    """The health row's figures for one hour's events."""
    return health_of(health_arrays(part), 0, len(part))


def _hour_rows(
    deployment: Deployment,
    hour: dt.datetime,
    values: dict[str, np.ndarray],
    keys: np.ndarray,
    layouts: dict[str, Layout],
    profile_digest: str,
    health: dict[str, Any],
    built: dict[str, Summary] | None = None,
    posted: PostedHour | None = None,
) -> tuple[list[HourlySummary], HourlyHealth]:
    """One hour's summary rows (one per feature, from its values or already `built`, merged
    with the hour's `posted` summaries) and health row (from the events' health
    contribution, merged with the posted one), not yet saved."""
    if posted is not None:
        health = merge_health(health, posted.health) if health["count"] else posted.health
    figures = health_figures(health)
    summaries = []
    for name, layout in layouts.items():
        if posted is not None and not len(keys):
            summary = posted.features[name]
        else:
            summary = (built or {}).get(name) or summarize(values[name], layout, row_keys=keys)
            if posted is not None:
                summary = merge(summary, posted.features[name])
        data = summary.to_dict()
        # The canonical JSON is the digest's input (`Summary.digest`) and, on PostgreSQL, the
        # text the COPY writer stores: serialised once.
        text = canonical_json(data)
        row = HourlySummary(
            deployment=deployment,
            feature=name,
            hour=hour,
            summary=data,
            row_count=figures["count"],
            digest=hashlib.sha256(text.encode()).hexdigest(),
            profile_digest=profile_digest,
        )
        row.summary_text = text  # type: ignore[attr-defined]
        summaries.append(row)
    return summaries, HourlyHealth(
        deployment=deployment, hour=hour, profile_digest=profile_digest, **figures
    )


@transaction.atomic
def summaries_build(deployment: Deployment, hour_start: dt.datetime, hour_end: dt.datetime) -> int:
    """Summarise every hour in [hour_start, hour_end) that holds events or posted summaries,
    on the layouts of the deployment's version's reference profile, replacing those hours'
    rows (`hours_build`). Returns the number of hours written."""
    start, end = floor_hour(hour_start), hour_end
    profile = reference_profile_get_or_build(deployment.version)
    hours = {hour for hour, _ in event_counts(deployment, start, end)}
    hours |= set(posted_counts(deployment, start, end, profile.digest))
    return hours_build(deployment, sorted(hours))


class _Writer:
    """Collects built rows and inserts them in bulk every `flush_rows` summaries, so memory
    stays bounded and the number of statements follows the rows written, not the hours."""

    def __init__(self, flush_rows: int) -> None:
        self.flush_rows = flush_rows
        self.summaries: list[HourlySummary] = []
        self.healths: list[HourlyHealth] = []
        self.hours = 0

    def add(self, summaries: list[HourlySummary], health: HourlyHealth) -> None:
        self.summaries.extend(summaries)
        self.healths.append(health)
        self.hours += 1
        if len(self.summaries) >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        # No batch_size: SQLite's backend splits each flush by its parameter limit.
        HourlySummary.objects.bulk_create(self.summaries)
        HourlyHealth.objects.bulk_create(self.healths)
        self.summaries, self.healths = [], []

    def close(self) -> None:
        self.flush()


SUMMARY_COPY_COLUMNS = (
    "deployment_id",
    "feature",
    "hour",
    "summary",
    "row_count",
    "digest",
    "profile_digest",
    "built_at",
)
HEALTH_COPY_COLUMNS = ("deployment_id", *HOURLY_FIELDS, "profile_digest", "built_at")
# Spooled COPY data kept in memory up to this size, then on disk.
SPOOL_BYTES = 64 * 1024 * 1024


class _CopyWriter(_Writer):
    """PostgreSQL: rows are written as CSV to spooled files as they are built (memory stays
    bounded) and sent at the end in one COPY per table, whatever the number of hours. The
    summary's canonical JSON (already made for its digest) is the stored jsonb text."""

    def __init__(self) -> None:
        super().__init__(flush_rows=0)
        self.built_at = timezone.now().isoformat()
        self.files = {
            model: tempfile.SpooledTemporaryFile(SPOOL_BYTES, mode="w+", newline="")  # noqa: SIM115
            for model in (HourlySummary, HourlyHealth)
        }
        self.writers = {model: csv.writer(file) for model, file in self.files.items()}

    def add(self, summaries: list[HourlySummary], health: HourlyHealth) -> None:
        write = self.writers[HourlySummary].writerow
        for row in summaries:
            write(
                (
                    row.deployment_id,
                    row.feature,
                    row.hour.isoformat(),
                    row.summary_text,  # type: ignore[attr-defined]
                    row.row_count,
                    row.digest,
                    row.profile_digest,
                    self.built_at,
                )
            )
        self.writers[HourlyHealth].writerow(
            [health.deployment_id, health.hour.isoformat()]
            + [_csv_value(getattr(health, name)) for name in HEALTH_COPY_COLUMNS[2:-1]]
            + [self.built_at]
        )
        self.hours += 1

    def close(self) -> None:
        columns = {HourlySummary: SUMMARY_COPY_COLUMNS, HourlyHealth: HEALTH_COPY_COLUMNS}
        with connection.cursor() as cursor:
            for model, file in self.files.items():
                if not file.tell():
                    continue
                file.seek(0)
                # An unquoted empty field is NULL; profile_digest may be an empty string.
                sql = (
                    f"COPY {model._meta.db_table} ({', '.join(columns[model])}) FROM STDIN "
                    "WITH (FORMAT csv, FORCE_NOT_NULL (profile_digest))"
                )
                with cursor.copy(sql) as copy:
                    while block := file.read(1 << 20):
                        copy.write(block)
                file.close()


def _csv_value(value: Any) -> Any:
    """None stays an unquoted empty field (NULL); floats keep their shortest exact text."""
    return repr(value) if isinstance(value, float) else value


def _ranges_condition(ranges: list[tuple[dt.datetime, dt.datetime]]) -> Q:
    condition = Q()
    for start, end in ranges:
        condition |= Q(timestamp__gte=start, timestamp__lt=end)
    return condition


# The COPY reader's column types: text stays text (a request id of digits is not a number),
# NULL is an unquoted empty field, booleans are PostgreSQL's t / f.
_COPY_TEXT = ("request_id", "features", "prediction_label", "status")
_COPY_FLOAT = ("prediction_score", "latency_ms", "cpu", "memory")


class _CopyStream:
    """A read-only file over a `COPY ... TO STDOUT` for pyarrow's streaming CSV reader."""

    def __init__(self, copy: Any) -> None:
        self.blocks = iter(copy)
        self.buffer = b""
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # Blocks are collected in a list and joined once: appending to bytes copies each time.
        parts = [self.buffer]
        held = len(self.buffer)
        while size < 0 or held < size:
            block = next(self.blocks, None)
            if block is None:
                break
            parts.append(bytes(block))
            held += len(block)
        data = b"".join(parts)
        if size < 0:
            size = len(data)
        self.buffer = data[size:]
        return data[:size]

    def close(self) -> None:
        self.closed = True


def _copy_frames(sql: str, params: list[Any], block_bytes: int) -> Iterator[pd.DataFrame]:
    """Frames (rows_frame's columns, features as JSON text) streamed from one COPY of `sql`,
    parsed by pyarrow's CSV reader, about `block_bytes` of CSV each."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = ["request_id", "timestamp_us", *EVENT_COLUMNS[2:]]
    types = {name: pa.string() for name in _COPY_TEXT} | {
        name: pa.float64() for name in _COPY_FLOAT
    }
    types |= {"timestamp_us": pa.int64(), "cache_hit": pa.bool_()}
    from psycopg import ClientCursor

    connection.ensure_connection()
    # Bound client-side: COPY takes no server-side parameters (nor does Django's debug cursor).
    query = ClientCursor(connection.connection).mogrify(sql, params)
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy,
    ):
        stream = _CopyStream(copy)
        probe = stream.read(1)
        if not probe:
            return  # no events in these hours (hours of posted summaries only)
        stream.buffer = probe + stream.buffer  # put the probed byte back
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, block_size=block_bytes),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
        for batch in reader:
            # Text and booleans as Python objects (None where NULL), as the ORM gives them:
            # no conversion to pandas' Arrow-backed strings, which costs more than it saves.
            columns = {
                name: pd.Series(
                    batch.column(name).to_numpy(zero_copy_only=False),
                    dtype=None if name in _COPY_FLOAT else object,
                    copy=False,
                )
                for name in names
                if name != "timestamp_us"
            }
            frame = pd.DataFrame(columns, columns=list(EVENT_COLUMNS))
            frame["timestamp"] = pd.to_datetime(
                batch.column("timestamp_us").to_numpy(), unit="us", utc=True
            )
            frame["hour"] = frame["timestamp"].dt.floor("h")
            yield frame


def _events_query(deployment: Deployment, runs: list[tuple[dt.datetime, dt.datetime]]) -> Any:
    return (
        PredictionEvent.objects.filter(_ranges_condition(runs), deployment=deployment)
        .order_by("timestamp", "id")
        # The features as JSON text, parsed by orjson: Django's per-row json.loads is most of
        # the read's time otherwise.
        .annotate(features_text=Cast("features", output_field=TextField()))
    )


def _raw_frames(
    deployment: Deployment, runs: list[tuple[dt.datetime, dt.datetime]], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The events of the runs in time order, as frames of about `chunk_rows` rows."""
    if connection.vendor == "postgresql":
        # extract() keeps the microseconds; the condition and order are those of the ORM path.
        columns = ["request_id", '(extract(epoch from "timestamp") * 1000000)::bigint']
        columns += ["features::text", *EVENT_COLUMNS[3:]]
        ranges = " OR ".join(['("timestamp" >= %s AND "timestamp" < %s)'] * len(runs))
        query = (
            f"SELECT {', '.join(columns)} FROM {PredictionEvent._meta.db_table} "  # noqa: S608
            f'WHERE deployment_id = %s AND ({ranges}) ORDER BY "timestamp", id'
        )
        params = [deployment.pk, *[moment for run in runs for moment in run]]
        # About 300 bytes of CSV per event.
        yield from _copy_frames(query, params, block_bytes=max(1 << 16, chunk_rows * 300))
        return
    events = _events_query(deployment, runs)
    rows = events.values_list(*[TEXT_COLUMN.get(name, name) for name in EVENT_COLUMNS]).iterator(
        chunk_size=chunk_rows
    )
    pending: list[tuple[Any, ...]] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= chunk_rows:
            yield rows_frame(pending)
            pending = []
    if pending:
        yield rows_frame(pending)


def events_chunks(
    deployment: Deployment, hours: list[dt.datetime], *, chunk_rows: int = READ_CHUNK
) -> Iterator[pd.DataFrame]:
    """The deployment's events in the given hours, in time order (then id), as frames of whole
    hours of at least `chunk_rows` events (except the last): `EVENT_COLUMNS` with `features`
    parsed into dicts, plus `hour`. One streamed statement per `RANGES_PER_QUERY` runs of
    consecutive hours (a `COPY` parsed by pyarrow on PostgreSQL), so memory follows
    `chunk_rows`, not the number of hours."""
    runs = hour_runs(sorted(set(hours)), limit=None)
    for offset in range(0, len(runs), RANGES_PER_QUERY):
        pending: list[pd.DataFrame] = []
        held = 0
        for frame in _raw_frames(deployment, runs[offset : offset + RANGES_PER_QUERY], chunk_rows):
            pending.append(frame)
            held += len(frame)
            if held < chunk_rows:
                continue
            # Yield the complete hours; the last one may still have events to come.
            whole = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            stamps = _hour_ints(whole)
            cut = int(np.searchsorted(stamps, stamps[-1], side="left"))
            if cut:
                yield _parsed(whole.iloc[:cut].reset_index(drop=True))
            pending = [whole.iloc[cut:].reset_index(drop=True)]
            held = len(pending[0])
        if held:
            yield _parsed(pd.concat(pending, ignore_index=True))


def _parsed(frame: pd.DataFrame) -> pd.DataFrame:
    frame["features"] = [_loads(text) for text in frame["features"]]
    return frame


def _hour_ints(frame: pd.DataFrame) -> np.ndarray:
    """The events' hours as int64 (no Timestamp objects)."""
    return frame["hour"].array.asi8


def _hour_bounds(frame: pd.DataFrame) -> list[tuple[int, int]]:
    """[start, end) positions of each hour in a frame ordered by time."""
    stamps = _hour_ints(frame)
    starts = np.flatnonzero(np.concatenate(([True], stamps[1:] != stamps[:-1])))
    ends = np.append(starts[1:], len(stamps))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


# With a progress callback, hours are read in slices of this many: a report (a write) cannot
# be made while a COPY streams on the connection.
PROGRESS_HOURS = 7 * 24


@transaction.atomic
def hours_build(
    deployment: Deployment,
    hours: list[dt.datetime],
    *,
    read_chunk: int = READ_CHUNK,
    flush_rows: int = FLUSH_ROWS,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Rebuild exactly the given hours, wherever they are in time: their rows are deleted
    (an hour without events keeps none), their events read in chunks of whole hours
    (`events_chunks`), each hour summarised, and the rows inserted in bulk (on PostgreSQL one
    COPY per table). With `progress`, the hours are read `PROGRESS_HOURS` at a time and the
    fraction done is reported after each slice. Returns the hours written."""
    hours = sorted(set(hours))
    if not hours:
        return 0
    profile = reference_profile_get_or_build(deployment.version)
    layouts = profile_layouts(profile)
    HourlySummary.objects.filter(deployment=deployment, hour__in=hours).delete()
    HourlyHealth.objects.filter(deployment=deployment, hour__in=hours).delete()
    writer = _CopyWriter() if connection.vendor == "postgresql" else _Writer(flush_rows)
    size = PROGRESS_HOURS if progress is not None else len(hours)
    for first in range(0, len(hours), size):
        part = hours[first : first + size]
        posted = posted_hours(deployment, part, profile.digest, layouts)
        _build_chunks(
            deployment, part, layouts, profile.digest, writer, read_chunk=read_chunk, posted=posted
        )
        # Hours of posted summaries and no events: their rows are the summaries alone.
        for hour in sorted(posted):
            writer.add(
                *_hour_rows(
                    deployment,
                    hour,
                    {},
                    np.empty(0, dtype=np.uint64),
                    layouts,
                    profile.digest,
                    empty_health(),
                    posted=posted.pop(hour),
                )
            )
        if progress is not None:
            progress(min(len(hours), first + size) / len(hours))
    writer.close()
    return writer.hours


def _build_chunks(
    deployment: Deployment,
    hours: list[dt.datetime],
    layouts: dict[str, Layout],
    profile_digest: str,
    writer: _Writer,
    *,
    read_chunk: int,
    posted: dict[dt.datetime, PostedHour],
) -> None:
    """Summarise the events of the hours chunk by chunk; an hour with posted summaries is
    merged with them and taken out of `posted` (what is left has no events)."""
    names = list(layouts)
    numeric = isinstance(layouts.get(PREDICTION_FEATURE), NumericLayout)
    for frame in events_chunks(deployment, hours, chunk_rows=read_chunk):
        features = feature_frame(frame, names, numeric_prediction=numeric)
        keys = row_keys(frame)
        bounds = _hour_bounds(frame)
        values = {name: features[name].to_numpy() for name in names}
        health = health_arrays(frame)
        stamps = [frame["hour"].iat[start].to_pydatetime() for start, _ in bounds]
        # Categorical features of plain labels: every hour of the chunk at once.
        built = {
            name: categorical_summaries(values[name], bounds, layout)
            for name, layout in layouts.items()
            if isinstance(layout, CategoricalLayout)
        }
        for index, (start, end) in enumerate(bounds):
            writer.add(
                *_hour_rows(
                    deployment,
                    stamps[index],
                    {name: column[start:end] for name, column in values.items()},
                    keys[start:end],
                    layouts,
                    profile_digest,
                    health_part(health, start, end),
                    {name: each[index] for name, each in built.items() if each is not None},
                    posted.pop(stamps[index], None),
                )
            )


def hour_runs(
    hours: list[dt.datetime], limit: int | None = 24
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted hours grouped into [start, end) ranges of consecutive hours, at most `limit`
    hours each, so a job rebuilds many hours with few queries and still reports progress."""
    runs: list[tuple[dt.datetime, dt.datetime]] = []
    for hour in sorted(hours):
        within = limit is None or (hour - runs[-1][0]) < limit * HOUR if runs else True
        if runs and runs[-1][1] == hour and within:
            runs[-1] = (runs[-1][0], hour + HOUR)
        else:
            runs.append((hour, hour + HOUR))
    return runs


def hours_to_build(
    deployment: Deployment, start: dt.datetime, end: dt.datetime, profile_digest: str
) -> list[dt.datetime]:
    """Hours in [start, end) whose stored rows are missing, count other than the events now
    stored plus the rows posted as summaries (late arrivals), or were built on another
    reference profile. Three queries."""
    built = dict(
        HourlyHealth.objects.filter(
            deployment=deployment, hour__gte=start, hour__lt=end, profile_digest=profile_digest
        ).values_list("hour", "count")
    )
    # An hour's rows count its events plus the rows posted as summaries.
    counts = dict(event_counts(deployment, start, end))
    for hour, n in posted_counts(deployment, start, end, profile_digest).items():
        counts[hour] = counts.get(hour, 0) + n
    return outdated_hours(list(counts.items()), built)


def event_counts(
    deployment: Deployment, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, int]]:
    """(hour, events stored) for every hour in [start, end) holding events. One query."""
    return list(
        PredictionEvent.objects.filter(
            deployment=deployment, timestamp__gte=start, timestamp__lt=end
        )
        .annotate(at=TruncHour("timestamp", tzinfo=dt.UTC))
        .order_by()
        .values("at")
        .annotate(n=Count("id"))
        .values_list("at", "n")
    )


def outdated_hours(
    counts: list[tuple[dt.datetime, int]], built: dict[dt.datetime, int]
) -> list[dt.datetime]:
    """The hours whose stored row is missing or counts other than the events stored now."""
    return sorted(hour for hour, n in counts if built.get(hour) != n)

"""Hourly rollups: each hour's events become one summary per feature and one health row.

Events are read in one query per call (`values_list`) into a pandas frame; the engines do the
arithmetic. Rows are written with `update_or_create` on their key, so a rebuild replaces
what was there: building the same hours twice leaves the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import orjson
import pandas as pd
from django.db import transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast, TruncHour

from monitoring.engines import summarize
from monitoring.engines.health import service_health
from monitoring.engines.summaries import Layout, NumericLayout
from monitoring.models import EventStatus, HourlyHealth, HourlySummary, PredictionEvent
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


def health_numbers(part: pd.DataFrame) -> dict[str, Any]:
    """The health row's figures for one hour's events (the engines' definitions)."""
    latency = pd.to_numeric(part["latency_ms"], errors="coerce").to_numpy(dtype=np.float64)
    errors = (part["status"] == EventStatus.ERROR).to_numpy()
    health = service_health(
        timestamps=part["timestamp"].dt.tz_localize(None).to_numpy(),
        latencies_ms=latency,
        errors=errors,
        cpu=pd.to_numeric(part["cpu"], errors="coerce").to_numpy(dtype=np.float64),
        memory=pd.to_numeric(part["memory"], errors="coerce").to_numpy(dtype=np.float64),
        window_seconds=HOUR.total_seconds(),
    )
    cache = part["cache_hit"]
    return {
        "count": health.count,
        "errors": int(errors.sum()),
        "latency_count": int(np.isfinite(latency).sum()),
        "latency_mean_ms": health.latency_mean_ms,
        "latency_p50_ms": health.latency_p50_ms,
        "latency_p95_ms": health.latency_p95_ms,
        "latency_p99_ms": health.latency_p99_ms,
        "cache_hits": int(cache.eq(True).sum()),
        "cache_reported": int(cache.notna().sum()),
        "cpu_mean": health.cpu_mean,
        "memory_mean": health.memory_mean,
    }


def _hour_rows(
    deployment: Deployment,
    hour: dt.datetime,
    part: pd.DataFrame,
    features: pd.DataFrame,
    keys: np.ndarray,
    layouts: dict[str, Layout],
    profile_digest: str,
) -> tuple[list[HourlySummary], HourlyHealth]:
    """One hour's summary rows (one per feature) and health row, not yet saved."""
    summaries = []
    for name, layout in layouts.items():
        summary = summarize(features[name].to_numpy(), layout, row_keys=keys)
        summaries.append(
            HourlySummary(
                deployment=deployment,
                feature=name,
                hour=hour,
                summary=summary.to_dict(),
                row_count=len(part),
                digest=summary.digest(),
                profile_digest=profile_digest,
            )
        )
    health = HourlyHealth(
        deployment=deployment, hour=hour, profile_digest=profile_digest, **health_numbers(part)
    )
    return summaries, health


@transaction.atomic
def summaries_build(deployment: Deployment, hour_start: dt.datetime, hour_end: dt.datetime) -> int:
    """Summarise every hour in [hour_start, hour_end) that holds events, on the layouts of the
    deployment's version's reference profile, replacing those hours' rows (one delete and two
    bulk inserts, whatever the number of hours). Returns the number of hours written."""
    profile = reference_profile_get_or_build(deployment.version)
    layouts = profile_layouts(profile)
    frame = events_frame(deployment, floor_hour(hour_start), hour_end)
    if frame.empty:
        return 0
    numeric = isinstance(layouts.get(PREDICTION_FEATURE), NumericLayout)
    features = feature_frame(frame, list(layouts), numeric_prediction=numeric)
    keys = row_keys(frame)
    groups = frame.groupby("hour").indices
    summaries: list[HourlySummary] = []
    healths: list[HourlyHealth] = []
    for hour, rows in groups.items():
        hour_summaries, health = _hour_rows(
            deployment,
            hour.to_pydatetime(),
            frame.iloc[rows],
            features.iloc[rows],
            keys[rows],
            layouts,
            profile.digest,
        )
        summaries.extend(hour_summaries)
        healths.append(health)
    hours = [health.hour for health in healths]
    HourlySummary.objects.filter(deployment=deployment, hour__in=hours).delete()
    HourlyHealth.objects.filter(deployment=deployment, hour__in=hours).delete()
    HourlySummary.objects.bulk_create(summaries, batch_size=500)
    HourlyHealth.objects.bulk_create(healths, batch_size=500)
    return len(groups)


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
        # No batch_size: PostgreSQL takes each flush in one INSERT; SQLite's backend splits
        # it by its parameter limit.
        HourlySummary.objects.bulk_create(self.summaries)
        HourlyHealth.objects.bulk_create(self.healths)
        self.summaries, self.healths = [], []


def _ranges_condition(ranges: list[tuple[dt.datetime, dt.datetime]]) -> Q:
    condition = Q()
    for start, end in ranges:
        condition |= Q(timestamp__gte=start, timestamp__lt=end)
    return condition


@transaction.atomic
def hours_build(
    deployment: Deployment,
    hours: list[dt.datetime],
    *,
    read_chunk: int = READ_CHUNK,
    flush_rows: int = FLUSH_ROWS,
) -> int:
    """Rebuild exactly the given hours, wherever they are in time: their rows are deleted
    (an hour without events keeps none), their events read in one streamed query per
    `RANGES_PER_QUERY` runs of consecutive hours, ordered by time, each hour summarised once
    all of its events are in, and the rows inserted in bulk. Returns the hours written."""
    hours = sorted(set(hours))
    if not hours:
        return 0
    profile = reference_profile_get_or_build(deployment.version)
    layouts = profile_layouts(profile)
    numeric = isinstance(layouts.get(PREDICTION_FEATURE), NumericLayout)
    HourlySummary.objects.filter(deployment=deployment, hour__in=hours).delete()
    HourlyHealth.objects.filter(deployment=deployment, hour__in=hours).delete()
    writer = _Writer(flush_rows)

    def build(rows: list[tuple[Any, ...]]) -> None:
        frame = rows_frame(rows)
        frame["features"] = [_loads(text) for text in frame["features"]]
        features = feature_frame(frame, list(layouts), numeric_prediction=numeric)
        keys = row_keys(frame)
        for hour, positions in frame.groupby("hour").indices.items():
            writer.add(
                *_hour_rows(
                    deployment,
                    hour.to_pydatetime(),
                    frame.iloc[positions],
                    features.iloc[positions],
                    keys[positions],
                    layouts,
                    profile.digest,
                )
            )

    runs = hour_runs(hours, limit=None)
    for offset in range(0, len(runs), RANGES_PER_QUERY):
        events = (
            PredictionEvent.objects.filter(
                _ranges_condition(runs[offset : offset + RANGES_PER_QUERY]),
                deployment=deployment,
            )
            .order_by("timestamp")
            # The features as JSON text, parsed by orjson above: Django's per-row json.loads
            # is most of the read's time otherwise.
            .annotate(features_text=Cast("features", output_field=TextField()))
            .values_list(*[TEXT_COLUMN.get(name, name) for name in EVENT_COLUMNS])
            .iterator(chunk_size=read_chunk)
        )
        pending: list[tuple[Any, ...]] = []
        due = read_chunk
        for row in events:
            pending.append(row)
            if len(pending) >= due:
                # Summarise the complete hours; the last one may still have events to come.
                last = floor_hour(pending[-1][1])
                cut = len(pending)
                while cut and floor_hour(pending[cut - 1][1]) == last:
                    cut -= 1
                if cut:
                    build(pending[:cut])
                    pending = pending[cut:]
                due = len(pending) + read_chunk
        if pending:
            build(pending)
    writer.flush()
    return writer.hours


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
    """Hours in [start, end) whose stored rows are missing, count fewer events than are now
    stored (late arrivals), or were built on another reference profile. Two queries."""
    counts = (
        PredictionEvent.objects.filter(
            deployment=deployment, timestamp__gte=start, timestamp__lt=end
        )
        .annotate(at=TruncHour("timestamp", tzinfo=dt.UTC))
        .order_by()
        .values("at")
        .annotate(n=Count("id"))
        .values_list("at", "n")
    )
    built = dict(
        HourlyHealth.objects.filter(
            deployment=deployment, hour__gte=start, hour__lt=end, profile_digest=profile_digest
        ).values_list("hour", "count")
    )
    return sorted(hour for hour, n in counts if built.get(hour) != n)

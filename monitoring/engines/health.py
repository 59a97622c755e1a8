"""Service health of a window from arrays of request timestamps, latencies and statuses.

Definitions: latency quantiles are `np.quantile(..., method="linear")` (numpy's default, type 7
of Hyndman and Fan) over the requests that report a latency; a request is an error when its
status is at least `error_status` (500: the service failed, not the caller) or its error flag
is set; requests per second are the count over the window length (or, without a window, over
the span from the first to the last request); rates and means ignore missing values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np

from monitoring.engines.metrics import by_window, epoch_seconds

QUANTILE_METHOD: Final = "linear"


@dataclass(frozen=True)
class HealthSummary:
    """Health figures of one window; a figure without data is None."""

    count: int
    requests_per_second: float | None
    latency_mean_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    error_rate: float | None
    cache_hit_rate: float | None
    cpu_mean: float | None
    memory_mean: float | None
    first_seen: float | None
    last_seen: float | None

    def seconds_since_last(self, now: float) -> float | None:
        """Seconds from the last request to `now` (epoch seconds)."""
        return None if self.last_seen is None else max(0.0, now - self.last_seen)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean(values: Any) -> float | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    return float(array.mean()) if array.size else None


def _errors(statuses: Any, errors: Any, error_status: int) -> np.ndarray | None:
    flags = None
    if statuses is not None:
        codes = np.asarray(statuses, dtype=np.float64)
        flags = codes >= error_status
    if errors is not None:
        flagged = np.asarray(errors, dtype=bool)
        flags = flagged if flags is None else flags | flagged
    return flags


def service_health(
    *,
    timestamps: Any,
    latencies_ms: Any = None,
    statuses: Any = None,
    errors: Any = None,
    cache_hits: Any = None,
    cpu: Any = None,
    memory: Any = None,
    window_seconds: float | None = None,
    error_status: int = 500,
) -> HealthSummary:
    """Health of the requests given (all arrays row-aligned with `timestamps`)."""
    seconds = epoch_seconds(timestamps)
    count = int(seconds.size)
    first = float(seconds.min()) if count else None
    last = float(seconds.max()) if count else None
    span = window_seconds or (last - first if last is not None and first is not None else 0.0)
    latency = None if latencies_ms is None else np.asarray(latencies_ms, dtype=np.float64)
    if latency is not None:
        latency = latency[~np.isnan(latency)]
    quantiles: list[float | None] = (
        [float(q) for q in np.quantile(latency, [0.5, 0.95, 0.99], method=QUANTILE_METHOD)]
        if latency is not None and latency.size
        else [None, None, None]
    )
    flags = _errors(statuses, errors, error_status)
    return HealthSummary(
        count=count,
        requests_per_second=count / span if span else None,
        latency_mean_ms=_mean(latency),
        latency_p50_ms=quantiles[0],
        latency_p95_ms=quantiles[1],
        latency_p99_ms=quantiles[2],
        error_rate=float(flags.mean()) if flags is not None and flags.size else None,
        cache_hit_rate=_mean(None if cache_hits is None else np.asarray(cache_hits, float)),
        cpu_mean=_mean(cpu),
        memory_mean=_mean(memory),
        first_seen=first,
        last_seen=last,
    )


def health_by_window(
    *, timestamps: Any, window_seconds: float = 86_400.0, **columns: Any
) -> list[tuple[float, HealthSummary]]:
    """`service_health` per aligned window (daily by default): [(window start, summary)].
    `columns` are the optional arrays of `service_health` (latencies_ms, statuses, ...)."""
    arrays = {k: None if v is None else np.asarray(v) for k, v in columns.items()}
    stamps = np.asarray(timestamps)

    def one(rows: np.ndarray) -> dict[str, Any]:
        picked: dict[str, Any] = {k: None if v is None else v[rows] for k, v in arrays.items()}
        health = service_health(timestamps=stamps[rows], window_seconds=window_seconds, **picked)
        return {"health": health}

    return [(start, out["health"]) for start, out in by_window(stamps, window_seconds, one)]


# --- rollups of hourly health rows ------------------------------------------------------------

# The fields of an hourly health row (monitoring.models.HourlyHealth) the rollups read.
HOURLY_FIELDS = (
    "hour",
    "count",
    "errors",
    "latency_count",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "cache_hits",
    "cache_reported",
    "cpu_mean",
    "memory_mean",
)
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class HealthRollup:
    """Hourly health rows summed over a span: counts and rates are exact; latency figures
    are the hours' own weighted by their latency counts, cpu and memory by their request
    counts, over the hours that report them (quantiles do not add up: an estimate)."""

    requests: int
    errors: int
    cache_hits: int
    cache_reported: int
    requests_per_second: float | None
    error_rate: float | None
    cache_hit_rate: float | None
    latency_mean_ms: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    cpu_mean: float | None
    memory_mean: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _weighted_mean(rows: Sequence[Mapping[str, Any]], value: str, weight: str) -> float | None:
    """Mean of `value` weighted by `weight`, over the rows that report a value and a weight."""
    known = [r for r in rows if r[value] is not None and r[weight]]
    return _ratio(sum(r[value] * r[weight] for r in known), sum(r[weight] for r in known))


def health_rollup(rows: Iterable[Mapping[str, Any]], seconds: float) -> HealthRollup:
    """Hourly health rows (mappings with `HOURLY_FIELDS`) rolled up over a span of `seconds`."""
    rows = list(rows)
    requests = sum(r["count"] for r in rows)
    errors = sum(r["errors"] for r in rows)
    cache_hits = sum(r["cache_hits"] for r in rows)
    cache_reported = sum(r["cache_reported"] for r in rows)
    return HealthRollup(
        requests=requests,
        errors=errors,
        cache_hits=cache_hits,
        cache_reported=cache_reported,
        requests_per_second=_ratio(requests, seconds),
        error_rate=_ratio(errors, requests),
        cache_hit_rate=_ratio(cache_hits, cache_reported),
        latency_mean_ms=_weighted_mean(rows, "latency_mean_ms", "latency_count"),
        latency_p50_ms=_weighted_mean(rows, "latency_p50_ms", "latency_count"),
        latency_p95_ms=_weighted_mean(rows, "latency_p95_ms", "latency_count"),
        latency_p99_ms=_weighted_mean(rows, "latency_p99_ms", "latency_count"),
        cpu_mean=_weighted_mean(rows, "cpu_mean", "count"),
        memory_mean=_weighted_mean(rows, "memory_mean", "count"),
    )


def daily_health(rows: Iterable[Mapping[str, Any]]) -> dict[dt.date, HealthRollup]:
    """`health_rollup` per UTC day of the rows' aware `hour`, for the days that have rows,
    in day order. The one derivation of daily health: API, dashboards and reports use it."""
    by_day: dict[dt.date, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["hour"].astimezone(dt.UTC).date(), []).append(row)
    return {day: health_rollup(by_day[day], DAY_SECONDS) for day in sorted(by_day)}

"""Service health of a window from arrays of request timestamps, latencies and statuses.

Definitions: latency quantiles are `np.quantile(..., method="linear")` (numpy's default, type 7
of Hyndman and Fan) over the requests that report a latency; a request is an error when its
status is at least `error_status` (500: the service failed, not the caller) or its error flag
is set; requests per second are the count over the window length (or, without a window, over
the span from the first to the last request); rates and means ignore missing values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from monitoring.engines.metrics import by_window, epoch_seconds

QUANTILE_METHOD = "linear"


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
    span = window_seconds if window_seconds else (last - first if count else 0.0)
    latency = None if latencies_ms is None else np.asarray(latencies_ms, dtype=np.float64)
    if latency is not None:
        latency = latency[~np.isnan(latency)]
    quantiles = (
        np.quantile(latency, [0.5, 0.95, 0.99], method=QUANTILE_METHOD)
        if latency is not None and latency.size
        else [None, None, None]
    )
    flags = _errors(statuses, errors, error_status)
    return HealthSummary(
        count=count,
        requests_per_second=count / span if span else None,
        latency_mean_ms=_mean(latency),
        latency_p50_ms=None if quantiles[0] is None else float(quantiles[0]),
        latency_p95_ms=None if quantiles[1] is None else float(quantiles[1]),
        latency_p99_ms=None if quantiles[2] is None else float(quantiles[2]),
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
        picked = {k: None if v is None else v[rows] for k, v in arrays.items()}
        health = service_health(timestamps=stamps[rows], window_seconds=window_seconds, **picked)
        return {"health": health}

    return [(start, out["health"]) for start, out in by_window(stamps, window_seconds, one)]

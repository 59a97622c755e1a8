"""Mergeable service-health figures of an hour: counts, sums and a latency sketch.

One hour's health is a *contribution*, a JSON-safe dict whose parts add up when two
contributions of the same hour are merged (events sent raw and summaries posted by several
sources). Steward builds it from raw events; a serving host or a Spark job builds the very same
dict from its own rows (`health_contribution`) and posts it beside the feature summaries.

Latency percentiles come from a log-bucket sketch: a latency x > `ZERO_MS` falls in bucket
i = ceil(log(x) / log(GAMMA)), whose representative value 2 * GAMMA**i / (GAMMA + 1) is within
a relative `RELATIVE_ERROR` (= (GAMMA - 1) / (GAMMA + 1), about 0.99 %) of every value in
the bucket; latencies at most `ZERO_MS` are counted apart and estimated as the hour's minimum.
A percentile is numpy's linear interpolation between the two order statistics around its
rank, each replaced by its bucket's value clamped to the hour's [min, max]: for positive
latencies the estimate is within `RELATIVE_ERROR` of the exact `np.quantile(...,
method="linear")` (plus `ZERO_MS` in absolute terms). Buckets merge by adding counts, so an
hour, a day or a month of posted hours keeps that bound.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

GAMMA = 1.02
RELATIVE_ERROR = (GAMMA - 1) / (GAMMA + 1)
ZERO_MS = 1e-3
QUANTILES = (0.5, 0.95, 0.99)
_LOG_GAMMA = math.log(GAMMA)


def _finite(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def latency_sketch(latencies_ms: Any) -> dict[str, Any]:
    """The sketch of the latencies given (NaN and infinities ignored)."""
    values = _finite(latencies_ms)
    positive = values[values > ZERO_MS]
    indexes = np.ceil(np.log(positive) / _LOG_GAMMA).astype(np.int64)
    found, counts = np.unique(indexes, return_counts=True)
    return {
        "count": int(values.size),
        "sum": float(values.sum()) if values.size else 0.0,
        "min": float(values.min()) if values.size else None,
        "max": float(values.max()) if values.size else None,
        "zero": int(values.size - positive.size),
        "buckets": {str(i): int(c) for i, c in zip(found.tolist(), counts.tolist(), strict=True)},
    }


def _moment(values: Any) -> dict[str, Any]:
    array = _finite(values)
    return {"count": int(array.size), "sum": float(array.sum()) if array.size else 0.0}


def health_contribution(
    *,
    count: int,
    errors: Any = None,
    latency_ms: Any = None,
    cache_hit: Any = None,
    cpu: Any = None,
    memory: Any = None,
) -> dict[str, Any]:
    """One hour's contribution from row-aligned arrays (each optional): `errors` booleans,
    `latency_ms` floats, `cache_hit` True / False / None (None: not reported), `cpu` and
    `memory` floats (NaN: not reported)."""
    hits = None if cache_hit is None else pd.Series(np.asarray(cache_hit, dtype=object))
    return {
        "count": int(count),
        "errors": 0 if errors is None else int(np.asarray(errors, dtype=bool).sum()),
        "latency": latency_sketch([] if latency_ms is None else latency_ms),
        "cache_hits": 0 if hits is None else int(hits.eq(True).sum()),
        "cache_reported": 0 if hits is None else int(hits.notna().sum()),
        "cpu": _moment([] if cpu is None else cpu),
        "memory": _moment([] if memory is None else memory),
    }


def _least(a: float | None, b: float | None, pick: Any) -> float | None:
    if a is None:
        return b
    return a if b is None else pick(a, b)


def merge_health(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The contribution of the union of the rows behind `a` and `b`."""
    la, lb = a["latency"], b["latency"]
    buckets = dict(la["buckets"])
    for index, n in lb["buckets"].items():
        buckets[index] = buckets.get(index, 0) + n
    return {
        "count": a["count"] + b["count"],
        "errors": a["errors"] + b["errors"],
        "latency": {
            "count": la["count"] + lb["count"],
            "sum": la["sum"] + lb["sum"],
            "min": _least(la["min"], lb["min"], min),
            "max": _least(la["max"], lb["max"], max),
            "zero": la["zero"] + lb["zero"],
            "buckets": buckets,
        },
        "cache_hits": a["cache_hits"] + b["cache_hits"],
        "cache_reported": a["cache_reported"] + b["cache_reported"],
        "cpu": {k: a["cpu"][k] + b["cpu"][k] for k in ("count", "sum")},
        "memory": {k: a["memory"][k] + b["memory"][k] for k in ("count", "sum")},
    }


def empty_health(count: int = 0) -> dict[str, Any]:
    """The contribution of `count` rows that reported nothing but themselves."""
    return health_contribution(count=count)


def sketch_quantiles(sketch: dict[str, Any], qs: tuple[float, ...] = QUANTILES) -> list[float]:
    """Estimated `np.quantile(latencies, qs, method="linear")` (see the module docstring)."""
    n = sketch["count"]
    if not n:
        return []
    low, high = sketch["min"], sketch["max"]
    order = sorted((int(i), c) for i, c in sketch["buckets"].items())
    edges = np.cumsum([sketch["zero"], *[c for _, c in order]])
    values = [low, *[2 * GAMMA**i / (GAMMA + 1) for i, _ in order]]

    def at(rank: int) -> float:
        slot = int(np.searchsorted(edges, rank, side="right"))
        return float(min(max(values[slot], low), high))

    out = []
    for q in qs:
        h = (n - 1) * q
        below = math.floor(h)
        lo, hi = at(below), at(min(below + 1, n - 1))
        out.append(lo + (h - below) * (hi - lo))
    return out


def _ratio(total: float, count: int) -> float | None:
    return total / count if count else None


def health_figures(contribution: dict[str, Any]) -> dict[str, Any]:
    """The fields of an hourly health row (count, errors, latency count / mean / p50 / p95 /
    p99, cache hits and reports, cpu and memory means) from a contribution."""
    latency = contribution["latency"]
    quantiles: list[float | None] = list(sketch_quantiles(latency)) or [None, None, None]
    return {
        "count": contribution["count"],
        "errors": contribution["errors"],
        "latency_count": latency["count"],
        "latency_mean_ms": _ratio(latency["sum"], latency["count"]),
        "latency_p50_ms": quantiles[0],
        "latency_p95_ms": quantiles[1],
        "latency_p99_ms": quantiles[2],
        "cache_hits": contribution["cache_hits"],
        "cache_reported": contribution["cache_reported"],
        "cpu_mean": _ratio(contribution["cpu"]["sum"], contribution["cpu"]["count"]),
        "memory_mean": _ratio(contribution["memory"]["sum"], contribution["memory"]["count"]),
    }


_BUCKET_KEY = re.compile(r"-?[0-9]+")


def _plain_buckets(buckets: dict[Any, Any]) -> bool:
    """Whether every bucket is an ASCII-decimal key with a non-negative integer count: the
    common case, checked with C-level passes instead of one Python call per bucket."""
    counts = buckets.values()
    return (
        set(map(type, buckets)) <= {str}
        and set(map(type, counts)) <= {int}
        and (not counts or min(counts) >= 0)
        and all(map(_BUCKET_KEY.fullmatch, buckets))
    )


def health_problems(data: Any, count: int) -> list[tuple[str, str]]:
    """(field, message) for everything wrong in a posted contribution of an hour of `count`
    rows; empty when it is well formed and consistent."""
    if not isinstance(data, dict):
        return [("", "must be an object")]
    problems: list[tuple[str, str]] = []

    def natural(path: str, value: Any) -> bool:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append((path, "must be a non-negative integer"))
            return False
        return True

    def number(path: str, value: Any, *, null: bool = False) -> None:
        if value is None and null:
            return
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            problems.append((path, "must be a finite number"))

    if data.get("count") != count:
        problems.append(("count", f"must equal the hour's count ({count})"))
    for name in ("errors", "cache_hits", "cache_reported"):
        if natural(name, data.get(name)) and data[name] > count:
            problems.append((name, f"exceeds the hour's count ({count})"))
    for name in ("cpu", "memory"):
        part = data.get(name)
        if not isinstance(part, dict):
            problems.append((name, "must be an object with count and sum"))
            continue
        if natural(f"{name}.count", part.get("count")) and part["count"] > count:
            problems.append((f"{name}.count", f"exceeds the hour's count ({count})"))
        number(f"{name}.sum", part.get("sum"))
    latency = data.get("latency")
    if not isinstance(latency, dict) or not isinstance(latency.get("buckets"), dict):
        problems.append(("latency", "must be a sketch (count, sum, min, max, zero, buckets)"))
        return problems
    ok = natural("latency.count", latency.get("count")) and natural(
        "latency.zero", latency.get("zero")
    )
    for key in ("sum", "min", "max"):
        number(f"latency.{key}", latency.get(key), null=key != "sum")
    buckets = latency["buckets"]
    if _plain_buckets(buckets):
        total = sum(buckets.values())
    else:
        total = 0
        for index, n in buckets.items():
            try:
                int(index)
            except ValueError:
                problems.append((f"latency.buckets.{index}", "bucket keys are integers"))
            if natural(f"latency.buckets.{index}", n):
                total += n
    if ok and total + latency["zero"] != latency["count"]:
        problems.append(("latency.count", "must equal zero plus the buckets' counts"))
    if ok and latency["count"] > count:
        problems.append(("latency.count", f"exceeds the hour's count ({count})"))
    return problems
